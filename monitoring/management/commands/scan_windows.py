"""`manage.py scan_windows`: the window scan, exactly as the periodic task runs it."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import scan


class Command(BaseCommand):
    help = "Raise and clear flags (overdue, due soon, expiring, at risk, file by) and queue alerts."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Look at everything, not only what time changed since the previous scan.",
        )

    def handle(self, *args, **options) -> None:
        result = scan.scan(now=timezone.now(), incremental=not options["full"])
        self.stdout.write(result.summary())
