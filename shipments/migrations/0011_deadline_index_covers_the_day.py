# The partial index of planned deadlines also carries the last day to file (INCLUDE), so the
# work queue counts the deadlines still to come within its horizon from the index alone
# instead of visiting thousands of rows. PostgreSQL only: SQLite has no INCLUDE, and the model
# keeps the index as both databases know it.

from django.db import migrations

COVERING = (
    "DROP INDEX IF EXISTS filing_deadline_planned; "
    "CREATE INDEX filing_deadline_planned ON shipments_filingdeadline (file_by_at) "
    "INCLUDE (file_by_date) WHERE planned"
)
PLAIN = (
    "DROP INDEX IF EXISTS filing_deadline_planned; "
    "CREATE INDEX filing_deadline_planned ON shipments_filingdeadline (file_by_at) WHERE planned"
)


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("shipments", "0010_status_ship_date_index"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(COVERING), _on_postgresql(PLAIN)),
    ]
