"""The chain of events: each event carries the hash of the event before it of the same subject
and a hash over that and its own fields, so that editing, deleting, inserting or reordering a
stored event breaks the hashes from there on (`verify.py` finds where).

- **One chain per subject**: an event naming a shipment is linked into that shipment's chain,
  any other into its application's (an event of neither, which no writer makes any more, into
  its decision's). Not one global chain: every event written anywhere would then wait for the
  previous one to commit, and the scan, a fast-track pass and every move would take turns.
  Writers of different subjects never wait for each other; two writers of one subject take
  turns on its `EventChain` row, which holds the chain's length and latest hash.
- **The link**: `seq` is the event's position in its chain (1, 2, …), `prev_hash` the `hash` of
  the event before it (`GENESIS`, 64 zeros, for the first) and
  `hash = sha256_hex(prev_hash + "\\n" + record)`, the text encoded as UTF-8, where `record` is
  the canonical JSON (`canonical`) of the object

      {"id", "seq", "kind", "application", "shipment", "decision", "from_status",
       "to_status", "occurred_at", "recorded_at", "actor", "note", "data", "corrects"}

  with the event's values: ids as integers or null, the two moments in UTC as
  `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six digits of microseconds), `data` as stored.
- **Canonical JSON** is PostgreSQL's text form of `jsonb`, so that SQL can write and check
  the chain on its own (`licenses_event_record(e, seq)::text` in migration 0015): object keys
  ordered by the length of their UTF-8 bytes, then bytewise; `", "` between members and
  elements, `": "` after a key; strings in double quotes with `"`, `\\`, backspace, form feed,
  newline, carriage return and tab escaped as `\\"`, `\\\\`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t`,
  other characters below U+0020 as `\\u00xx` (lowercase hex) and everything else as it is;
  integers in decimal; other numbers in plain decimal notation, without an exponent;
  `true`, `false`, `null`.

PostgreSQL links every event as it is inserted, whoever inserts it (the writers of
`write.py`, the set-based statements of the scan, a fast-track pass, COPY): a trigger
(migration 0015). SQLite has no such trigger: there the writers link their rows here
(`assign`) in the transaction that inserts them, SQLite's only writer at that moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from django.db import connection
from django.db.models import Q

from ..models import ChainSubject, Event, EventChain

GENESIS = "0" * 64
# The columns of an event's link, which only the linking sets.
LINK_COLUMNS = frozenset({"seq", "prev_hash", "hash"})

# The fields of an event the record holds, as (record key, column).
RECORD_FIELDS = (
    ("id", "id"),
    ("seq", "seq"),
    ("kind", "kind"),
    ("application", "application_id"),
    ("shipment", "shipment_id"),
    ("decision", "decision_id"),
    ("from_status", "from_status"),
    ("to_status", "to_status"),
    ("occurred_at", "occurred_at"),
    ("recorded_at", "recorded_at"),
    ("actor", "actor_id"),
    ("note", "note"),
    ("data", "data"),
    ("corrects", "corrects_id"),
)


def subject_of(row: Mapping[str, Any]) -> tuple[str, int]:
    """The chain an event (its columns: `shipment_id`, `application_id`, `decision_id`)
    belongs to, as (subject type, id)."""
    for subject, column in (
        (ChainSubject.SHIPMENT, "shipment_id"),
        (ChainSubject.APPLICATION, "application_id"),
        (ChainSubject.DECISION, "decision_id"),
    ):
        if row.get(column) is not None:
            return str(subject), int(row[column])
    raise ValueError("An event names no subject: it belongs to no chain.")


def _number(value: Decimal) -> str:
    if value.is_zero():
        value = abs(value)  # PostgreSQL's numeric has no negative zero
    return format(value, "f")


def canonical(value: Any) -> str:
    """`value` (what `json.loads` gives) as PostgreSQL writes it as `jsonb` text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, str):
        return encode_basestring(value)  # json.dumps(value, ensure_ascii=False), faster
    if isinstance(value, list | tuple):
        return "[" + ", ".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=_key_order)
        return "{" + ", ".join(f"{encode_basestring(k)}: {canonical(value[k])}" for k in keys) + "}"
    raise TypeError(f"Not a JSON value: {type(value).__name__}.")


def _key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode()
    return len(encoded), encoded


def as_stored(data: Any) -> Any:
    """`data` as the database will give it back: through JSON, numbers exactly."""
    return json.loads(json.dumps(data), parse_float=Decimal)


def parse_stored(text: str) -> Any:
    """A stored `data` column's JSON text, numbers exactly."""
    return json.loads(text, parse_float=Decimal)


def moment(value: dt.datetime | str) -> str:
    """A moment as the record writes it: UTC, microseconds, `Z`."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    utc = value.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


# The record's keys in canonical order, each with its column.
_RECORD_ORDER = tuple(sorted(RECORD_FIELDS, key=lambda pair: _key_order(pair[0])))


def record(row: Mapping[str, Any], *, seq: int) -> str:
    """The canonical record of an event (its columns; `data` as `as_stored` or
    `parse_stored` gives it) at position `seq` of its chain."""
    parts = []
    for key, column in _RECORD_ORDER:
        if key == "seq":
            value: Any = seq
        elif key in ("occurred_at", "recorded_at"):
            value = moment(row[column])
        elif key in ("from_status", "to_status", "note"):
            value = row.get(column) or ""
        else:
            value = row.get(column)
        parts.append(f'"{key}": {canonical(value)}')
    return "{" + ", ".join(parts) + "}"


def link(prev_hash: str, record_text: str) -> str:
    """The hash of an event whose chain's previous hash is `prev_hash`."""
    return hashlib.sha256(f"{prev_hash}\n{record_text}".encode()).hexdigest()


