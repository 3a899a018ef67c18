"""`manage.py send_digests`: the hourly digest job."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import alerts


class Command(BaseCommand):
    help = "Send each user whose local digest hour has come their digest of the day (once a day)."

    def handle(self, *args, **options) -> None:
        sent = alerts.send_digests(now=timezone.now())
        self.stdout.write(f"{sent} digest(s) sent")
