"""Every event is linked into its subject's chain (`licenses.events.chain`): its position
(`seq`), the previous event's hash and its own. On PostgreSQL a trigger links each event as it
is inserted, whoever inserts it (the set-based writers link theirs in the same statement), and
the SQL functions they use stay, also for anyone who checks the chain in SQL; the events
already stored are linked here, subject by subject in order of their ids
(`licenses.events.chain.link_stored`). On SQLite the event writer links what it inserts, and
the events already stored are linked here in Python.

Whoever applies this migration must own the events table (it disables the append-only
trigger of 0005 for its own transaction while it writes the links of the events stored)."""

from importlib import import_module

from django.db import migrations, models

_append_only = import_module("licenses.migrations.0005_events_append_only")
SQLITE_UP, SQLITE_DOWN = _append_only.SQLITE_UP, _append_only.SQLITE_DOWN

GENESIS = "0" * 64

# The record of an event at a position of its chain, as canonical JSON: the text PostgreSQL
# gives `jsonb` (keys by length, then bytewise; what `licenses.events.chain.canonical` writes),
# put together in that order by hand — building a `jsonb` and printing it costs three times
# as much — and the link, sha256(previous hash, newline, record) in hex.
PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION licenses_event_record_of(
    id bigint, seq integer, kind text, application_id bigint, shipment_id bigint,
    decision_id bigint, from_status text, to_status text, occurred_at timestamptz,
    recorded_at timestamptz, actor_id bigint, note text, data jsonb, corrects_id bigint
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT '{"id": ' || id
        || ', "seq": ' || seq
        || ', "data": ' || data::text
        || ', "kind": ' || to_json(kind)::text
        || ', "note": ' || to_json(note)::text
        || ', "actor": ' || COALESCE(actor_id::text, 'null')
        || ', "corrects": ' || COALESCE(corrects_id::text, 'null')
        || ', "decision": ' || COALESCE(decision_id::text, 'null')
        || ', "shipment": ' || COALESCE(shipment_id::text, 'null')
        || ', "to_status": ' || to_json(to_status)::text
        || ', "application": ' || COALESCE(application_id::text, 'null')
        || ', "from_status": ' || to_json(from_status)::text
        || ', "occurred_at": "'
        || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || '", "recorded_at": "'
        || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || '"}'
$$;

CREATE OR REPLACE FUNCTION licenses_event_record(e licenses_event, seq integer)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT licenses_event_record_of(
        e.id, seq, e.kind, e.application_id, e.shipment_id, e.decision_id, e.from_status,
        e.to_status, e.occurred_at, e.recorded_at, e.actor_id, e.note, e.data, e.corrects_id
    )
$$;

CREATE OR REPLACE FUNCTION licenses_event_link(prev_hash text, rec text)
RETURNS text LANGUAGE sql STABLE STRICT AS $$
    SELECT encode(sha256(convert_to(prev_hash || E'\n' || rec, 'UTF8')), 'hex')
$$;

-- The hashes of a chain's events in one pass: fold their records in order, from the hash the
-- chain had before them (a window aggregate over the chain, ordered by position). Its step is
-- PL/pgSQL: an aggregate calls a SQL function through the executor, three times slower. A
-- missing record (NULL) gives NULL: that chain is not linked here.
CREATE OR REPLACE FUNCTION licenses_event_chain_step(state text, head text, rec text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF rec IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN encode(sha256(convert_to(COALESCE(state, head) || E'\n' || rec, 'UTF8')), 'hex');
END
$$;

CREATE OR REPLACE AGGREGATE licenses_event_chain_fold(text, text) (
    SFUNC = licenses_event_chain_step, STYPE = text
);

-- Link an event as it is inserted: claim the next position of its subject's chain on the
-- chain's row (a second writer of the same subject waits there until the first commits,
-- then links after it), and set its position and hashes. Whatever the caller sent for them
-- is overwritten — except by the set-based writers of `licenses.events`, which link their
-- rows in the same statement, under the same row locks, and say so for their transaction
-- (`licenses.events_linked`).
CREATE OR REPLACE FUNCTION licenses_event_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    chain_subject text;
    chain_key bigint;
BEGIN
    IF NEW.hash <> '' AND current_setting('licenses.events_linked', true) = 'statement' THEN
        RETURN NEW;
    END IF;
    IF NEW.shipment_id IS NOT NULL THEN
        chain_subject := 'shipment'; chain_key := NEW.shipment_id;
    ELSIF NEW.application_id IS NOT NULL THEN
        chain_subject := 'application'; chain_key := NEW.application_id;
    ELSIF NEW.decision_id IS NOT NULL THEN
        chain_subject := 'decision'; chain_key := NEW.decision_id;
    ELSE
        RAISE EXCEPTION 'an event names no subject: it belongs to no chain'
            USING ERRCODE = 'not_null_violation';
    END IF;
    LOOP
        UPDATE licenses_eventchain AS c
           SET length = c.length + 1,
               prev_hash = c.head,
               head = licenses_event_link(c.head, licenses_event_record(NEW, c.length + 1)),
               last_event_id = NEW.id
         WHERE c.subject_type = chain_subject AND c.subject_id = chain_key
        RETURNING c.length, c.prev_hash, c.head INTO NEW.seq, NEW.prev_hash, NEW.hash;
        EXIT WHEN FOUND;
        INSERT INTO licenses_eventchain
            (subject_type, subject_id, length, prev_hash, head, last_event_id)
        VALUES (
            chain_subject, chain_key, 1, repeat('0', 64),
            licenses_event_link(repeat('0', 64), licenses_event_record(NEW, 1)), NEW.id
        )
        ON CONFLICT (subject_type, subject_id) DO NOTHING
        RETURNING length, prev_hash, head INTO NEW.seq, NEW.prev_hash, NEW.hash;
        EXIT WHEN FOUND;
    END LOOP;
    RETURN NEW;
END
$$;
"""
PG_TRIGGER = """
CREATE TRIGGER licenses_event_chain BEFORE INSERT ON licenses_event
    FOR EACH ROW EXECUTE FUNCTION licenses_event_chain();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS licenses_event_chain ON licenses_event;
DROP FUNCTION IF EXISTS licenses_event_chain();
DROP AGGREGATE IF EXISTS licenses_event_chain_fold(text, text);
DROP FUNCTION IF EXISTS licenses_event_chain_step(text, text, text);
DROP FUNCTION IF EXISTS licenses_event_link(text, text);
DROP FUNCTION IF EXISTS licenses_event_record(licenses_event, integer);
DROP FUNCTION IF EXISTS licenses_event_record_of(
    bigint, integer, text, bigint, bigint, bigint, text, text, timestamptz, timestamptz,
    bigint, text, jsonb, bigint
);
"""


def _no_subjectless_events(cursor) -> None:
    cursor.execute(
        "SELECT count(*) FROM licenses_event "
        "WHERE shipment_id IS NULL AND application_id IS NULL AND decision_id IS NULL"
    )
    (count,) = cursor.fetchone()
    if count:
        raise RuntimeError(
            f"{count} events name no application, shipment or decision: they belong to no "
            "chain. Give them a subject before migrating."
        )


def _link_postgresql(schema_editor) -> None:
    from licenses.events import chain

    with schema_editor.connection.cursor() as cursor:
        # No event is inserted meanwhile: they are linked on top of the chains filled here.
        cursor.execute("LOCK TABLE licenses_event IN SHARE ROW EXCLUSIVE MODE")
        _no_subjectless_events(cursor)
        cursor.execute(PG_FUNCTIONS)
        chain.link_stored(cursor)
        cursor.execute(PG_TRIGGER)


def _link_sqlite(apps, schema_editor) -> None:
    """SQLite (the embedded default: a small book): in Python, with the same record and link
    as the event writer. The table was just rebuilt with its new columns, without the
    append-only triggers, which are put back after."""
    import datetime as dt

    from licenses.events import chain

    def moment(value):
        value = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    EventChain = apps.get_model("licenses", "EventChain")
    columns = [c for _key, c in chain.RECORD_FIELDS if c != "seq"]
    with schema_editor.connection.cursor() as cursor:
        _no_subjectless_events(cursor)
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM licenses_event ORDER BY "
            "CASE WHEN shipment_id IS NOT NULL THEN 0 WHEN application_id IS NOT NULL THEN 1 "
            "ELSE 2 END, COALESCE(shipment_id, application_id, decision_id), id"
        )
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
        heads: dict[tuple[str, int], EventChain] = {}
        links = []
        for row in rows:
            row["occurred_at"], row["recorded_at"] = (
                moment(row["occurred_at"]),
                moment(row["recorded_at"]),
            )
            row["data"] = chain.parse_stored(row["data"])
            subject = chain.subject_of(row)
            head = heads.get(subject)
            seq, prev = (head.length + 1, head.head) if head else (1, GENESIS)
            digest = chain.event_hash(row, seq=seq, prev_hash=prev)
            links.append((seq, prev, digest, row["id"]))
            heads[subject] = EventChain(
                subject_type=subject[0],
                subject_id=subject[1],
                length=seq,
                prev_hash=prev,
                head=digest,
                last_event_id=row["id"],
            )
        cursor.executemany(
            "UPDATE licenses_event SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s", links
        )
    EventChain.objects.bulk_create(heads.values(), batch_size=500)


def link_stored_events(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _link_postgresql(schema_editor)
    elif vendor == "sqlite":
        _link_sqlite(apps, schema_editor)
        for sql in (*SQLITE_DOWN, *SQLITE_UP):
            schema_editor.execute(sql)


def unlink(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


def restore_sqlite_triggers(apps, schema_editor):
    """SQLite rebuilds the table to drop the new columns, and the append-only triggers of
    0005 with it: put them back."""
    if schema_editor.connection.vendor == "sqlite":
        for sql in (*SQLITE_DOWN, *SQLITE_UP):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0014_status_tallies"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        migrations.AlterModelOptions(
            name="event",
            options={
                "ordering": ["occurred_at", "id"],
                "permissions": [
                    ("export_event", "Can export the audit record of an exporter's events")
                ],
                "verbose_name": "event",
                "verbose_name_plural": "events",
            },
        ),
        migrations.AddField(
            model_name="event",
            name="hash",
            field=models.CharField(
                db_default="", default="", editable=False, max_length=64, verbose_name="hash"
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="prev_hash",
            field=models.CharField(
                db_default="",
                default="",
                editable=False,
                max_length=64,
                verbose_name="previous hash",
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="seq",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="position in its chain"
            ),
        ),
        migrations.CreateModel(
            name="EventChain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "subject_type",
                    models.CharField(
                        choices=[
                            ("application", "application"),
                            ("shipment", "shipment"),
                            ("decision", "fast-track decision"),
                        ],
                        max_length=11,
                    ),
                ),
                ("subject_id", models.BigIntegerField()),
                ("length", models.PositiveIntegerField()),
                ("head", models.CharField(max_length=64)),
                ("prev_hash", models.CharField(max_length=64)),
                ("last_event_id", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "event chain",
                "verbose_name_plural": "event chains",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subject_type", "subject_id"), name="event_chain_one_per_subject"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("subject_type__in", ["application", "shipment", "decision"])
                        ),
                        name="event_chain_valid_subject",
                    ),
                ],
            },
        ),
        migrations.RunPython(link_stored_events, unlink),
    ]
