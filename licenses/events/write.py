"""The writers of events: one small function per kind, each checking its payload against the
kind's definition (`kinds.py`) when written, and `bulk` for the set-based paths. Nothing else
inserts events. Events are only ever inserted. A change of state also writes its delta of the
status tallies (`licenses.tallies`), in the same transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from .. import tallies
from ..models import Event, EventKind, LicenseApplication
from . import chain
from .kinds import check_data, check_keys, check_subjects, definition_of


class Sink(Protocol):
    """What an app above this one hangs on every event written (the webhook outbox), without
    this module knowing it: registered with `register_sink` (in its AppConfig.ready).

    - `sql(source)`: PostgreSQL: a CTE (`name AS (…)`, no parameters) that the writers append
      to the statement inserting events, reading the inserted rows from the CTE named
      `source` (columns `id`, `kind`, `application_id`, `shipment_id`, `from_status`,
      `to_status`, `occurred_at`, `recorded_at`, `data`): set-based, in the same statement,
      so a write of a hundred thousand events costs no extra round trip;
    - `written(event_ids)`: called after every write inside its transaction; `event_ids` are
      the new events' ids on a database where `sql` is not used, else None."""

    def sql(self, source: str) -> str: ...

    def written(self, event_ids: Sequence[int] | None) -> None: ...


_SINKS: list[Sink] = []


def register_sink(sink: Sink) -> None:
    """Hang `sink` on every event written from now on (once per sink)."""
    if sink not in _SINKS:
        _SINKS.append(sink)


def _sink_ctes(source: str) -> str:
    return "".join(f", {sink.sql(source)}" for sink in _SINKS)


def _announce(event_ids: Sequence[int] | None) -> None:
    for sink in _SINKS:
        sink.written(event_ids)


def _insert_one(event: Event) -> None:
    """PostgreSQL: insert one event (the database links it into its chain) and what the sinks
    hang on it, in one statement."""
    fields = [
        f
        for f in Event._meta.concrete_fields
        if not f.primary_key and f.attname not in chain.LINK_COLUMNS
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ev_one AS (INSERT INTO {Event._meta.db_table} ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING *){_sink_ctes('ev_one')} "
            "SELECT id, seq, prev_hash, hash FROM ev_one",
            values,
        )
        event.id, event.seq, event.prev_hash, event.hash = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _write(
    kind: str,
    *,
    data: dict[str, Any],
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    application: LicenseApplication | None = None,
    application_id: int | None = None,
    shipment: Any = None,
    from_status: str = "",
    to_status: str = "",
    actor: Any = None,
    note: str = "",
    corrects: Event | None = None,
) -> Event:
    """Check one event against its kind's definition and insert it."""
    definition = check_data(kind, data)
    check_subjects(
        definition,
        application=application is not None or application_id is not None,
        shipment=shipment is not None,
        from_status=from_status,
        to_status=to_status,
    )
    event = Event(
        kind=kind,
        application=application,
        shipment=shipment,
        from_status=from_status,
        to_status=to_status,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        actor=actor,
        note=note,
        data=data,
        corrects=corrects,
    )
    if application is None and application_id is not None:
        event.application_id = application_id
    if from_status != to_status:
        tallies.record([(event.application_id, event.shipment_id, from_status, to_status)])
    if connection.vendor == "postgresql":
        if _SINKS:
            _insert_one(event)
        else:
            event.save(force_insert=True)  # the database links it into its chain
        _announce(None)
        return event
    with transaction.atomic():
        row = {
            f.attname: getattr(event, f.attname)
            for f in Event._meta.concrete_fields
            if f.attname not in chain.LINK_COLUMNS
        }
        chain.assign([row])
        event.id, event.seq, event.prev_hash, event.hash = (
            row["id"],
            row["seq"],
            row["prev_hash"],
            row["hash"],
        )
        event.save(force_insert=True)
    _announce([event.pk])
    return event


def status_changed(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
    from_status: str,
    to_status: str,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    data: dict[str, Any],
) -> Event:
    """A move of an application or a shipment (`data` names it: `StatusChangedData`)."""
    return _write(
        EventKind.STATUS_CHANGED,
        application=application,
        shipment=shipment,
        from_status=from_status,
        to_status=to_status,
        occurred_at=at,
        recorded_at=now,
        actor=actor,
        note=note,
        data=data,
    )


