"""The window scan: raise and clear flags, set-based, idempotent and safe to run concurrently.

The cousin of healthchecks' `sendalerts`: every deadline the scan compares with is a stored,
indexed column (`LicenseApplication.due_at`, `.valid_until`, `Shipment.file_by_at`), each kind
of flag is one query that says which subjects are *due* now (`due_applications`,
`due_shipments`), and a partial unique constraint (one open flag per subject and kind) makes a
second scan, or a second worker, a no-op.

Flags and their causes (`now` is passed in; "today" is the authority's local date):

- `overdue` — a pending application (submitted, accepted, information requested) whose
  `due_at` has passed. While information is requested `due_at` is empty, so it is not overdue.
  Before acceptance at an authority whose clock starts there, `due_at` is the acceptance
  deadline: missing it is overdue too.
- `due_soon` — a pending application not yet overdue whose due date is within
  `ScanSettings.due_soon_working_days` working days of today on its authority's calendar
  (the threshold is computed once per authority with `licenses.calendars`, never by walking
  days). An application becoming overdue leaves `due_soon`.
- `expiring` — an approved license whose `valid_until` is within
  `ScanSettings.expiring_within_days` calendar days of today, with at least one shipment still
  to ship under it (planned, awaiting license, cleared or on hold). An exhausted license is
  left out: nothing more can be drawn on it.
- `at_risk` — a shipment before shipping (planned, awaiting license or cleared) whose
  application is pending and due *after* the shipment's planned ship date (the due date is the
  local day `due_at` ends, in the authority's time zone). Decisions:
  * `on_hold`: a held shipment is out of the flow by the officer's choice and its ship date is
    not live, so it is neither `at_risk` nor `file_by`; its flags clear when it is held and
    are re-evaluated when it is released.
  * `info_requested`: the clock is stopped and there is no due date to compare. A pause can
    only move a due date later, so an open `at_risk` flag stays open while information is
    requested (it is not cleared and raised again, which would notify twice for one cause);
    none is raised until the information is provided and the due date is known again.
  * before acceptance (MOFCOM) the due date is the acceptance deadline, as the specification
    defines it; the full window is compared once the application is accepted.
- `file_by` — a shipment in state `planned` (no application in force: none, a draft, or one
  that was rejected, withdrawn or expired) whose last day to file (`file_by_date`) has ended.
  The last day to file counts back from the planned ship date the window that would govern it
  (`licenses.clock.governing_window` on an unsaved application built from the shipment's
  exporter, item and destination, with the license type of its draft application, else
  individual) and, where the clock starts at acceptance, the acceptance window before that
  (`licenses.calendars.subtract_days`, in the authority's unit). It is stored on the shipment
  (`file_by_date`, and `file_by_at`, the instant that day ends, behind a partial index) and
  recomputed whenever an input changes — see `refresh_file_by`.

Algorithm of one kind (`_apply`), in one transaction:

1. Raise: read the due subjects that carry no open flag of the kind (`candidates_query`, with
   what caused it), then ``INSERT INTO flag … VALUES … ON CONFLICT DO NOTHING RETURNING id``:
   concurrent scans queue on the partial unique index and the loser inserts nothing, so the
   RETURNING rows are exactly the flags this run raised.
2. Clear: ``UPDATE flag SET cleared_at = now WHERE <open> AND subject NOT IN <those of the
   flagged subjects that are still due> RETURNING id``: a compare-and-set on
   `cleared_at IS NULL`; a concurrent clear of the same row re-checks it after the first
   commits and updates nothing.
3. One `flag_raised` / `flag_cleared` event per returned row on the subject's timeline.
4. For the kinds that alert (`overdue`, `at_risk`, `file_by`), the alert rows (the outbox, one
   per recipient) in the same transaction, and their sending queued after commit.

The same functions re-evaluate a few subjects inside the transaction of a move or of new due
dates (`evaluate`, called from `monitoring.receivers`); `scan` runs every kind for everything.
Both work on PostgreSQL and on SQLite (3.35+, which has RETURNING and ON CONFLICT).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan

from core.errors import ConcurrentUpdate, DomainError, IllegalMove
from core.lookups import ids_in
from licenses.calendars import WORKING, add_days, subtract_days
from licenses.clock import (
    AuthorityContext,
    authority_context,
    calendar_for,
    end_of_day,
    governing_window,
    local_date,
)
from licenses.models import (
    PENDING_STATUSES,
    Authority,
    CalendarDay,
    ClockStart,
    ControlledItem,
    Event,
    EventKind,
    LicenseApplication,
    LicenseType,
    Status,
)
from licenses.services import application_expire
from shipments.models import Shipment, ShipmentStatus

from . import alerts
from .models import (
    ALERTING_FLAGS,
    APPLICATION_FLAGS,
    SHIPMENT_FLAGS,
    Flag,
    FlagKind,
    ScanSettings,
)

log = logging.getLogger(__name__)

SS = ShipmentStatus
# Shipments still in the flow before shipping (`on_hold` deliberately absent, see above).
BEFORE_SHIPPING = (SS.PLANNED, SS.AWAITING_LICENSE, SS.CLEARED)
# Shipments still to ship under a license (`expiring`): held ones still need the license.
TO_SHIP = (*BEFORE_SHIPPING, SS.ON_HOLD)
# Order of a full scan: applications first, so that the e-mails read in causal order.
KINDS = (*APPLICATION_FLAGS, *SHIPMENT_FLAGS)
# The kinds an application's due date decides (`expiring` and `file_by` do not read it).
DUE_DATE_KINDS = (FlagKind.OVERDUE, FlagKind.DUE_SOON, FlagKind.AT_RISK)
ONE_MICROSECOND = dt.timedelta(microseconds=1)


# --- thresholds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorityDay:
    """One authority's view of `now`: its local date and the deadlines derived from it."""

    authority: Authority
    today: dt.date
    due_soon_until: dt.datetime  # a pending application due at or before this is due soon
    expiring_until: dt.date  # an approved license valid until this day or earlier is expiring


@dataclass(frozen=True)
class Thresholds:
    now: dt.datetime
    due_soon_working_days: int
    expiring_within_days: int
    authorities: tuple[AuthorityDay, ...]


