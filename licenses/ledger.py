"""The balance of a general license and its ledger: every reservation, release and shipment
against it, in the order they changed the drawn totals, with the running balance. Read from
the drawdown events (`drawdown`, `drawdown_released`) in one query; nothing is stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from .events import payload
from .models import Event, EventKind, LicenseApplication, LicenseType

# What an entry was, for people; the codes are the API's `kind`.
ENTRY_KINDS = {
    "reserved": _("reserved"),
    "released": _("released"),
    "shipped": _("shipped"),
    "ship_undone": _("shipping undone"),
}


def remaining(application: LicenseApplication) -> tuple[Decimal | None, Decimal | None]:
    """What a general license has left: approved minus drawn, quantity and value (None, None
    for an individual license or before approval)."""
    if (
        application.license_type != LicenseType.GENERAL
        or application.approved_quantity is None
        or application.approved_value is None
    ):
        return None, None
    return (
        application.approved_quantity - application.drawn_quantity,
        application.approved_value - application.drawn_value,
    )


@dataclass(frozen=True)
class LedgerEntry:
    occurred_at: dt.datetime
    kind: str  # a key of ENTRY_KINDS
    shipment_id: int | None
    shipment: Any  # the shipment (for its reference and link), or None
    quantity: Decimal
    value: Decimal
    # approved minus drawn after the entry (None before approval)
    balance_quantity: Decimal | None
    balance_value: Decimal | None
    unit: str
    currency: str

    @property
    def label(self) -> str:
        return str(ENTRY_KINDS.get(self.kind, self.kind))


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def ledger(application: LicenseApplication) -> list[LedgerEntry]:
    """The entries of a general license's ledger, oldest first (none for an individual one).

    1. Read its drawdown events in the order they were written (the order under the license's
       lock in which they changed the drawn totals), with their shipments, in one query.
    2. Each event draws (`drawdown`) or gives back (`drawdown_released`) its `quantity` and
       `value`: the running drawn totals are their signed sum.
    3. The balance after an entry is today's approved quantity and value minus the drawn
       totals after it (None before approval), so the last balance is what is left now.
    4. Its kind: `shipped` when a shipment shipped (`move` "ship": the entry shows what
       shipped; the balance moves only by the difference from its reservation),
       `ship_undone` when that was undone, else `reserved` or `released`.
    """
    if application.license_type != LicenseType.GENERAL:
        return []
    rows = (
        Event.objects.filter(
            application=application,
            kind__in=[EventKind.DRAWDOWN, EventKind.DRAWDOWN_RELEASED],
        )
        .select_related("shipment")
        .order_by("id")
    )
    approved = application.approved_quantity, application.approved_value
    drawn_quantity = drawn_value = Decimal(0)
    entries = []
    for event in rows:
        data = payload(event)
        sign = -1 if event.kind == EventKind.DRAWDOWN_RELEASED else 1
        quantity, value = _decimal(data.get("quantity")), _decimal(data.get("value"))
        drawn_quantity += sign * quantity
        drawn_value += sign * value
        move = data.get("move")
        if move in ("ship", "ship_undone"):
            kind = "shipped" if move == "ship" else "ship_undone"
            quantity = _decimal(data.get("shipped_quantity"))
            value = _decimal(data.get("shipped_value"))
        else:
            kind = "released" if sign < 0 else "reserved"
        entries.append(
            LedgerEntry(
                occurred_at=event.occurred_at,
                kind=kind,
                shipment_id=event.shipment_id,
                shipment=event.shipment,
                quantity=quantity,
                value=value,
                balance_quantity=None if approved[0] is None else approved[0] - drawn_quantity,
                balance_value=None if approved[1] is None else approved[1] - drawn_value,
                unit=str(data.get("unit") or ""),
                currency=str(data.get("currency") or application.currency),
            )
        )
    return entries
