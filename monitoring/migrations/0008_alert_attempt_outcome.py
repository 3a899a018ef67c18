"""A delivery attempt says its outcome (`started` until the SMTP exchange ends, then `sent` or
`failed`; `skipped` when it was never sent) and whether it is a resend after an unknown
outcome. Existing attempts keep what `ok` said: ok → sent; the outbox's "Not sent: …" notes →
skipped; every other → failed."""

from django.db import migrations, models


def outcome_from_ok(apps, schema_editor):
    AlertAttempt = apps.get_model("monitoring", "AlertAttempt")
    AlertAttempt.objects.filter(ok=True).update(state="sent")
    AlertAttempt.objects.filter(ok=False, error__startswith="Not sent:").update(state="skipped")


def ok_from_outcome(apps, schema_editor):
    AlertAttempt = apps.get_model("monitoring", "AlertAttempt")
    AlertAttempt.objects.filter(state="sent").update(ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_flag_tallies"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertattempt",
            name="state",
            field=models.CharField(
                choices=[
                    ("started", "started, not finished: outcome unknown"),
                    ("sent", "sent"),
                    ("failed", "failed"),
                    ("skipped", "not sent: cleared first"),
                ],
                default="failed",
                max_length=10,
                verbose_name="outcome",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="alertattempt",
            name="resend",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "An earlier attempt was cut off during the SMTP exchange, so the message "
                    "may have arrived already; this one carries the same Message-ID."
                ),
                verbose_name="resend after an unknown outcome",
            ),
        ),
        migrations.RunPython(outcome_from_ok, ok_from_outcome),
        migrations.RemoveField(
            model_name="alertattempt",
            name="ok",
        ),
        migrations.AlterField(
            model_name="alertattempt",
            name="at",
            field=models.DateTimeField(verbose_name="at"),
        ),
        migrations.AlterField(
            model_name="alertattempt",
            name="error",
            field=models.TextField(blank=True, verbose_name="error"),
        ),
        migrations.AlterModelOptions(
            name="alertattempt",
            options={
                "ordering": ["-at", "-id"],
                "verbose_name": "delivery attempt",
                "verbose_name_plural": "delivery attempts",
            },
        ),
        migrations.AddConstraint(
            model_name="alertattempt",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["started", "sent", "failed", "skipped"])),
                name="alert_attempt_valid_state",
            ),
        ),
    ]
