"""Keeping the stored forecasts (`LicenseApplication.forecast_*`) right, set-based.

`forecasts_refresh(now, authority_ids)` recomputes every forecast of the authorities named:

1. Read, in one query per authority, every application whose clock has started (day 0: its
   submission, or its acceptance where the clock starts there), with what its duration needs
   (status, the moments of the clock's start and of its decision or departure, its first
   item's id, its destination), and in one more query the pauses since its latest
   submission.
2. Count each duration (`licenses.forecasts.elapsed`, on the authority's calendar): a decision
   (`decided_at`: approved, or rejected, whatever happened to the license since) is an event;
   a pending application is censored at today (the authority's date); a withdrawn or returned
   one at the day it left (`last_moved_at`).
3. For each application whose clock runs (submitted, or accepted, with no open pause; not
   referred, which has no time limit), choose the most specific history holding 20 decisions
   (keyed by the first item and the destination), estimate its curve once per group, and turn
   the conditional p50 and p90 into dates (`add_days` from day 0, skipping the paused days).
4. Write only the rows whose stored forecast differs (one UPDATE per batch), and announce
   them (`signals.forecasts_changed`) so that the `likely_late` flags follow.

A move sends no forecast pass of its own: `forecasts_after_move` runs the pass for the
authority inline when it holds at most `FORECAST_INLINE_LIMIT` started applications, else
clears the moved application's own forecast if its clock stopped and queues the pass on commit
(a task), like a large fast-track decision. The daily job runs it for all (elapsed time moves
every pending forecast).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q

from core.lookups import ids_in

from .. import signals
from ..calendars import add_days
from ..clock import calendar_for, local_date
from ..forecasts import Survival, choose_level, conditional_quantiles, elapsed, kaplan_meier
from ..models import (
    PENDING_STATUSES,
    Authority,
    ClockPause,
    ClockStart,
    HistoryTally,
    LicenseApplication,
    Status,
)

S = Status
# Censored at the day they left.
LEFT = (S.WITHDRAWN, S.RETURNED)
# The clock runs (and a forecast is given) only in these, with no pause open.
RUNNING = (S.SUBMITTED, S.ACCEPTED)
FIELDS = (
    "forecast_p50",
    "forecast_p90",
    "forecast_level",
    "forecast_decided",
    "forecast_censored",
    "history_units",
)
NO_FORECAST: dict[str, Any] = {
    "forecast_p50": None,
    "forecast_p90": None,
    "forecast_level": "",
    "forecast_decided": None,
    "forecast_censored": None,
}
BATCH = 2000


def inline_limit() -> int:
    # About 0.1 ms per started application (bench_100k: BIS, 3,941 applications, 0.42 s): up to
    # a thousand, a move pays about a tenth of a second for the pass; beyond, a task does it.
    return int(getattr(settings, "FORECAST_INLINE_LIMIT", 1000))


@dataclass
class Record:
    pk: int
    status: str
    start: dt.date
    pauses: list[tuple[dt.date, dt.date | None]]
    item: int | None
    destination: str
    duration: int
    decided: bool
    stored: tuple[Any, ...]


def _started(authority: Authority) -> Q:
    if authority.clock_starts == ClockStart.ACCEPTED:
        return Q(accepted_at__isnull=False)
    return Q(submitted_at__isnull=False)


def _history(authority: Authority, *, now: dt.datetime) -> list[Record]:
    """Step 1 and 2: every started application of the authority with its duration."""
    tz = authority.tz
    today = local_date(now, tz)
    calendar = calendar_for(authority)
    unit = authority.window_unit
    rows = list(
        LicenseApplication.objects.filter(_started(authority), authority=authority)
        .exclude(status=S.DRAFT)
        .annotate(first_item=Min("items__id"))
        .values(
            "pk",
            "status",
            "submitted_at",
            "accepted_at",
            "decided_at",
            "last_moved_at",
            "destination",
            "first_item",
            *FIELDS,
        )
        .order_by()
    )
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for app_id, requested, provided in (
        ClockPause.objects.filter(application__authority=authority)
        .values_list("application_id", "requested_at", "provided_at")
        .order_by()
    ):
        pauses[app_id].append((requested, provided))
    at_acceptance = authority.clock_starts == ClockStart.ACCEPTED
    records = []
    for row in rows:
        started = row["accepted_at"] if at_acceptance else row["submitted_at"]
        submitted = row["submitted_at"] or started
        local_pauses = [
            (local_date(a, tz), local_date(b, tz) if b else None)
            for a, b in pauses.get(row["pk"], ())
            if a >= submitted  # a resubmission starts the clock afresh
        ]
        decided = row["decided_at"] is not None
        if decided:
            end = local_date(row["decided_at"], tz)
        elif row["status"] in PENDING_STATUSES:
            end = today
        elif row["status"] in LEFT:
            end = local_date(row["last_moved_at"], tz)
        else:  # e.g. an approval undone into a state with no decision: not history
            continue
        start = local_date(started, tz)
        records.append(
            Record(
                pk=row["pk"],
                status=row["status"],
                start=start,
                pauses=local_pauses,
                item=row["first_item"],
                destination=row["destination"],
                duration=elapsed(
                    calendar=calendar, start=start, end=end, unit=unit, pauses=local_pauses
                ),
                decided=decided,
                stored=tuple(row[f] for f in FIELDS),
            )
        )
    return records


def _group_keys(record: Record) -> dict[str, tuple[Any, ...]]:
    return {
        "destination": (record.item, record.destination),
        "item": (record.item,),
        "authority": (),
    }


def compute(
    authority: Authority, *, now: dt.datetime, records: list[Record] | None = None
) -> dict[int, dict[str, Any]]:
    """Step 3: the forecast of every started application of the authority (no forecast for
    those whose clock does not run), by application id."""
    if records is None:
        records = _history(authority, now=now)
    calendar = calendar_for(authority)
    unit = authority.window_unit
    members: dict[tuple[str, tuple[Any, ...]], list[Record]] = defaultdict(list)
    for record in records:
        for group_level, key in _group_keys(record).items():
            members[(group_level, key)].append(record)
    decided = {group: sum(r.decided for r in rs) for group, rs in members.items()}
    curves: dict[tuple[str, tuple[Any, ...]], Survival] = {}
    result: dict[int, dict[str, Any]] = {}
    for record in records:
        running = record.status in RUNNING and all(b is not None for _a, b in record.pauses)
        keys = _group_keys(record)
        level = choose_level({lvl: decided[(lvl, key)] for lvl, key in keys.items()})
        if not running or level is None:
            result[record.pk] = {**NO_FORECAST, "history_units": record.duration}
            continue
        group = (level, keys[level])
        if group not in curves:
            curves[group] = kaplan_meier((r.duration, r.decided) for r in members[group])
        curve = curves[group]
        p50, p90 = conditional_quantiles(curve, record.duration)

        def day(units: int | None, record: Record = record) -> dt.date | None:
            if units is None:
                return None
            return add_days(
                calendar=calendar, start=record.start, n=units, unit=unit, pauses=record.pauses
            )

        result[record.pk] = {
            "forecast_p50": day(p50),
            "forecast_p90": day(p90),
            "forecast_level": level,
            "forecast_decided": curve.decided,
            "forecast_censored": curve.censored,
            "history_units": record.duration,
        }
    return result


def forecasts_refresh(*, now: dt.datetime, authority_ids: Iterable[int] | None = None) -> list[int]:
    """Recompute and store the forecasts of the authorities named (all by default); returns
    the ids of the applications whose stored forecast changed."""
    authorities = Authority.objects.order_by("pk")
    if authority_ids is not None:
        authorities = authorities.filter(pk__in=sorted(set(authority_ids)))
    changed: list[int] = []
    for authority in authorities:
        with transaction.atomic():
            records = _history(authority, now=now)
            stored = {r.pk: r.stored for r in records}
            wanted = compute(authority, now=now, records=records)
            rows = [
                (pk, values)
                for pk, values in wanted.items()
                if tuple(values[f] for f in FIELDS) != stored.get(pk)
            ]
            # Applications no longer in the history (an acceptance undone) keep nothing of it.
            stale = (
                LicenseApplication.objects.filter(authority=authority)
                .filter(~Q(forecast_level="") | Q(history_units__isnull=False))
                .exclude(ids_in("pk", wanted))
                .values_list("pk", flat=True)
            )
            rows += [(pk, {**NO_FORECAST, "history_units": None}) for pk in stale]
            ids = _write(rows)
            tally_history(authority.pk)
            signals.history_tallied.send(
                sender=LicenseApplication, authority_id=authority.pk, now=now
            )
            if ids:
                signals.forecasts_changed.send(
                    sender=LicenseApplication, application_ids=ids, now=now
                )
            changed += ids
    return changed


def tally_history(authority_id: int) -> None:
    """Replace the authority's history tallies (`HistoryTally`) with a count of its
    applications by stored duration, decided or not, and refused: per exporter, and for all
    exporters together. Called by the pass after it wrote the durations, in its transaction."""
    counted = (
        LicenseApplication.objects.filter(authority_id=authority_id, history_units__isnull=False)
        .order_by()
        .annotate(
            has_decision=ExpressionWrapper(Q(decided_at__isnull=False), output_field=BooleanField())
        )
        .values_list("exporter_id", "history_units", "has_decision")
        .annotate(n=Count("*"), rejected=Count("pk", filter=Q(status=Status.REJECTED)))
    )
    rows: list[HistoryTally] = []
    everyone: dict[tuple[int, bool], list[int]] = defaultdict(lambda: [0, 0])
    for exporter_id, units, decided, n, rejected in counted:
        rows.append(
            HistoryTally(
                authority_id=authority_id,
                exporter_id=exporter_id,
                units=units,
                decided=decided,
                n=n,
                rejected=rejected,
            )
        )
        total = everyone[(units, decided)]
        total[0] += n
        total[1] += rejected
    rows += [
        HistoryTally(authority_id=authority_id, units=u, decided=d, n=n, rejected=r)
        for (u, d), (n, r) in everyone.items()
    ]
    HistoryTally.objects.filter(authority_id=authority_id).delete()
    HistoryTally.objects.bulk_create(rows, batch_size=BATCH)


# PostgreSQL: one UPDATE joining the new values as arrays (bulk_update's CASE per row grows
# with the batch and costs seconds at tens of thousands of rows).
WRITE = """
UPDATE licenses_licenseapplication a SET
  forecast_p50 = v.p50, forecast_p90 = v.p90, forecast_level = v.level,
  forecast_decided = v.decided, forecast_censored = v.censored, history_units = v.units
