"""The event log is append-only in the database: triggers refuse UPDATE and DELETE, so not even
raw SQL rewrites history. TRUNCATE is left alone (test teardown)."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION licenses_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER licenses_event_append_only
    BEFORE UPDATE OR DELETE ON licenses_event
    FOR EACH ROW EXECUTE FUNCTION licenses_event_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS licenses_event_append_only ON licenses_event;
DROP FUNCTION IF EXISTS licenses_event_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER licenses_event_no_update BEFORE UPDATE ON licenses_event
       BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER licenses_event_no_delete BEFORE DELETE ON licenses_event
       BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS licenses_event_no_update;",
    "DROP TRIGGER IF EXISTS licenses_event_no_delete;",
]


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_UP:
            schema_editor.execute(sql)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("licenses", "0004_seed_authorities_and_items")]

    operations = [migrations.RunPython(up, down)]
