from django.db import migrations


class Migration(migrations.Migration):
    """The shipments' status tallies (`licenses.tallies`) from what is stored."""

    dependencies = [
        ("shipments", "0006_filing_deadline"),
        ("licenses", "0014_status_tallies"),
    ]

    operations = [
        migrations.RunSQL(
            "INSERT INTO licenses_statustally (exporter_id, authority_id, subject, status, n) "
            "SELECT exporter_id, NULL, 'shipment', status, COUNT(*) "
            "FROM shipments_shipment GROUP BY exporter_id, status",
            reverse_sql="DELETE FROM licenses_statustally WHERE subject = 'shipment'",
        ),
    ]