FROM unnest(%s::integer[], %s::date[], %s::date[], %s::varchar[], %s::integer[],
            %s::integer[], %s::integer[]) AS v(id, p50, p90, level, decided, censored, units)
WHERE a.id = v.id
"""


LOCK = """
SELECT id FROM licenses_licenseapplication WHERE id = ANY(%s::integer[])
ORDER BY id FOR UPDATE SKIP LOCKED
"""


def _write(rows: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Store the new values; returns the ids written.

    On PostgreSQL the rows are first locked with SKIP LOCKED and only those are written: a
    pass run inline by one move must never wait for a row another move holds (two moves at
    the same authority, each holding its own application and refreshing the other's, would
    deadlock). A row skipped belongs to a move in progress, whose own pass refreshes it; the
    next pass or the nightly one settles anything left."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        LicenseApplication.objects.bulk_update(
            [LicenseApplication(pk=pk, **values) for pk, values in rows], FIELDS, batch_size=BATCH
        )
        return [pk for pk, _values in rows]
    with connection.cursor() as cursor:
        cursor.execute(LOCK, [[pk for pk, _values in rows]])
        free = {pk for (pk,) in cursor.fetchall()}
        rows = [(pk, values) for pk, values in rows if pk in free]
        columns = [[pk for pk, _v in rows]] + [[values[f] for _pk, values in rows] for f in FIELDS]
        cursor.execute(WRITE, columns)
    return [pk for pk, _values in rows]


_deferral = threading.local()


@contextmanager
def forecasts_deferred() -> Iterator[None]:
    """A bulk load (the demo writing two years of history move by move): the moves inside run
    no forecast pass; the caller runs one at the end (`forecasts_refresh`)."""
    previous = getattr(_deferral, "on", False)
    _deferral.on = True
    try:
        yield
    finally:
        _deferral.on = previous


def forecasts_after_move(*, application: LicenseApplication, now: dt.datetime) -> None:
    """A move changed the history of the application's authority (a decision, a withdrawal)
    or its own clock (a pause, a submission): refresh the authority's forecasts inline when it
    is small enough, else clear the application's own forecast if its clock stopped and queue
    the pass on commit."""
    if getattr(_deferral, "on", False):
        return
    authority = application.authority
    limit = inline_limit()
    started = LicenseApplication.objects.filter(_started(authority), authority=authority)
    # Count no further than the limit: at a large authority the answer is only "more".
    if started.order_by().values("pk")[: limit + 1].count() <= limit:
        forecasts_refresh(now=now, authority_ids=[authority.pk])
        return
    if application.status not in RUNNING and application.forecast_level:
        LicenseApplication.objects.filter(pk=application.pk).update(**NO_FORECAST)
        signals.forecasts_changed.send(
            sender=LicenseApplication, application_ids=[application.pk], now=now
        )
    from ..tasks import refresh_forecasts

    authority_id, moment = authority.pk, now.isoformat()
    transaction.on_commit(lambda: refresh_forecasts.delay([authority_id], moment), robust=True)