def shipments_followed(
    *,
    application: LicenseApplication,
    moved: Iterable[tuple[int, str]],
    to_status: str,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any,
    correction: Event | None = None,
) -> int:
    """The moves of the shipments (id, old status) that follow `application` to `to_status`,
    one event each, inserted at once; returns how many."""
    data: dict[str, Any] = {"move": "follow", "application_status": application.status}
    if correction is not None:
        data["correction"] = correction.pk
    check_data(EventKind.STATUS_CHANGED, data)
    return bulk(
        {
            "kind": EventKind.STATUS_CHANGED,
            "shipment_id": pk,
            "application_id": application.pk,
            "from_status": old,
            "to_status": to_status,
            "occurred_at": at,
            "recorded_at": now,
            "actor_id": actor.pk if actor is not None else None,
            "data": data,
        }
        for pk, old in moved
    )


def created(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
    now: dt.datetime,
    actor: Any,
    status: str,
) -> Event:
    return _write(
        EventKind.CREATED,
        application=application,
        shipment=shipment,
        to_status=status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data={},
    )


def edited(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
    edited: dict[str, Any],
    now: dt.datetime,
    actor: Any,
) -> Event:
    """Details of an application (field -> [old, new]) or a shipment (field -> new) edited."""
    return _write(
        EventKind.EDITED,
        application=application,
        shipment=shipment,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data={"edited": edited},
    )


def assigned(
    *,
    shipment: Any,
    from_application_id: int | None,
    to_application_id: int | None,
    from_status: str,
    to_status: str,
    now: dt.datetime,
    actor: Any,
) -> Event:
    """A shipment moved to another application (or to none)."""
    return _write(
        EventKind.ASSIGNED,
        shipment=shipment,
        application_id=to_application_id,
        from_status=from_status,
        to_status=to_status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data={"from_application": from_application_id, "to_application": to_application_id},
    )


def drawdown(
    *,
    released: bool,
    shipment: Any,
    application: LicenseApplication,
    quantity: Decimal,
    value: Decimal,
    now: dt.datetime,
    actor: Any,
    move: str = "",
    shipped: tuple[Decimal, Decimal] | None = None,
) -> Event:
    """A shipment's reservation on a general license taken (or, `released`, given back), with
    the license's totals after it. When the shipment shipped (`move` "ship") or its shipping
    was undone ("ship_undone"), `shipped` is what it shipped (quantity, value) and `quantity`
    and `value` the difference from its reservation."""
    data: dict[str, Any] = {
        "quantity": str(quantity),
        "value": str(value),
        "unit": shipment.unit,
        "currency": application.currency,
        "drawn_quantity": str(application.drawn_quantity),
        "drawn_value": str(application.drawn_value),
        "approved_quantity": str(application.approved_quantity or ""),
        "approved_value": str(application.approved_value or ""),
    }
    if move:
        assert shipped is not None
        data.update(move=move, shipped_quantity=str(shipped[0]), shipped_value=str(shipped[1]))
    return _write(
        EventKind.DRAWDOWN_RELEASED if released else EventKind.DRAWDOWN,
        application=application,
        shipment=shipment,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data=data,
    )


def document_added(
    *, application: LicenseApplication, document: Any, now: dt.datetime, actor: Any
) -> Event:
    return _write(
        EventKind.DOCUMENT_ADDED,
        application=application,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        data={
            "document": document.pk,
            "kind": document.kind,
            "filename": document.filename,
            "size": document.size,
        },
    )


