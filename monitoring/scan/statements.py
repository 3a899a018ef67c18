"""The SQL of one kind's raise and clear, for PostgreSQL (one statement each, writing its events
in the same statement) and for SQLite (the raise's INSERT over rows read first; the clear), built
from the conditions of what is due."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.lookups import ids_in
from licenses import events
from licenses.models import EventKind, LicenseApplication
from shipments.models import Shipment

from ..models import APPLICATION_FLAGS, Flag, FlagKind
from .due import due_queryset, kept_shipments
from .horizons import Thresholds

# What the timeline keeps about the cause of a raised flag (read with the due subjects).
DETAILS: dict[str, tuple[str, ...]] = {
    FlagKind.OVERDUE: ("status", "due_at"),
    FlagKind.DUE_SOON: ("status", "due_at"),
    FlagKind.EXPIRING: ("valid_until",),
    FlagKind.AT_RISK: ("planned_ship_date", "application_id", "application__due_at"),
    FlagKind.FILE_BY: ("planned_ship_date", "deadline__file_by_date"),
    FlagKind.REPLY_DUE: ("status", "reply_due_at"),
    FlagKind.CONTROL_CHANGE: ("planned_ship_date", "license_required", "license_required_today"),
    FlagKind.LICENSE_EXPIRES: ("planned_ship_date", "application_id", "application__valid_until"),
    FlagKind.LIKELY_LATE: ("planned_ship_date", "application_id", "application__forecast_p50"),
}
INSERT_BATCH = 500


def detail_key(name: str) -> str:
    """The key a detail is kept under in the event: `application__due_at` as
    `application_due_at`, a shipment's `deadline__file_by_date` as `file_by_date`."""
    return name.replace("application__", "application_").replace("deadline__", "")


def subject_column(kind: str) -> str:
    return "application_id" if kind in APPLICATION_FLAGS else "shipment_id"


def _open_flags(kind: str) -> QuerySet[Flag]:
    return Flag.objects.filter(kind=kind, cleared_at__isnull=True)


def candidates_query(
    kind: str, th: Thresholds, *, only: Sequence[int] | None = None, scope: Q | None = None
) -> QuerySet:
    """The due subjects of `kind` that carry no open flag of it yet, with what the timeline
    keeps about the cause: the raise's read (its NOT EXISTS uses the open-flag unique index).
    `only` (ids) or `scope` (a condition on the subject) narrows the subjects looked at."""
    column = subject_column(kind)
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
    table, column = Flag._meta.db_table, subject_column(kind)
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
    caused it, linked into its subject's chain (`licenses.events.linked_insert`) —
    RETURNING (id, subject, exporter) of the flags it raised. The event data is what
    `_write_events` writes; events are numbered in flag order, like the flags."""
    table, column = Flag._meta.db_table, subject_column(kind)
    names = DETAILS[kind]
    try:
        due_sql, due_params = candidates_query(
            kind, th, only=only, scope=scope
        ).query.sql_with_params()
    except EmptyResultSet:
        return "SELECT 1 WHERE false", ()
    model = LicenseApplication if kind in APPLICATION_FLAGS else Shipment
    aliases = [f"d{i}" for i in range(len(names))]
    data = events.flag_data_sql(
        EventKind.FLAG_RAISED,
        flag="%s::text",
        flag_id="r.id",
        details={
            detail_key(name): _detail_sql(model, name, f"d.{alias}")
            for name, alias in zip(names, aliases, strict=True)
        },
    )
    source = events.flag_source(
        EventKind.FLAG_RAISED,
        column,
        subject_id="r.subject",
        data=data,
        moment="r.raised_at",
        ord="r.id",
    )
    sql = (
        f"WITH due (id, exporter_id, {', '.join(aliases)}) AS ({due_sql}), "
        f"raised AS (INSERT INTO {table} ({column}, exporter_id, kind, raised_at) "
        "SELECT id, exporter_id, %s, %s FROM due ORDER BY id "
        f"ON CONFLICT DO NOTHING RETURNING id, {column} AS subject, exporter_id, raised_at), "
        f"ev_source AS (SELECT {source} FROM raised r JOIN due d ON d.id = r.subject), "
        f"{events.linked_insert('ev_source')} "
        "SELECT id, subject, exporter_id FROM raised"
    )
    return sql, (*due_params, kind, th.now, kind)


def recorded_clear_statement(
    kind: str, statement: tuple[str, tuple[Any, ...]], *, now: dt.datetime
) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: a clear statement (`clear_statement`) and the `flag_cleared` event of each
    flag it cleared, linked into its subject's chain, in one statement, RETURNING what the
    clear returns."""
    sql, params = statement
    column = subject_column(kind)
    data = events.flag_data_sql(EventKind.FLAG_CLEARED, flag="%s::text", flag_id="id")
    source = events.flag_source(
        EventKind.FLAG_CLEARED,
        column,
        subject_id="subject",
        data=data,
        moment="%s::timestamptz",
        ord="id",
    )
    wrapped = (
        f"WITH cleared (id, subject, exporter_id) AS ({sql}), "
        f"ev_source AS (SELECT {source} FROM cleared), "
        f"{events.linked_insert('ev_source')} "
        "SELECT id, subject, exporter_id FROM cleared"
    )
    return wrapped, (*params, now, now, kind)


def subquery(qs: QuerySet) -> tuple[str, tuple[Any, ...]]:
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
    table, column = Flag._meta.db_table, subject_column(kind)
    flagged = _open_flags(kind).values(column)
    due = due_queryset(kind, th).filter(pk__in=flagged)
    if only is not None:
        due = due.filter(ids_in("pk", only))
    due_sql, due_params = subquery(due)
    kept = kept_shipments(kind)
    kept_sql, kept_params = "", ()  # type: tuple[str, tuple[Any, ...]]
    if kept is not None:
        kept = kept.filter(pk__in=flagged)
        if only is not None:
            kept = kept.filter(ids_in("pk", only))
        sub, kept_params = subquery(kept)
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
    table, column = Flag._meta.db_table, subject_column(kind)
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
    sub, params = subquery(stale)
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