@dataclass(frozen=True)
class ThresholdInputs:
    """What the thresholds are computed from (three queries): the scan settings (with the
    previous scan's moment), the authorities and the days administrators added."""

    settings: ScanSettings
    authorities: list[Authority]
    added: dict[int, list[CalendarDay]]

    @classmethod
    def read(cls) -> ThresholdInputs:
        settings_row = ScanSettings.objects.filter(pk=1).first() or ScanSettings()
        authorities = list(Authority.objects.order_by("pk"))
        added: dict[int, list[CalendarDay]] = defaultdict(list)
        for day in CalendarDay.objects.filter(authority__in=authorities):
            added[day.authority_id].append(day)
        return cls(settings_row, authorities, added)


def thresholds(*, now: dt.datetime, inputs: ThresholdInputs | None = None) -> Thresholds:
    """Compute each authority's thresholds (reading their inputs unless given)."""
    inputs = inputs or ThresholdInputs.read()
    settings_row, authorities, added = inputs.settings, inputs.authorities, inputs.added
    rows = []
    for authority in authorities:
        tz = authority.tz
        today = local_date(now, tz)
        calendar = calendar_for(authority, added[authority.pk])
        soon = add_days(
            calendar=calendar, start=today, n=settings_row.due_soon_working_days, unit=WORKING
        )
        assert soon is not None  # no pauses given
        rows.append(
            AuthorityDay(
                authority=authority,
                today=today,
                due_soon_until=end_of_day(soon, tz),
                expiring_until=today + dt.timedelta(days=settings_row.expiring_within_days),
            )
        )
    return Thresholds(
        now=now,
        due_soon_working_days=settings_row.due_soon_working_days,
        expiring_within_days=settings_row.expiring_within_days,
        authorities=tuple(rows),
    )


# --- what is due -----------------------------------------------------------------------------


def _any_of(conditions: Iterable[Any]) -> Q | None:
    combined: Q | None = None
    for condition in conditions:
        condition = condition if isinstance(condition, Q) else Q(condition)
        combined = condition if combined is None else combined | condition
    return combined


