# The applications list's default order (the latest submitted first, drafts last): an index in
# that order, on PostgreSQL only — SQLite (the embedded default) has no NULLS LAST in an index,
# and its books are small enough to sort.

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS application_submitted_id ON licenses_licenseapplication "
    "(submitted_at DESC NULLS LAST, id DESC)"
)
DROP = "DROP INDEX IF EXISTS application_submitted_id"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0017_dashboard_indexes"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
