"""The periodic jobs, stored in django-celery-beat where an administrator sees them.

- the window scan, every `SCAN_INTERVAL_SECONDS` (default 300): reset to the setting every
  time beat starts (`config.celery_app` calls `ensure_schedules(reset=True)` on `beat_init`);
- the alert sweep, every `ALERT_SWEEP_INTERVAL_SECONDS` (default 60): reset the same way;
- the webhook sweep, every `WEBHOOK_SWEEP_INTERVAL_SECONDS` (default 60): reset the same way;
- the digest job, hourly at minute 0 (each user's digest goes out at their own local hour);
- the daily job (fast-track decisions that begin or end, expiry, file-by deadlines), at minute
  5 of every hour: each authority's day ends at its own midnight, and running hourly catches
  every one of them within the hour; the job is idempotent, so the extra runs change nothing.

The digest and daily schedules are created once and then belong to the administrator: beat
never overwrites an edit made in the admin.
"""

from __future__ import annotations

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

SCAN = "Window scan"
SWEEP = "Alert sweep"
WEBHOOKS = "Webhook sweep"
DIGESTS = "Digests"
DAILY = "Daily job"


def _every(seconds: int) -> IntervalSchedule:
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=max(int(seconds), 1), period=IntervalSchedule.SECONDS
    )
    return interval


def _interval_task(name: str, task: str, seconds: int, description: str, *, reset: bool) -> None:
    defaults = {
        "task": task,
        "interval": _every(seconds),
        "crontab": None,
        "enabled": True,
        # A run that waited longer than its interval is superseded by the next one.
        "expire_seconds": max(int(seconds), 1),
        "description": description,
    }
    if reset:
        PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
    else:
        PeriodicTask.objects.get_or_create(name=name, defaults=defaults)


def _crontab_task(name: str, task: str, minute: str, hour: str, description: str) -> None:
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "description": description}
    )


def ensure_schedules(*, reset: bool = False) -> None:
    """Create the periodic tasks that are missing; with `reset`, set the scan's and the
    sweeps' intervals to the current settings (beat does this whenever it starts)."""
    _interval_task(
        SCAN,
        "monitoring.scan_windows",
        settings.SCAN_INTERVAL_SECONDS,
        "Raises and clears flags; its interval is reset to SCAN_INTERVAL_SECONDS when beat starts.",
        reset=reset,
    )
    _interval_task(
        SWEEP,
        "monitoring.sweep_unsent_alerts",
        getattr(settings, "ALERT_SWEEP_INTERVAL_SECONDS", 60),
        "Sends alerts and password-reset e-mails still pending (their task was lost, or a "
        "retry is due).",
        reset=reset,
    )
    _interval_task(
        WEBHOOKS,
        "monitoring.send_webhooks",
        getattr(settings, "WEBHOOK_SWEEP_INTERVAL_SECONDS", 60),
        "Sends webhook deliveries that are due (new ones whose task was lost, and retries).",
        reset=reset,
    )
    _crontab_task(
        DIGESTS,
        "monitoring.send_digests",
        "0",
        "*",
        "Hourly: sends each user's daily digest at their local hour, once a day.",
    )
    _crontab_task(
        DAILY,
        "monitoring.daily",
        "5",
        "*",
        "Expiry and fast-track decisions that begin or end; hourly so that every authority's "
        "midnight is caught within the hour (idempotent).",
    )
