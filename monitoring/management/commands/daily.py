"""`manage.py daily`: the daily job (fast-track decisions that begin or end, expiry, file-by
deadlines, then a scan)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import scan


class Command(BaseCommand):
    help = "Apply fast-track decisions that begin or end, expire licenses past their validity."

    def handle(self, *args, **options) -> None:
        result = scan.run_daily(now=timezone.now())
        self.stdout.write(result.summary())