def event_hash(row: Mapping[str, Any], *, seq: int, prev_hash: str) -> str:
    return link(prev_hash, record(row, seq=seq))


def heads_of(subjects: Iterable[tuple[str, int]]) -> dict[tuple[str, int], EventChain]:
    """The chain rows of these subjects that exist."""
    by_type: dict[str, list[int]] = {}
    for subject_type, subject_id in set(subjects):
        by_type.setdefault(subject_type, []).append(subject_id)
    if not by_type:
        return {}
    condition = Q()
    for subject_type, ids in by_type.items():
        condition |= Q(subject_type=subject_type, subject_id__in=ids)
    return {(c.subject_type, c.subject_id): c for c in EventChain.objects.filter(condition)}


def _next_event_id() -> int:
    """SQLite: the id AUTOINCREMENT would give the next event."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM {table} "
            "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        row = cursor.fetchone()
    return int(row[0] or 0) + 1


def assign(rows: list[dict[str, Any]]) -> None:
    """SQLite: give each row (column -> value, in the order they are inserted) its id and its
    link (`seq`, `prev_hash`, `hash`), and move the heads of their chains. Call it inside the
    transaction that inserts the rows: there SQLite holds its write lock (transactions begin
    IMMEDIATE), so no other writer can take the same ids or links."""
    if not rows:
        return
    subjects = [subject_of(row) for row in rows]
    heads = heads_of(subjects)
    created: dict[tuple[str, int], EventChain] = {}
    next_id = _next_event_id()
    for row, subject in zip(rows, subjects, strict=True):
        row["id"] = next_id
        next_id += 1
        chain = heads.get(subject) or created.get(subject)
        seq, prev = (chain.length + 1, chain.head) if chain else (1, GENESIS)
        stored = {**row, "data": as_stored(row.get("data", {}))}
        digest = event_hash(stored, seq=seq, prev_hash=prev)
        row.update(seq=seq, prev_hash=prev, hash=digest)
        if chain is None:
            chain = created[subject] = EventChain(subject_type=subject[0], subject_id=subject[1])
        chain.length, chain.prev_hash, chain.head, chain.last_event_id = (
            seq,
            prev,
            digest,
            row["id"],
        )
    EventChain.objects.bulk_create(created.values())
    EventChain.objects.bulk_update(
        heads.values(), ["length", "prev_hash", "head", "last_event_id"], batch_size=500
    )


# --- PostgreSQL: linking the events stored before the chains (a migration, a benchmark build) --

LINK_BATCH = 25_000

# The chains' subjects: each one's key column and the condition that an event is in its chain.
_SUBJECTS = (
    (ChainSubject.SHIPMENT, "shipment_id", "e.shipment_id IS NOT NULL"),
    (ChainSubject.APPLICATION, "application_id", "e.shipment_id IS NULL"),
    (ChainSubject.DECISION, "decision_id", "e.shipment_id IS NULL AND e.application_id IS NULL"),
)

# One batch: the events of the subjects whose keys lie in [lo, hi), numbered in order of their
# ids, hashed by folding their records from the genesis hash, written back with their links;
# one chain row each.
_LINK_BATCH_SQL = """
WITH numbered AS (
    SELECT e AS ev, e.id, e.{key} AS subject_id,
           row_number() OVER (PARTITION BY e.{key} ORDER BY e.id)::integer AS seq
    FROM licenses_event e
    WHERE {condition} AND e.{key} >= %(lo)s AND e.{key} < %(hi)s
), hashed AS (
    SELECT id, subject_id, seq,
           licenses_event_chain_fold(%(genesis)s, licenses_event_record(ev, seq)) OVER chain
               AS hash
    FROM numbered
    WINDOW chain AS (PARTITION BY subject_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
), linked AS (
    SELECT id, subject_id, seq, hash,
           COALESCE(lag(hash) OVER (PARTITION BY subject_id ORDER BY seq), %(genesis)s)
               AS prev_hash
    FROM hashed
), updated AS (
    UPDATE licenses_event e SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
    FROM linked l WHERE e.id = l.id
    RETURNING e.id
)
INSERT INTO licenses_eventchain
    (subject_type, subject_id, length, prev_hash, head, last_event_id)
SELECT DISTINCT ON (subject_id) %(subject)s, subject_id, seq, prev_hash, hash, id
FROM linked
ORDER BY subject_id, seq DESC
"""


def link_stored(cursor: Any, *, batch: int = LINK_BATCH) -> None:
    """PostgreSQL: link every stored event into its chain, in order of ids, set-based in
    batches of `batch` subjects — for events stored while nothing linked them (before the
    chains existed; a benchmark's COPY with the trigger off). Their chains must have no rows
    yet. Writes the events' links despite the append-only trigger, which it turns off for its
    own transaction only (the caller must own the table and be in a transaction)."""
    cursor.execute("ALTER TABLE licenses_event DISABLE TRIGGER licenses_event_append_only")
    for subject, key, condition in _SUBJECTS:
        cursor.execute(f"SELECT min(e.{key}), max(e.{key}) FROM licenses_event e WHERE {condition}")
        lo, hi = cursor.fetchone()
        if lo is None:
            continue
        sql = _LINK_BATCH_SQL.format(key=key, condition=condition)
        for start in range(lo, hi + 1, batch):
            cursor.execute(
                sql,
                {"lo": start, "hi": start + batch, "subject": str(subject), "genesis": GENESIS},
            )
    cursor.execute("ALTER TABLE licenses_event ENABLE TRIGGER licenses_event_append_only")
