"""One kind, applied: run its raise and clear statements in one transaction, write the
`flag_raised` / `flag_cleared` events (the statements write them themselves on PostgreSQL),
create the alert rows and queue their sending after commit; retry a deadlock victim."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery

from core.lookups import ids_in
from licenses import consequences, events
from licenses.models import EventKind, LicenseApplication
from shipments.models import Shipment

from .. import alerts, flag_tallies
from ..models import ALERTING_FLAGS, APPLICATION_FLAGS, Alert, Flag, FlagKind
from .due import at_risk_late
from .horizons import Thresholds
from .statements import (
    DETAILS,
    candidates_query,
    clear_statement,
    detail_key,
    raise_statement,
    recorded_clear_statement,
    recorded_raise_statement,
    subject_column,
)

log = logging.getLogger(__name__)

INSERT_BATCH = 500


def _rows(statement: tuple[str, tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


@dataclass
class KindResult:
    kind: str
    raised: list[tuple[int, int, int]] = field(default_factory=list)  # (flag, subject, exporter)
    cleared: list[tuple[int, int, int]] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)


def apply_kind(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> KindResult:
    """Raise and clear one kind (for the `only` subjects, or those in `scope`, or all), write
    the events and the alerts, and queue the alerts after commit; see the package docstring.

    On PostgreSQL the raise and the clear are one statement each, which write their events in
    the same statement (`recorded_raise_statement`, `recorded_clear_statement`): the due
    subjects and what caused them never travel to Python and back."""
    result = KindResult(kind)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            result.raised = sorted(
                _rows(recorded_raise_statement(kind, th, only=only, scope=scope))
            )
            clear = clear_statement(kind, th, only=only, scope=scope)
            result.cleared = sorted(_rows(recorded_clear_statement(kind, clear, now=th.now)))
            events.written()  # the statements handed their events to the sinks (webhooks)
        else:
            candidates = {
                row["pk"]: row for row in candidates_query(kind, th, only=only, scope=scope)
            }
            pairs = [(pk, row["exporter_id"]) for pk, row in candidates.items()]
            for start in range(0, len(pairs), INSERT_BATCH):
                statement = raise_statement(kind, pairs[start : start + INSERT_BATCH], now=th.now)
                result.raised += _rows(statement)
            result.raised.sort()
            result.cleared = sorted(_rows(clear_statement(kind, th, only=only, scope=scope)))
            if result.raised or result.cleared:
                _write_events(kind, result, candidates, now=th.now)
        if result.raised and kind in ALERTING_FLAGS:
            result.alert_ids = alerts.create_alerts(
                kind=kind, flags=[(f, e) for f, _s, e in result.raised], now=th.now
            )
            alerts.queue_after_commit(result.alert_ids)
            if consequences.active():  # a preview counting what a write would set off
                consequences.report_alerts(
                    Alert.objects.filter(pk__in=result.alert_ids).values_list(
                        "recipient", flat=True
                    )
                )
        if result.raised or result.cleared:
            owners = _owners(kind, [*result.raised, *result.cleared])
            flag_tallies.record(
                kind,
                raised=owners[: len(result.raised)],
                cleared=owners[len(result.raised) :],
                now=th.now,
            )
        if kind in RANKED:
            rank(kind, th, only=only, scope=scope)
    consequences.report_flags(kind, raised=len(result.raised), cleared=len(result.cleared))
    return result


def _owners(kind: str, flags: Sequence[tuple[int, int, int]]) -> list[tuple[int, int | None]]:
    """(exporter, authority) of each (flag, subject, exporter): the application's authority for
    an application's kind (one query), none for a shipment's."""
    if kind not in APPLICATION_FLAGS:
        return [(exporter, None) for _f, _s, exporter in flags]
    authorities = dict(
        LicenseApplication.objects.order_by()
        .filter(ids_in("pk", {subject for _f, subject, _e in flags}))
        .values_list("pk", "authority_id")
    )
    return [(exporter, authorities[subject]) for _f, subject, exporter in flags]


# The shipment flags whose open rows keep what the work queue and the dashboard order them by
# (`Flag.deciding_date`, and for `at_risk` its lateness `Flag.late`), and where that date
# comes from.
RANKED: dict[str, str] = {
    FlagKind.AT_RISK: "planned_ship_date",
    FlagKind.LIKELY_LATE: "planned_ship_date",
    FlagKind.LICENSE_EXPIRES: "application__valid_until",
}


def rank(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> int:
    """Write what the open flags of `kind` (one of `RANKED`) of the shipments evaluated (the
    `only` ones, those in `scope`, or all) are ordered by, in one UPDATE: every change that can
    move a due date, a ship date or a license's end re-evaluates these kinds for its shipments
    (and `evaluate` ranks the flags that stay open), so the stored order follows them. Returns
    the number of flags written."""
    flags = Flag.objects.filter(kind=kind, cleared_at__isnull=True)
    if only is not None or scope is not None:
        shipments = Shipment.objects.order_by()
        if only is not None:
            shipments = shipments.filter(ids_in("pk", only))
        if scope is not None:
            shipments = shipments.filter(scope)
        flags = flags.filter(shipment__in=shipments.values("pk"))
    own = Shipment.objects.filter(pk=OuterRef("shipment_id"))
    deciding = Subquery(own.values(RANKED[kind]))
    if kind == FlagKind.AT_RISK:
        late = Subquery(own.annotate(late=at_risk_late(th)).values("late"))
        return flags.update(late=late, deciding_date=deciding)
    # only those whose date moved (or is not written yet)
    flags = flags.exclude(deciding_date=F(f"shipment__{RANKED[kind]}"))
    return flags.update(deciding_date=deciding)


def _write_events(
    kind: str, result: KindResult, candidates: dict[int, dict[str, Any]], *, now: dt.datetime
) -> None:
    """One event per raised or cleared flag on its subject's timeline; a raise keeps what
    caused it (e.g. the due date, the planned ship date and the last day to file)."""
    subject = subject_column(kind)
    rows = [
        events.flag_row(
            EventKind.FLAG_RAISED,
            subject=subject,
            subject_id=subject_id,
            flag=kind,
            flag_id=flag_id,
            now=now,
            details={
                detail_key(name): candidates.get(subject_id, {}).get(name) for name in DETAILS[kind]
            },
        )
        for flag_id, subject_id, _exporter in result.raised
    ]
    rows += [
        events.flag_row(
            EventKind.FLAG_CLEARED,
            subject=subject,
            subject_id=subject_id,
            flag=kind,
            flag_id=flag_id,
            now=now,
        )
        for flag_id, subject_id, _exporter in result.cleared
    ]
    events.bulk(rows)


def retrying(work: Callable[[], KindResult], attempts: int = 3) -> KindResult:
    """Run a kind again if PostgreSQL chose it as a deadlock victim (only possible when a move
    touches the same flag rows at the same moment) — never inside an outer transaction, which
    is then aborted and must fail as a whole."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if connection.in_atomic_block or attempt == attempts or "deadlock" not in str(exc):
                raise
            log.warning("Window scan: deadlock, retrying (%s)", exc)
    raise AssertionError("unreachable")
