"""The status tallies of all exporters together (`exporter` empty), summed from each
exporter's rows (0021 lets the column be empty first)."""

from django.db import migrations
from django.db.models import Sum


def add_all_exporters(apps, schema_editor):
    StatusTally = apps.get_model("licenses", "StatusTally")
    StatusTally.objects.filter(exporter__isnull=True).delete()
    sums = (
        StatusTally.objects.order_by()
        .values_list("authority_id", "subject", "status")
        .annotate(total=Sum("n"))
    )
    StatusTally.objects.bulk_create(
        (
            StatusTally(exporter_id=None, authority_id=a, subject=s, status=st, n=n)
            for a, s, st, n in sums
            if n
        ),
        batch_size=1000,
    )


def remove_all_exporters(apps, schema_editor):
    apps.get_model("licenses", "StatusTally").objects.filter(exporter__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0021_status_tally_all_exporters"),
    ]

    operations = [
        migrations.RunPython(add_all_exporters, remove_all_exporters),
    ]
