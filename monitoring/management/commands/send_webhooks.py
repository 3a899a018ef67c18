"""`manage.py send_webhooks`: send the webhook deliveries that are due (the periodic sweep)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import webhooks


class Command(BaseCommand):
    help = "Send pending webhook deliveries whose time has come (new ones and retries)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(webhooks.sweep(now=timezone.now()).summary())
