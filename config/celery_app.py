"""The Celery app: web, worker and beat all load it from the same settings."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def _reset_schedules(sender, **kwargs) -> None:
    """Beat starts: make sure the periodic tasks exist and the scan runs every
    SCAN_INTERVAL_SECONDS as configured now (see monitoring.schedules)."""
    from monitoring.schedules import ensure_schedules

    ensure_schedules(reset=True)
