"""`manage.py sweep_alerts`: send the alerts still pending (what the periodic sweep does)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import alerts


class Command(BaseCommand):
    help = (
        "Send pending alerts whose time has come, retry failed digests of the day and send "
        "pending password-reset e-mails."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(alerts.sweep(now=timezone.now()).summary())
