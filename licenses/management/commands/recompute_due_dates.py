from django.core.management.base import BaseCommand
from django.utils import timezone

from licenses.services import recompute_due_dates


class Command(BaseCommand):
    help = "Recompute the due date of every pending application (e.g. after a holidays upgrade)."

    def handle(self, *args, **options) -> None:
        changed = recompute_due_dates(now=timezone.now(), note="recompute_due_dates")
        self.stdout.write(f"{changed} due dates changed.")