def due_date_change(
    *,
    application: LicenseApplication,
    old: dt.datetime | None,
    new: dt.datetime | None,
    window_days: int,
    source: str,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any = None,
    kind: str = EventKind.DUE_DATE_CHANGED,
    decision_id: int | None = None,
    note: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row of a due-date event, built, not saved: callers insert many at once with
    `bulk`. `extra` adds to `data` (e.g. the rule whose change caused it)."""
    return {
        "kind": kind,
        "application_id": application.pk,
        "decision_id": decision_id,
        "occurred_at": at,
        "recorded_at": now,
        "actor_id": actor.pk if actor is not None else None,
        "note": note,
        "data": {
            "from": _iso(old),
            "to": _iso(new),
            "window_days": window_days,
            "source": source,
            "change_days": change_in_days(old, new),
            **(extra or {}),
        },
    }


def change_in_days(old: dt.datetime | None, new: dt.datetime | None) -> int | None:
    """Days between two due dates. Both are local midnights, so across a daylight-saving
    change they are a whole number of days plus or minus an hour: round, don't truncate."""
    if old is None or new is None:
        return None
    return round((new - old).total_seconds() / 86400)


def correction(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
    corrects: Event,
    action: str,
    from_status: str,
    to_status: str,
    now: dt.datetime,
    actor: Any,
    note: str,
    data: dict[str, Any],
) -> Event:
    return _write(
        EventKind.CORRECTION,
        application=application,
        shipment=shipment,
        corrects=corrects,
        from_status=from_status,
        to_status=to_status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        note=note,
        data={"action": action, **{k: _iso(v) for k, v in data.items()}},
    )


def flag_row(
    kind: str,
    *,
    subject: str,
    subject_id: int,
    flag: str,
    flag_id: int,
    now: dt.datetime,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row of a `flag_raised` (with what caused it, `details`) or `flag_cleared` event on
    `subject` ("application_id" or "shipment_id"), for `bulk`."""
    if kind not in (EventKind.FLAG_RAISED, EventKind.FLAG_CLEARED):
        raise ValueError(f"Not a kind of flag event: {kind!r}.")
    return {
        "kind": kind,
        subject: subject_id,
        "occurred_at": now,
        "recorded_at": now,
        "data": {
            "flag": flag,
            "flag_id": flag_id,
            **{k: _iso(v) for k, v in (details or {}).items()},
        },
    }


def flag_source(
    kind: str, subject: str, *, subject_id: str, data: str, moment: str, ord: str
) -> str:
    """The select list of a `linked_insert` source of flag events (`kind`: `flag_raised` or
    `flag_cleared`) on `subject` ("application_id" or "shipment_id"), from SQL expressions:
    the subject's id, the data (`flag_data_sql`), the moment (occurred and recorded) and the
    rows' order."""
    if kind not in (EventKind.FLAG_RAISED, EventKind.FLAG_CLEARED):
        raise ValueError(f"Not a kind of flag event: {kind!r}.")
    if subject not in ("application_id", "shipment_id"):
        raise ValueError(f"Not a subject column: {subject!r}.")
    application = subject_id if subject == "application_id" else "NULL"
    shipment = subject_id if subject == "shipment_id" else "NULL"
    return (
        f"'{kind}' AS kind, {application} AS application_id, {shipment} AS shipment_id, "
        "NULL AS decision_id, '' AS from_status, '' AS to_status, "
        f"{moment} AS occurred_at, {moment} AS recorded_at, NULL AS actor_id, '' AS note, "
        f"{data} AS data, NULL AS corrects_id, {ord} AS ord"
    )


def flag_data_sql(
    kind: str, *, flag: str, flag_id: str, details: dict[str, str] | None = None
) -> str:
    """A SQL expression building the `data` of a `flag_raised` or `flag_cleared` event, from
    SQL expressions: `flag` (the flag's kind, e.g. "%s::text"), `flag_id` (e.g. "r.id") and,
    for a raise, `details` (key -> expression of what caused it). The keys are checked
    against the kind's definition now, so the statement cannot store a payload the timeline
    does not know."""
    if kind not in (EventKind.FLAG_RAISED, EventKind.FLAG_CLEARED):
        raise ValueError(f"Not a kind of flag event: {kind!r}.")
    pairs = {"flag": flag, "flag_id": flag_id, **(details or {})}
    check_keys(definition_of(kind), dict.fromkeys(pairs))
    return "jsonb_build_object(" + ", ".join(f"'{k}', {v}" for k, v in pairs.items()) + ")"


# --- set-based writers: rows linked into their chains in the statement that inserts them -------

# The columns of the events a set-based statement inserts, with their types.
LINKED_COLUMNS = (
    ("kind", "text"),
    ("application_id", "bigint"),
    ("shipment_id", "bigint"),
    ("decision_id", "bigint"),
    ("from_status", "text"),
    ("to_status", "text"),
    ("occurred_at", "timestamptz"),
    ("recorded_at", "timestamptz"),
    ("actor_id", "bigint"),
    ("note", "text"),
    ("data", "jsonb"),
    ("corrects_id", "bigint"),
)


def linked_insert(source: str) -> str:
    """PostgreSQL: the CTEs that insert the events a CTE named `source` selects (the columns
    of `LINKED_COLUMNS`, and `ord`: their order) linked into their chains in the same
    statement — set-based, where the trigger would link them one row at a time at three times
    the cost. To follow the caller's own CTEs: `WITH …, source AS (…), {linked_insert(…)}
    SELECT … FROM ev`; `ev` returns the inserted events' `id`.

    Steps: give the rows their ids in order; lock the rows of their subjects' chains (in one
    order, so two such statements cannot deadlock; a locked row is read as the writer before
    us committed it); number each subject's rows after its chain's length; fold their
    records into hashes from the chain's head (`licenses_event_chain_fold`); insert them with
    their links, saying so for the transaction (`licenses.events_linked`), so that the
    trigger leaves them be; move the chains' heads. A subject with no chain yet is left to
    the trigger, which starts its chain. The registered sinks' CTEs follow (`Sink`); the
    caller calls `written()` after running the statement."""
    columns = ", ".join(f"s.{name}::{kind} AS {name}" for name, kind in LINKED_COLUMNS)
    names = ", ".join(name for name, _kind in LINKED_COLUMNS)
    table = Event._meta.db_table
    return f"""ev_guc AS MATERIALIZED (
    SELECT set_config('licenses.events_linked', 'statement', true) AS linked,
           pg_get_serial_sequence('{table}', 'id')::regclass AS ids
), ev_rows AS (
    SELECT nextval((SELECT ids FROM ev_guc)) AS id, o.*,
           CASE WHEN o.shipment_id IS NOT NULL THEN 'shipment'
                WHEN o.application_id IS NOT NULL THEN 'application'
                ELSE 'decision' END AS chain_type,
           COALESCE(o.shipment_id, o.application_id, o.decision_id) AS chain_id
    FROM (SELECT {columns}, s.ord FROM {source} s ORDER BY s.ord) o
    WHERE (SELECT linked FROM ev_guc) IS NOT NULL
), ev_chains AS (
    SELECT c.subject_type, c.subject_id, c.length, c.head
    FROM licenses_eventchain c
    WHERE (c.subject_type, c.subject_id) IN (SELECT chain_type, chain_id FROM ev_rows)
    ORDER BY c.subject_type, c.subject_id
    FOR UPDATE
), ev_numbered AS (
    SELECT r.*, c.head AS chain_head,
           (c.length + row_number() OVER (PARTITION BY r.chain_type, r.chain_id ORDER BY r.ord))
               ::integer AS seq
    FROM ev_rows r
    LEFT JOIN ev_chains c ON c.subject_type = r.chain_type AND c.subject_id = r.chain_id
), ev_hashed AS (
    SELECT n.*,
           licenses_event_chain_fold(
               n.chain_head,
               licenses_event_record_of(
                   n.id, n.seq, n.kind, n.application_id, n.shipment_id, n.decision_id,
                   n.from_status, n.to_status, n.occurred_at, n.recorded_at, n.actor_id,
                   n.note, n.data, n.corrects_id
               )
           ) OVER (PARTITION BY n.chain_type, n.chain_id ORDER BY n.seq ROWS UNBOUNDED PRECEDING)
               AS hash
    FROM ev_numbered n
), ev_linked AS (
    SELECT h.*,
           COALESCE(lag(h.hash) OVER (PARTITION BY h.chain_type, h.chain_id ORDER BY h.seq),
                    h.chain_head) AS prev_hash
    FROM ev_hashed h
), ev AS (
    INSERT INTO {table} (id, {names}, seq, prev_hash, hash)
    SELECT id, {names}, COALESCE(seq, 0), COALESCE(prev_hash, ''), COALESCE(hash, '')
    FROM ev_linked ORDER BY id
    RETURNING id
), ev_heads AS (
    UPDATE licenses_eventchain c
       SET length = l.seq, prev_hash = l.prev_hash, head = l.hash, last_event_id = l.id
      FROM (SELECT DISTINCT ON (chain_type, chain_id) chain_type, chain_id, seq, prev_hash,
                   hash, id
              FROM ev_linked WHERE hash IS NOT NULL
             ORDER BY chain_type, chain_id, seq DESC) l
     WHERE c.subject_type = l.chain_type AND c.subject_id = l.chain_id
    RETURNING c.id
)""" + _sink_ctes("ev_linked")


# The columns `bulk` writes, in order (every column of an event but its id).
_BULK_COLUMNS = (
    "kind",
    "application_id",
    "shipment_id",
    "decision_id",
    "from_status",
    "to_status",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "note",
    "data",
    "corrects_id",
)
_BULK_COLUMNS_SET = frozenset(_BULK_COLUMNS)
_OCCURRED, _RECORDED = _BULK_COLUMNS.index("occurred_at"), _BULK_COLUMNS.index("recorded_at")
_BULK_TYPES = (
    "text",
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "bigint",
    "text",
    "jsonb",
    "bigint",
)


def bulk(rows: Iterable[dict[str, Any]]) -> int:
    """Insert many events, each a dict of column values (`_BULK_COLUMNS`; those missing are
    empty), linked into their chains in the order given; returns how many. On PostgreSQL one
    INSERT … SELECT over one JSON parameter (a fast-track pass writes up to a hundred
    thousand: an event costs its row, not an ORM object and twelve placeholders); elsewhere
    `bulk_create`.

    Each row is checked against its kind's definition, cheaply: its data's keys, its subjects
    and statuses on every row, the types of its data on the first row of each kind."""
    rows = list(rows)
    if not rows:
        return 0
    _check_rows(rows)
    tallies.record(
        (
            row.get("application_id"),
            row.get("shipment_id"),
            row.get("from_status", ""),
            row.get("to_status", ""),
        )
        for row in rows
        if row.get("from_status", "") != row.get("to_status", "")
    )
    if connection.vendor != "postgresql":
        rows = [dict(row) for row in rows]
        with transaction.atomic():
            chain.assign(rows)  # SQLite links them here: no trigger does
            made = Event.objects.bulk_create(Event(**row) for row in rows)
        _announce([e.pk for e in made])
        return len(rows)
    defaults = {"from_status": "", "to_status": "", "note": "", "data": {}}
    # `_iso` keeps microseconds (DjangoJSONEncoder would cut them to milliseconds)
    values = []
    for row in rows:
        value = [row.get(c, defaults.get(c)) for c in _BULK_COLUMNS]
        value[_OCCURRED], value[_RECORDED] = _iso(value[_OCCURRED]), _iso(value[_RECORDED])
        values.append(value)
    select = ", ".join(
        f"(e->{i})::{kind} AS {name}" if kind == "jsonb" else f"(e->>{i})::{kind} AS {name}"
        for i, (name, kind) in enumerate(zip(_BULK_COLUMNS, _BULK_TYPES, strict=True))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ev_source AS (SELECT {select}, n AS ord "
            "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t (e, n)), "
            f"{linked_insert('ev_source')} SELECT count(*) FROM ev",
            [json.dumps(values, cls=DjangoJSONEncoder)],
        )
    _announce(None)
    return len(rows)


def written() -> None:
    """Tell the sinks that a caller's own statement built on `linked_insert` ran (PostgreSQL;
    its events were handed to the sinks' CTEs in that statement)."""
    _announce(None)


def _check_rows(rows: list[dict[str, Any]]) -> None:
    """Check every row's columns, data keys, subjects and statuses, and the data types of the
    first row of each kind. Rows built alike share a shape (the same columns and data keys in
    the same order, the same subjects and statuses set): each shape is checked once."""
    typed: set[str] = set()
    checked: set[tuple[Any, ...]] = set()
    for row in rows:
        kind, data = row.get("kind"), row.get("data", {})
        shape = (
            kind,
            tuple(row),
            tuple(data) if isinstance(data, dict) else type(data),
            row.get("application_id") is None,
            row.get("shipment_id") is None,
            not row.get("from_status"),
            not row.get("to_status"),
        )
        if kind in typed and shape in checked:
            continue
        unknown = row.keys() - _BULK_COLUMNS_SET
        if unknown:
            raise ValueError(f"Not columns of an event: {sorted(unknown)}.")
        if kind not in typed:
            definition = check_data(kind or "", data)
            typed.add(definition.kind)
        else:
            definition = definition_of(kind)
            check_keys(definition, data)
        check_subjects(
            definition,
            application=row.get("application_id") is not None,
            shipment=row.get("shipment_id") is not None,
            from_status=row.get("from_status", ""),
            to_status=row.get("to_status", ""),
        )
        checked.add(shape)
