"""`manage.py sweep_alerts`: send the alerts still pending (what the periodic sweep does)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import alerts


class Command(BaseCommand):
    help = "Send pending alerts whose time has come and retry failed digests of the day."

    def handle(self, *args, **options) -> None:
        self.stdout.write(alerts.sweep(now=timezone.now()).summary())
