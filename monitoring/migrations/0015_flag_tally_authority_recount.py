"""The flag tallies counted again, by authority too (the column is added by 0014: its
constraint and index are created at the end of that migration, before these rows change)."""

import datetime as dt
from collections import Counter

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

KEEP_HOURS = 100 * 24
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def recount(apps, schema_editor):
    """The tallies again, now by authority too (as `monitoring.flag_tallies.rebuild` counts
    them): an application's flag under its application's authority."""
    Flag = apps.get_model("monitoring", "Flag")
    FlagTally = apps.get_model("monitoring", "FlagTally")
    now = timezone.now().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    cutoff = now - dt.timedelta(hours=KEEP_HOURS)
    sums = Counter()
    for column, sign, flags in (
        ("raised_at", 1, Flag.objects.all()),
        ("cleared_at", -1, Flag.objects.filter(cleared_at__isnull=False)),
    ):
        for exporter, authority, kind, hour, n in (
            flags.order_by()
            .annotate(h=TruncHour(column, tzinfo=dt.UTC))
            .values_list("exporter_id", "application__authority_id", "kind", "h")
            .annotate(n=Count("id"))
        ):
            bucket = EPOCH if hour < cutoff else hour
            sums[(exporter, authority, kind, bucket)] += sign * n
            sums[(None, authority, kind, bucket)] += sign * n
    FlagTally.objects.all().delete()
    FlagTally.objects.bulk_create(
        (
            FlagTally(exporter_id=e, authority_id=a, kind=k, hour=h, n=n)
            for (e, a, k, h), n in sums.items()
            if n
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0014_flag_tally_authority"),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