def due_applications(kind: str, th: Thresholds) -> QuerySet[LicenseApplication]:
    """The applications that should carry an open flag of `kind` now. Each query matches a
    partial index: `application_pending_due` or `application_approved_valid`."""
    qs = LicenseApplication.objects.order_by()
    if kind == FlagKind.OVERDUE:
        return qs.filter(status__in=PENDING_STATUSES, due_at__lte=th.now)
    if kind == FlagKind.DUE_SOON:
        per_authority = _any_of(
            Q(authority_id=a.authority.pk, due_at__lte=a.due_soon_until) for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        latest = max(a.due_soon_until for a in th.authorities)
        return qs.filter(
            per_authority, status__in=PENDING_STATUSES, due_at__gt=th.now, due_at__lte=latest
        )
    if kind == FlagKind.EXPIRING:
        per_authority = _any_of(
            Q(authority_id=a.authority.pk, valid_until__lte=a.expiring_until)
            for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        latest_day = max(a.expiring_until for a in th.authorities)
        still_to_ship = Shipment.objects.filter(application=OuterRef("pk"), status__in=TO_SHIP)
        return qs.filter(
            per_authority,
            Exists(still_to_ship),
            status=Status.APPROVED,
            valid_until__lte=latest_day,
        )
    raise ValueError(f"not an application flag: {kind}")


def due_shipments(kind: str, th: Thresholds) -> QuerySet[Shipment]:
    """The shipments that should carry an open flag of `kind` now."""
    qs = Shipment.objects.order_by()
    if kind == FlagKind.AT_RISK:
        # The due date is the local day `due_at` ends in the application's authority's zone.
        due_instant = ExpressionWrapper(
            F("application__due_at") - V(ONE_MICROSECOND), output_field=DateTimeField()
        )
        per_authority = _any_of(
            Q(application__authority_id=a.authority.pk)
            & Q(GreaterThan(TruncDate(due_instant, tzinfo=a.authority.tz), F("planned_ship_date")))
            for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        return qs.filter(
            per_authority,
            status__in=BEFORE_SHIPPING,
            application__status__in=PENDING_STATUSES,
            application__due_at__isnull=False,
        )
    if kind == FlagKind.FILE_BY:
        return qs.filter(status=SS.PLANNED, file_by_at__lte=th.now)
    raise ValueError(f"not a shipment flag: {kind}")


def kept_shipments(kind: str) -> QuerySet[Shipment] | None:
    """Subjects whose open flag of `kind` stays open although they are not due: an `at_risk`
    shipment whose application waits on information (a pause never makes it safer)."""
    if kind == FlagKind.AT_RISK:
        return Shipment.objects.order_by().filter(
            status__in=BEFORE_SHIPPING, application__status=Status.INFO_REQUESTED
        )
    return None


def due_queryset(kind: str, th: Thresholds) -> QuerySet:
    return due_applications(kind, th) if kind in APPLICATION_FLAGS else due_shipments(kind, th)


# --- the statements --------------------------------------------------------------------------

# What the timeline keeps about the cause of a raised flag (read with the due subjects).
DETAILS: dict[str, tuple[str, ...]] = {
    FlagKind.OVERDUE: ("status", "due_at"),
    FlagKind.DUE_SOON: ("status", "due_at"),
    FlagKind.EXPIRING: ("valid_until",),
    FlagKind.AT_RISK: ("planned_ship_date", "application_id", "application__due_at"),
    FlagKind.FILE_BY: ("planned_ship_date", "file_by_date"),
}
INSERT_BATCH = 500


def _subject_column(kind: str) -> str:
    return "application_id" if kind in APPLICATION_FLAGS else "shipment_id"


def _open_flags(kind: str) -> QuerySet[Flag]:
    return Flag.objects.filter(kind=kind, cleared_at__isnull=True)


def candidates_query(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> QuerySet:
    """The due subjects of `kind` that carry no open flag of it yet, with what the timeline
    keeps about the cause: the raise's read (its NOT EXISTS uses the open-flag unique index).
    `only` (ids) or `scope` (a condition on the subject) narrows the subjects looked at."""
    column = _subject_column(kind)
    due = due_queryset(kind, th)
    if only is not None:
        due = due.filter(ids_in("pk", only))
    if scope is not None:
        due = due.filter(scope)
    flagged = _open_flags(kind).filter(**{column: OuterRef("pk")})
    return due.filter(~Exists(flagged)).values("pk", "exporter_id", *DETAILS[kind]).order_by("pk")


def raise_statement(
    kind: str, rows: Sequence[tuple[int, int]], *, now: dt.datetime
) -> tuple[str, tuple[Any, ...]]:
    """INSERT open flags for (subject, exporter) rows; a row whose open flag exists by now (a
    concurrent scan committed it, or is committing it: we wait for it on the unique index) is
    skipped. RETURNING (id, subject, exporter) of the flags this statement raised."""
    table, column = Flag._meta.db_table, _subject_column(kind)
    if connection.vendor == "postgresql":
        # All rows in one statement with one parameter (a JSON array): no per-row placeholders
        # to build, quote and parse; inserted in subject order, like the batches below.
        return (
            f"INSERT INTO {table} ({column}, exporter_id, kind, raised_at) "
            "SELECT (e->>0)::bigint, (e->>1)::bigint, %s, %s "
            "FROM jsonb_array_elements(%s::jsonb) AS e ORDER BY 1 "
            f"ON CONFLICT DO NOTHING RETURNING id, {column}, exporter_id",
            (kind, now, json.dumps(list(rows))),
        )
    moment = connection.ops.adapt_datetimefield_value(now)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for subject_id, exporter_id in rows:
        params += [subject_id, exporter_id, kind, moment]
    sql = (
        f"INSERT INTO {table} ({column}, exporter_id, kind, raised_at) VALUES {values} "
        f"ON CONFLICT DO NOTHING RETURNING id, {column}, exporter_id"
    )
    return sql, tuple(params)


# The columns of a system event that the scan writes (besides its kind, subject and data).
_EVENT_COLUMNS = "occurred_at, recorded_at, data, from_status, to_status, note"


def _detail_sql(model: Any, name: str, column: str) -> str:
    """SQL turning the detail `name` (a field of `model`, possibly across a relation) read as
    `column` into the JSON value `_write_events` stores: a date or an instant as its ISO
    text, exactly as Python's `isoformat()` writes it (an instant in UTC, its microseconds
    only when there are some)."""
    field = None
    for part in name.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    internal = field.get_internal_type() if field is not None else ""
    if internal == "DateTimeField":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"to_jsonb(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN to_char({utc}, 'US') = '000000' THEN '' "
            f"ELSE '.' || to_char({utc}, 'US') END || '+00:00')"
        )
    if internal == "DateField":
        return f"to_jsonb(to_char({column}, 'YYYY-MM-DD'))"
    return f"to_jsonb({column})"


def recorded_raise_statement(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: the raise of `kind` as one statement — read the candidates
    (`candidates_query`), INSERT their flags (ON CONFLICT DO NOTHING: a flag a concurrent scan
    raised meanwhile is skipped) and one `flag_raised` event per inserted flag with what
    caused it — RETURNING (id, subject, exporter) of the flags it raised. The event data is
    what `_write_events` writes; events are numbered in flag order, like the flags."""
    table, column = Flag._meta.db_table, _subject_column(kind)
    names = DETAILS[kind]
    try:
        due_sql, due_params = candidates_query(
            kind, th, only=only, scope=scope
        ).query.sql_with_params()
    except EmptyResultSet:
        return "SELECT 1 WHERE false", ()
    model = LicenseApplication if kind in APPLICATION_FLAGS else Shipment
    aliases = [f"d{i}" for i in range(len(names))]
    details = ", ".join(
        f"'{name.replace('application__', 'application_')}', "
        + _detail_sql(model, name, f"d.{alias}")
        for name, alias in zip(names, aliases, strict=True)
    )
    sql = (
        f"WITH due (id, exporter_id, {', '.join(aliases)}) AS ({due_sql}), "
        f"raised AS (INSERT INTO {table} ({column}, exporter_id, kind, raised_at) "
        "SELECT id, exporter_id, %s, %s FROM due ORDER BY id "
        f"ON CONFLICT DO NOTHING RETURNING id, {column} AS subject, exporter_id), "
        f"ev AS (INSERT INTO {Event._meta.db_table} (kind, {column}, {_EVENT_COLUMNS}) "
        "SELECT %s, r.subject, %s, %s, "
        f"jsonb_build_object('flag', %s::text, 'flag_id', r.id, {details}), '', '', '' "
        "FROM raised r JOIN due d ON d.id = r.subject ORDER BY r.id) "
        "SELECT id, subject, exporter_id FROM raised"
    )
    return sql, (*due_params, kind, th.now, EventKind.FLAG_RAISED, th.now, th.now, kind)


def recorded_clear_statement(
    kind: str, statement: tuple[str, tuple[Any, ...]], *, now: dt.datetime
) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: a clear statement (`clear_statement`) and the `flag_cleared` event of each
    flag it cleared, in one statement, RETURNING what the clear returns."""
    sql, params = statement
    column = _subject_column(kind)
    wrapped = (
        f"WITH cleared (id, subject, exporter_id) AS ({sql}), "
        f"ev AS (INSERT INTO {Event._meta.db_table} (kind, {column}, {_EVENT_COLUMNS}) "
        "SELECT %s, subject, %s, %s, jsonb_build_object('flag', %s::text, 'flag_id', id), "
        "'', '', '' FROM cleared ORDER BY id) "
        "SELECT id, subject, exporter_id FROM cleared"
    )
    return wrapped, (*params, EventKind.FLAG_CLEARED, now, now, kind)


def _subquery(qs: QuerySet) -> tuple[str, tuple[Any, ...]]:
    """SQL selecting the ids of a queryset; an empty query selects no row."""
    try:
        sql, params = qs.values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return f"SELECT id FROM {qs.model._meta.db_table} WHERE 1 = 0", ()
    return sql, tuple(params)


def clear_statement(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> tuple[str, tuple[Any, ...]]:
    """Clear the open flags of `kind` whose subject is no longer due (compare-and-set on
    `cleared_at IS NULL`), RETURNING (id, subject, exporter). Only subjects that carry an open
    flag are looked up, by key; `only` or `scope` narrows them as in `candidates_query`."""
    if scope is not None:
        return _scoped_clear_statement(kind, th, only=only, scope=scope)
    table, column = Flag._meta.db_table, _subject_column(kind)
    flagged = _open_flags(kind).values(column)
    due = due_queryset(kind, th).filter(pk__in=flagged)
    if only is not None:
        due = due.filter(ids_in("pk", only))
    due_sql, due_params = _subquery(due)
    kept = kept_shipments(kind)
    kept_sql, kept_params = "", ()  # type: tuple[str, tuple[Any, ...]]
    if kept is not None:
        kept = kept.filter(pk__in=flagged)
        if only is not None:
            kept = kept.filter(ids_in("pk", only))
        sub, kept_params = _subquery(kept)
        kept_sql = f" AND {column} NOT IN ({sub})"
    only_sql, only_params = "", ()  # type: tuple[str, tuple[Any, ...]]
    if only is not None and connection.vendor == "postgresql":  # one array parameter
        only_sql, only_params = f" AND {column} = ANY(%s::bigint[])", (list(only),)
    elif only is not None:
        only_sql = f" AND {column} IN ({', '.join(['%s'] * len(only))})" if only else " AND 1 = 0"
        only_params = tuple(only)
    moment = connection.ops.adapt_datetimefield_value(th.now)
    sql = (
        f"UPDATE {table} SET cleared_at = %s "
        f"WHERE kind = %s AND cleared_at IS NULL AND {column} IS NOT NULL{only_sql} "
        f"AND {column} NOT IN ({due_sql}){kept_sql} "
        f"RETURNING id, {column}, exporter_id"
    )
    return sql, (moment, kind, *only_params, *due_params, *kept_params)


def _scoped_clear_statement(
    kind: str, th: Thresholds, *, only: Sequence[int] | None, scope: Q
) -> tuple[str, tuple[Any, ...]]:
    """The clear of the subjects in `scope` (a window: a few): those of them that are not due
    (nor kept) are found first, and their open flags are joined to them by key — the plan
    never walks the open flags of the kind, however many there are."""
    table, column = Flag._meta.db_table, _subject_column(kind)
    model = LicenseApplication if kind in APPLICATION_FLAGS else Shipment
    # Only the subjects in scope that carry an open flag of the kind are looked at, and each
    # is checked against the condition by its key (NOT EXISTS … = outer id): a scope of
    # thousands (a fast-track chunk's shipments) costs its flagged few, not all of them.
    flagged = _open_flags(kind).filter(**{column: OuterRef("pk")})
    stale = model.objects.order_by().filter(scope).filter(Exists(flagged))
    if only is not None:
        stale = stale.filter(ids_in("pk", only))
    stale = stale.exclude(Exists(due_queryset(kind, th).filter(scope, pk=OuterRef("pk"))))
    kept = kept_shipments(kind)
    if kept is not None:
        stale = stale.exclude(Exists(kept.filter(scope, pk=OuterRef("pk"))))
    sub, params = _subquery(stale)
    moment = connection.ops.adapt_datetimefield_value(th.now)
    if connection.vendor != "postgresql":  # SQLite: no column list on a derived table
        sql = (
            f"UPDATE {table} SET cleared_at = %s WHERE kind = %s AND cleared_at IS NULL "
            f"AND {column} IN ({sub}) RETURNING id, {column}, exporter_id"
        )
        return sql, (moment, kind, *params)
    sql = (
        f"UPDATE {table} SET cleared_at = %s FROM ({sub}) AS stale (id) "
        f"WHERE {table}.kind = %s AND {table}.cleared_at IS NULL AND {table}.{column} = stale.id "
        f"RETURNING {table}.id, {table}.{column}, {table}.exporter_id"
    )
    return sql, (moment, *params, kind)


def _rows(statement: tuple[str, tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


# --- one kind --------------------------------------------------------------------------------


@dataclass
class KindResult:
    kind: str
    raised: list[tuple[int, int, int]] = field(default_factory=list)  # (flag, subject, exporter)
    cleared: list[tuple[int, int, int]] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)


def _apply(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> KindResult:
    """Raise and clear one kind (for the `only` subjects, or those in `scope`, or all), write
    the events and the alerts, and queue the alerts after commit; see the module docstring.

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
    return result


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _write_events(
    kind: str, result: KindResult, candidates: dict[int, dict[str, Any]], *, now: dt.datetime
) -> None:
    """One event per raised or cleared flag on its subject's timeline; a raise keeps what
    caused it (e.g. the due date, the planned ship date and the last day to file)."""
    subject = _subject_column(kind)
    rows: list[tuple[str, int, dict[str, Any]]] = []
    for flag_id, subject_id, _exporter in result.raised:
        cause = candidates.get(subject_id, {})
        details = {
            name.replace("application__", "application_"): _iso(cause.get(name))
            for name in DETAILS[kind]
        }
        rows.append(
            (EventKind.FLAG_RAISED, subject_id, {"flag": kind, "flag_id": flag_id, **details})
        )
    for flag_id, subject_id, _exporter in result.cleared:
        rows.append((EventKind.FLAG_CLEARED, subject_id, {"flag": kind, "flag_id": flag_id}))
    insert_events(subject, rows, now=now)


def insert_events(
    subject: str, rows: Sequence[tuple[str, int, dict[str, Any]]], *, now: dt.datetime
) -> None:
    """Insert system events (kind, subject id, data) occurred and recorded `now`: on PostgreSQL
    one INSERT … SELECT over one JSON parameter — a flag costs its row, not an ORM object and
    a set of placeholders (a scan can raise thousands) — elsewhere `bulk_create`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(
            Event(kind=k, occurred_at=now, recorded_at=now, data=d, **{subject: pk})
            for k, pk, d in rows
        )
        return
    assert subject in ("application_id", "shipment_id")
    sql = (
        f"INSERT INTO {Event._meta.db_table} "
        f"(kind, {subject}, occurred_at, recorded_at, data, from_status, to_status, note) "
        "SELECT e->>0, (e->>1)::bigint, %s, %s, e->2, '', '', '' "
        "FROM jsonb_array_elements(%s::jsonb) AS e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, json.dumps(rows, cls=DjangoJSONEncoder)])


def _retrying(work: Callable[[], KindResult], attempts: int = 3) -> KindResult:
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


# --- the scan and targeted evaluation --------------------------------------------------------


@dataclass
class ScanResult:
    kinds: dict[str, KindResult] = field(default_factory=dict)
    file_by_filled: int = 0
    file_by_changed: int = 0  # `refresh_decision_scope`: deadlines that moved
    since: dt.datetime | None = None  # incremental: the previous scan's `now`; None: in full

    @property
    def raised(self) -> int:
        return sum(len(k.raised) for k in self.kinds.values())

    @property
    def cleared(self) -> int:
        return sum(len(k.cleared) for k in self.kinds.values())

    @property
    def alerts(self) -> int:
        return sum(len(k.alert_ids) for k in self.kinds.values())

    def summary(self) -> str:
        parts = [
            f"{kind}: +{len(r.raised)} -{len(r.cleared)}"
            for kind, r in self.kinds.items()
            if r.raised or r.cleared
        ]
        return (", ".join(parts) or "nothing changed") + f"; {self.alerts} alert(s) queued"


# How far before the previous scan's `now` the periodic scan looks again: a move or new due
# dates committed by a transaction that was still open when that scan read (and evaluated with
# its own, earlier `now`) are seen by the next one.
OVERLAP = dt.timedelta(hours=1)


def scan(*, now: dt.datetime, incremental: bool = False) -> ScanResult:
    """Raise and clear flags.

    Full (the default; the daily job, `scan_windows --full`): every kind for everything.

    Incremental (the periodic job, `scan_windows`): what the passing of time since the
    previous scan (`ScanSettings.scanned_through`, less `OVERLAP`) can have changed. A flag's
    cause changes either because data changed — and every service that changes data
    re-evaluates its subjects in its own transaction (`evaluate`, from `monitoring.receivers`)
    — or because time passed, which moves only these boundaries:

    - `overdue`: due dates that ended in (since, now];
    - `due_soon`: the same (they leave it for `overdue`), and due dates that entered an
      authority's horizon (between its `due_soon_until` then and now);
    - `expiring`: validities that entered an authority's horizon (its local date turned);
    - `file_by`: file-by deadlines that ended in (since, now];
    - `at_risk` compares a due date with a ship date and never changes with time alone.

    So each kind reads only the subjects whose deadline lies in its window, through the same
    partial indexes, and its cost follows the work due, not the size of the tables. With no
    previous scan recorded (a new installation, changed scan settings, an edited authority or
    calendar) or a clock that went back, it runs in full. The daily job's full scan also
    reconciles anything written by a path that bypassed the services.
    """
    result = ScanResult()
    # A shipment whose deadline was never computed (written by a path that bypassed save())
    # gets it first, so that `file_by` sees it.
    result.file_by_filled = len(
        refresh_file_by(
            now=now,
            shipments=Shipment.objects.filter(status=SS.PLANNED, file_by_at__isnull=True),
        )
    )
    inputs = ThresholdInputs.read()
    th = thresholds(now=now, inputs=inputs)
    since = inputs.settings.scanned_through if incremental else None
    scopes: dict[str, Q | None]
    if since is None or since > now:
        scopes = dict.fromkeys(KINDS)
    else:
        result.since = since
        scopes = time_scopes(th, thresholds(now=since - OVERLAP, inputs=inputs))
    for kind in KINDS:
        if kind in scopes:
            result.kinds[kind] = _retrying(partial(_apply, kind, th, scope=scopes[kind]))
    _advance(now)
    return result


def time_scopes(th: Thresholds, earlier: Thresholds) -> dict[str, Q | None]:
    """For each kind that time can change between `earlier.now` and `th.now`, the subjects
    whose deadline lies in the window it moved across (see `scan`); kinds it cannot change
    are absent."""
    lo, now = earlier.now, th.now
    ended = Q(due_at__gt=lo, due_at__lte=now)
    before = {a.authority.pk: a for a in earlier.authorities}
    entering: list[Q] = []
    turning: list[Q] = []
    for a in th.authorities:
        b = before.get(a.authority.pk)
        if b is None:  # an authority added meanwhile: its whole horizon
            entering.append(Q(authority_id=a.authority.pk, due_at__lte=a.due_soon_until))
            turning.append(Q(authority_id=a.authority.pk, valid_until__lte=a.expiring_until))
            continue
        if a.due_soon_until != b.due_soon_until:
            low, high = sorted((a.due_soon_until, b.due_soon_until))
            entering.append(Q(authority_id=a.authority.pk, due_at__gt=low, due_at__lte=high))
        if a.expiring_until != b.expiring_until:
            first, last = sorted((a.expiring_until, b.expiring_until))
            turning.append(
                Q(authority_id=a.authority.pk, valid_until__gt=first, valid_until__lte=last)
            )
    # Each scope names the states its partial index covers, so that the subjects in the window
    # are found through it (a subject that left those states was re-evaluated when it moved).
    pending = Q(status__in=PENDING_STATUSES)
    scopes: dict[str, Q | None] = {
        FlagKind.OVERDUE: pending & ended,
        FlagKind.DUE_SOON: pending & _any_of([ended, *entering]),  # type: ignore[operator]
        FlagKind.FILE_BY: Q(status=SS.PLANNED, file_by_at__gt=lo, file_by_at__lte=now),
    }
    if turning:
        scopes[FlagKind.EXPIRING] = Q(status=Status.APPROVED) & _any_of(turning)  # type: ignore[operator]
    return scopes


def scanned_through() -> dt.datetime | None:
    """The `now` of the latest scan, or None when the next periodic scan must run in full."""
    return ScanSettings.objects.filter(pk=1).values_list("scanned_through", flat=True).first()


def _advance(now: dt.datetime) -> None:
    """Record that everything is flagged as of `now` (never moving the mark back)."""
    moved = (
        ScanSettings.objects.filter(pk=1)
        .filter(Q(scanned_through__isnull=True) | Q(scanned_through__lt=now))
        .update(scanned_through=now)
    )
    if not moved and not ScanSettings.objects.filter(pk=1).exists():
        ScanSettings.objects.bulk_create(
            [ScanSettings(pk=1, scanned_through=now)], ignore_conflicts=True
        )


def forget_scanned_through() -> None:
    """An input of the scan's thresholds changed (an authority's zone or calendar): the next
    periodic scan runs in full."""
    ScanSettings.objects.filter(pk=1).update(scanned_through=None)


def evaluate(
    *,
    now: dt.datetime,
    application_ids: Iterable[int] = (),
    shipment_ids: Iterable[int] = (),
    kinds: Iterable[str] = KINDS,
) -> ScanResult:
    """Re-evaluate the flags of a few subjects, inside the caller's transaction (a move, new due
    dates, a shipment edit). The shipments of the given applications are included.

    Cheap when nothing changes: one query says which flags the subjects should carry, one which
    they carry; only a kind that differs runs its raise/clear statements (which check the
    condition again, so both paths agree by construction). `kinds` limits it to the kinds the
    change can affect (new due dates: `DUE_DATE_KINDS`).
    """
    wanted = [kind for kind in KINDS if kind in set(kinds)]
    app_ids = sorted(set(application_ids))
    ship_ids = set(shipment_ids)
    if app_ids:
        ship_ids |= set(
            Shipment.objects.filter(ids_in("application_id", app_ids)).values_list("pk", flat=True)
        )
    ship_list = sorted(ship_ids)
    result = ScanResult()
    if not app_ids and not ship_list:
        return result
    th = thresholds(now=now)
    # Which flags the subjects should carry (and which may stay open although not due): one
    # UNION query per subject type.
    should: set[tuple[str, int]] = set()
    kept: set[tuple[str, int]] = set()
    for subject_kinds, ids in ((APPLICATION_FLAGS, app_ids), (SHIPMENT_FLAGS, ship_list)):
        kinds = [kind for kind in subject_kinds if kind in wanted]
        if not ids or not kinds:
            continue
        parts = [
            due_queryset(kind, th)
            .filter(ids_in("pk", ids))
            .annotate(k=V(kind))
            .values_list("pk", "k")
            for kind in kinds
        ]
        for kind in kinds:
            keep = kept_shipments(kind)
            if keep is not None:
                parts.append(
                    keep.filter(ids_in("pk", ids))
                    .annotate(k=V(f"keep:{kind}"))
                    .values_list("pk", "k")
                )
        for pk, label in parts[0].union(*parts[1:], all=True):
            if label.startswith("keep:"):
                kept.add((label.removeprefix("keep:"), pk))
            else:
                should.add((label, pk))
    carried: set[tuple[str, int]] = {
        (flag_kind, app or ship)
        for flag_kind, app, ship in Flag.objects.filter(cleared_at__isnull=True, kind__in=wanted)
        .filter(ids_in("application_id", app_ids) | ids_in("shipment_id", ship_list))
        .values_list("kind", "application_id", "shipment_id")
    }
    differing: dict[str, list[int]] = defaultdict(list)
    for differing_kind, pk in (should - carried) | (carried - should - kept):
        differing[differing_kind].append(pk)
    for kind in wanted:
        if kind in differing:
            result.kinds[kind] = _apply(kind, th, only=sorted(differing[kind]))
    return result


def evaluate_due_dates(*, now: dt.datetime, application_ids: Sequence[int]) -> ScanResult:
    """Re-evaluate the flags that due dates decide (`DUE_DATE_KINDS`) for applications whose
    due date was just stored (`due_dates_changed`: a fast-track or rule pass, a recompute),
    inside the caller's transaction. Thousands of applications at a time: each kind is raised
    and cleared directly over the applications (and, for `at_risk`, their shipments, found by
    their application), without first working out which of them differ as `evaluate` does
    for a few subjects — the raise and clear statements check the condition anyway."""
    result = ScanResult()
    ids = sorted(set(application_ids))
    if not ids:
        return result
    th = thresholds(now=now)
    for kind in DUE_DATE_KINDS:
        scope = ids_in("pk" if kind in APPLICATION_FLAGS else "application_id", ids)
        result.kinds[kind] = _apply(kind, th, scope=scope)
    return result


# --- the file-by deadline --------------------------------------------------------------------


@dataclass
class _FileByMemo:
    """What `file_by_dates` learns once for many shipments: each authority's context, the
    window of each (authority, exporter, item, destination, license type), and the last day to
    file of each (authority, window, ship date) — a few thousand of each at a million
    shipments, instead of one computation per shipment."""

    contexts: dict[int, AuthorityContext] = field(default_factory=dict)
    windows: dict[tuple, int] = field(default_factory=dict)
    days: dict[tuple, tuple[dt.date, dt.datetime]] = field(default_factory=dict)


def file_by_dates(
    shipments: Sequence[Shipment], *, now: dt.datetime, memo: _FileByMemo | None = None
) -> dict[int, tuple[dt.date, dt.datetime]]:
    """The last day to file each shipment's application, and the instant it ends.

    For each shipment: build an unsaved application from its exporter, item and destination
    (license type of its draft application, else individual), take the window that would
    govern it now (`governing_window`: fast-track decisions in force, rules, default), and
    count back from the planned ship date that window and, where the clock starts at
    acceptance, the acceptance window — both in the authority's unit. Filing on that day or
    before, the due date falls on or before the ship date. A fixed number of queries per
    authority, none per shipment.
    """
    if not shipments:
        return {}
    item_authority = dict(
        ControlledItem.objects.filter(pk__in={s.item_id for s in shipments}).values_list(
            "pk", "authority_id"
        )
    )
    draft_types = dict(
        LicenseApplication.objects.filter(
            pk__in={s.application_id for s in shipments if s.application_id},
            status=Status.DRAFT,
        ).values_list("pk", "license_type")
    )
    authorities = Authority.objects.in_bulk(set(item_authority.values()))
    memo = memo if memo is not None else _FileByMemo()
    out = {}
    for shipment in shipments:
        authority = authorities[item_authority[shipment.item_id]]
        ctx = memo.contexts.get(authority.pk)
        if ctx is None:
            ctx = memo.contexts[authority.pk] = authority_context(authority, now=now)
        license_type = draft_types.get(shipment.application_id or 0, LicenseType.INDIVIDUAL)
        key = (authority.pk, shipment.exporter_id, shipment.item_id, shipment.destination)
        days = memo.windows.get((*key, license_type))
        if days is None:
            probe = LicenseApplication(
                exporter_id=shipment.exporter_id,
                authority=authority,
                destination=shipment.destination,
                license_type=license_type,
            )
            days = governing_window(probe, {shipment.item_id}, ctx).days
            memo.windows[(*key, license_type)] = days
        found = memo.days.get((authority.pk, days, shipment.planned_ship_date))
        if found is None:
            last = _last_day_to_file(ctx, ship_date=shipment.planned_ship_date, days=days)
            found = memo.days[(authority.pk, days, shipment.planned_ship_date)] = (
                last,
                end_of_day(last, authority.tz),
            )
        out[shipment.pk] = found
    return out


def _last_day_to_file(ctx: AuthorityContext, *, ship_date: dt.date, days: int) -> dt.date:
    """Count back from the ship date the window and, where the clock starts at acceptance, the
    acceptance window, both in the authority's unit."""
    authority = ctx.authority
    last = subtract_days(calendar=ctx.calendar, end=ship_date, n=days, unit=authority.window_unit)
    if authority.clock_starts == ClockStart.ACCEPTED:
        last = subtract_days(
            calendar=ctx.calendar,
            end=last,
            n=authority.acceptance_window_days,
            unit=authority.window_unit,
        )
    return last


def _store_file_by(rows: Sequence[Shipment]) -> None:
    """Write the deadlines of many shipments: on PostgreSQL one UPDATE … FROM over a JSON
    array (Django's `bulk_update` builds a CASE arm per row, slow to plan and to run)."""
    if connection.vendor != "postgresql":
        Shipment.objects.bulk_update(rows, ["file_by_date", "file_by_at"])
        return
    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET file_by_date = (e->>1)::date, "
            "file_by_at = (e->>2)::timestamptz "
            "FROM jsonb_array_elements(%s::jsonb) AS e WHERE s.id = (e->>0)::bigint",
            [
                json.dumps(
                    [
                        [r.pk, r.file_by_date.isoformat(), r.file_by_at.isoformat()]  # type: ignore[union-attr]
                        for r in rows
                    ]
                )
            ],
        )


def refresh_file_by(
    *, now: dt.datetime, shipments: QuerySet[Shipment], chunk: int = 2000
) -> list[int]:
    """Recompute and store the file-by deadline of the given shipments; returns the ids whose
    deadline changed.

    When it runs (every input of the deadline):
    - a shipment is saved (created or edited: ship date, item, destination, application) —
      `monitoring.receivers`, on `post_save`;
    - a draft application is saved (its license type) — its shipments;
    - an authority (window, unit, clock start, acceptance window), a calendar day or a review-
      window rule is saved or deleted — that authority's shipments before shipping;
    - a fast-track decision is applied or un-applied — the shipments in its scope
      (`refresh_decision_scope`);
    - the daily job — all of them, for fast-track decisions that begin or end by the date
      alone and for a `holidays` upgrade;
    - the scan — any planned shipment with no deadline yet (written by a bulk path).

    On PostgreSQL it is set-based (`_refresh_file_by_sql`): a deadline depends only on the
    window of (exporter, item, destination, license type) and on the planned ship date, so the
    distinct combinations are read and computed once each, and one UPDATE joins them back to
    the shipments and writes only the deadlines that differ. Elsewhere chunk by chunk.
    """
    if connection.vendor == "postgresql":
        return _refresh_file_by_sql(now=now, shipments=shipments)
    changed: list[int] = []
    qs = shipments.order_by("pk").only(
        "pk",
        "exporter_id",
        "item_id",
        "destination",
        "planned_ship_date",
        "application_id",
        "file_by_date",
        "file_by_at",
    )
    last_pk = 0
    memo = _FileByMemo()
    while True:
        batch = list(qs.filter(pk__gt=last_pk)[:chunk])
        if not batch:
            return changed
        computed = file_by_dates(batch, now=now, memo=memo)
        rows = []
        for shipment in batch:
            date, instant = computed[shipment.pk]
            if (shipment.file_by_date, shipment.file_by_at) != (date, instant):
                shipment.file_by_date, shipment.file_by_at = date, instant
                rows.append(shipment)
        if rows:
            _store_file_by(rows)
            changed.extend(s.pk for s in rows)
        last_pk = batch[-1].pk


def _license_type() -> Case:
    """The license type a shipment's deadline assumes: its draft application's, else
    individual."""
    return Case(
        When(application__status=Status.DRAFT, then=F("application__license_type")),
        default=V(LicenseType.INDIVIDUAL),
        output_field=CharField(),
    )


def _refresh_file_by_sql(*, now: dt.datetime, shipments: QuerySet[Shipment]) -> list[int]:
    """`refresh_file_by` on PostgreSQL, in three statements whatever the number of shipments:
    the distinct window inputs, the distinct (authority, ship date), one UPDATE … FROM."""
    shipments = shipments.order_by()
    keys = list(
        shipments.annotate(license=_license_type())
        .values_list("item__authority_id", "exporter_id", "item_id", "destination", "license")
        .distinct()
    )
    if not keys:
        return []
    authorities = Authority.objects.in_bulk({key[0] for key in keys})
    contexts = {pk: authority_context(a, now=now) for pk, a in authorities.items()}
    windows = []
    days_by_authority: dict[int, set[int]] = defaultdict(set)
    for authority_id, exporter_id, item_id, destination, license_type in keys:
        probe = LicenseApplication(
            exporter_id=exporter_id,
            authority=authorities[authority_id],
            destination=destination,
            license_type=license_type,
        )
        days = governing_window(probe, {item_id}, contexts[authority_id]).days
        windows.append([exporter_id, item_id, destination, license_type, days])
        days_by_authority[authority_id].add(days)
    deadlines = []
    for authority_id, ship_date in shipments.values_list(
        "item__authority_id", "planned_ship_date"
    ).distinct():
        authority, ctx = authorities[authority_id], contexts[authority_id]
        for days in days_by_authority[authority_id]:
            last = _last_day_to_file(ctx, ship_date=ship_date, days=days)
            deadlines.append(
                [
                    authority_id,
                    days,
                    ship_date.isoformat(),
                    last.isoformat(),
                    end_of_day(last, authority.tz).isoformat(),
                ]
            )
    subjects_sql, subjects_params = _subquery(shipments)
    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # The shipments first (materialised: the planner knows their number from their own
            # predicate), then the two small lists joined to them by hash, whatever their size.
            "WITH subject AS MATERIALIZED (SELECT s.id, s.exporter_id, s.item_id, "
            "s.destination, s.planned_ship_date, s.file_by_date, s.file_by_at, i.authority_id, "
            "COALESCE(a.license_type, %s) AS license_type "
            f"FROM {table} AS s JOIN {ControlledItem._meta.db_table} AS i ON i.id = s.item_id "
            f"LEFT JOIN {LicenseApplication._meta.db_table} AS a "
            "ON a.id = s.application_id AND a.status = %s "
            f"WHERE s.id IN ({subjects_sql})), "
            "w AS (SELECT (e->>0)::bigint AS exporter_id, (e->>1)::bigint AS item_id, "
            "e->>2 AS destination, e->>3 AS license_type, (e->>4)::integer AS days "
            "FROM jsonb_array_elements(%s::jsonb) AS e), "
            "d AS (SELECT (e->>0)::bigint AS authority_id, (e->>1)::integer AS days, "
            "(e->>2)::date AS ship, (e->>3)::date AS last, (e->>4)::timestamptz AS at "
            "FROM jsonb_array_elements(%s::jsonb) AS e), "
            "target AS (SELECT x.id, d.last, d.at FROM subject AS x "
            "JOIN w ON w.exporter_id = x.exporter_id AND w.item_id = x.item_id "
            "AND w.destination = x.destination AND w.license_type = x.license_type "
            "JOIN d ON d.authority_id = x.authority_id AND d.days = w.days "
            "AND d.ship = x.planned_ship_date "
            "WHERE x.file_by_date IS DISTINCT FROM d.last OR x.file_by_at IS DISTINCT FROM d.at) "
            f"UPDATE {table} AS s SET file_by_date = target.last, file_by_at = target.at "
            "FROM target WHERE s.id = target.id RETURNING s.id",
            [
                LicenseType.INDIVIDUAL,
                Status.DRAFT,
                *subjects_params,
                json.dumps(windows),
                json.dumps(deadlines),
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


def refresh_authority(*, now: dt.datetime, authority_id: int) -> ScanResult:
    """An input of an authority's windows changed: recompute the file-by deadlines of its
    shipments before shipping and re-evaluate those that changed."""
    return refresh_decision_scope(now=now, authority_id=authority_id, scope=None)


def refresh_decision_scope(
    *, now: dt.datetime, authority_id: int, scope: dict[str, set] | None
) -> ScanResult:
    """A fast-track decision was applied or un-applied (`scope`: its scope), or another input
    of an authority's windows changed (`scope` None: all its shipments): recompute the file-by
    deadlines of the shipments before shipping that it can reach and re-evaluate those that
    changed. A decision reaches a shipment through the exporter, item and destination its
    scope names; one that names applications reaches no shipment's deadline (a deadline is for
    an application not filed yet)."""
    shipments = Shipment.objects.filter(status__in=TO_SHIP, item__authority_id=authority_id)
    if scope is not None:
        if scope.get("applications"):
            return ScanResult()
        if scope.get("destinations"):
            shipments = shipments.filter(destination__in=sorted(scope["destinations"]))
        if scope.get("items"):
            shipments = shipments.filter(ids_in("item_id", scope["items"]))
        if scope.get("exporters"):
            shipments = shipments.filter(ids_in("exporter_id", scope["exporters"]))
    changed = refresh_file_by(now=now, shipments=shipments)
    # a deadline decides `file_by` alone
    result = evaluate(now=now, shipment_ids=changed, kinds=(FlagKind.FILE_BY,))
    result.file_by_changed = len(changed)
    return result


# --- the daily job ---------------------------------------------------------------------------


@dataclass
class DailyResult:
    decisions: Any = None
    expired: list[int] = field(default_factory=list)
    file_by_changed: int = 0
    scan: ScanResult | None = None

    def summary(self) -> str:
        return (
            f"fast-track: {self.decisions if self.decisions is not None else 'not available'}; "
            f"expired: {len(self.expired)}; file-by deadlines changed: {self.file_by_changed}; "
            f"scan: {self.scan.summary() if self.scan else '-'}"
        )


def expire_licenses(*, now: dt.datetime) -> list[int]:
    """Move approved licenses whose validity has ended (in their authority's time zone) to
    `expired`, each in its own transaction through `application_expire` (events; shipments
    follow; `monitoring.receivers` clears their flags). Returns the ids it expired."""
    days = [(a.pk, local_date(now, a.tz)) for a in Authority.objects.all()]
    per_authority = _any_of(Q(authority_id=pk, valid_until__lt=today) for pk, today in days)
    if per_authority is None:
        return []
    latest = max(today for _pk, today in days)
    due = (
        LicenseApplication.objects.filter(
            per_authority, status=Status.APPROVED, valid_until__lt=latest
        )
        .select_related("authority")
        .order_by("pk")
    )
    expired = []
    for application in due:
        assert application.valid_until is not None
        ended = end_of_day(application.valid_until, application.authority.tz)
        at = max(ended, application.last_moved_at) if application.last_moved_at else ended
        try:
            application_expire(application=application, now=now, at=min(at, now))
        except (IllegalMove, ConcurrentUpdate):
            continue  # moved by someone else meanwhile
        except DomainError as exc:  # e.g. its last move is dated after now: a person must look
            log.error("Could not expire application %s: %s", application.pk, exc)
            continue
        expired.append(application.pk)
    return expired


def fast_track_daily(*, now: dt.datetime) -> Any:
    """Apply the fast-track decisions that begin or end today.

    `licenses.fasttrack.decisions_daily(*, now)` is written on another branch (the fast-track
    issue); it exists once that branch is merged. It is looked up lazily so that this job runs
    (and skips this step) before then; an error inside it is not hidden.
    """
    if importlib.util.find_spec("licenses.fasttrack") is None:
        return None
    fasttrack = importlib.import_module("licenses.fasttrack")
    decisions_daily = getattr(fasttrack, "decisions_daily", None)
    if decisions_daily is None:
        return None
    return decisions_daily(now=now)


def run_daily(*, now: dt.datetime) -> DailyResult:
    """The daily job: decisions that begin or end, expiry, file-by deadlines, then a scan."""
    result = DailyResult()
    result.decisions = fast_track_daily(now=now)
    result.expired = expire_licenses(now=now)
    result.file_by_changed = len(
        refresh_file_by(now=now, shipments=Shipment.objects.filter(status__in=TO_SHIP))
    )
    result.scan = scan(now=now)
    return result
