"""Events: every kind defined once (`kinds`), written only here (`write`)."""

from .kinds import KINDS, Describer, KindDefinition, check_data, describe, payload
from .write import (
    assigned,
    bulk,
    change_in_days,
    correction,
    created,
    document_added,
    drawdown,
    due_date_change,
    edited,
    flag_data_sql,
    flag_row,
    flag_source,
    linked_insert,
    shipments_followed,
    status_changed,
)

__all__ = [
    "KINDS",
    "Describer",
    "KindDefinition",
    "assigned",
    "bulk",
    "change_in_days",
    "check_data",
    "correction",
    "created",
    "describe",
    "document_added",
    "drawdown",
    "due_date_change",
    "edited",
    "flag_data_sql",
    "flag_row",
    "flag_source",
    "linked_insert",
    "payload",
    "shipments_followed",
    "status_changed",
]
