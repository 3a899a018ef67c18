"""Celery tasks: thin wrappers that read the clock and call the services.

Every periodic task is also a management command running the same code (`scan_windows`,
`send_digests`, `daily`, `sweep_alerts`, `send_webhooks`). Tasks are acknowledged late, so a
task lost with its worker runs again; each is idempotent (see `monitoring.scan`,
`monitoring.alerts` and `monitoring.webhooks`).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import alerts, password_reset, scan, webhooks


@shared_task(name="monitoring.scan_windows")
def scan_windows() -> str:
    return scan.scan(now=timezone.now(), incremental=True).summary()


@shared_task(name="monitoring.send_alert")
def send_alert(alert_id: int) -> str:
    """Send one alert; a failure is recorded and retried with backoff. A redelivered task
    finds the alert sent (or claimed) and does nothing."""
    outcome = alerts.send_alert(alert_id, now=timezone.now())
    if outcome.retry_in is not None:
        alerts.schedule_retry(alert_id, outcome.retry_in)
    return outcome.state


@shared_task(name="monitoring.send_password_reset")
def send_password_reset(request_id: int) -> str:
    """Mail the reset link of one request to the accounts with its address, if any (a failure
    is retried by the sweep). A redelivered task finds it handled and does nothing."""
    return password_reset.password_reset_send(request_id, now=timezone.now())


@shared_task(name="monitoring.sweep_unsent_alerts")
def sweep_unsent_alerts() -> str:
    return alerts.sweep(now=timezone.now()).summary()


@shared_task(name="monitoring.send_webhooks", acks_late=True)
def send_webhooks() -> str:
    """Send the webhook deliveries that are due (queued after a change commits, and
    periodically as the sweep); each is claimed before it is sent, so runs may overlap."""
    return webhooks.sweep(now=timezone.now()).summary()


@shared_task(name="monitoring.send_digests")
def send_digests() -> str:
    return f"{alerts.send_digests(now=timezone.now())} digest(s) sent"


@shared_task(name="monitoring.daily")
def daily() -> str:
    return scan.run_daily(now=timezone.now()).summary()


@shared_task(name="monitoring.refresh_decision_file_by", acks_late=True, time_limit=3600)
def refresh_decision_file_by(decision_id: int, now: str) -> str:
    """After a large fast-track pass: the file-by deadlines of the shipments in the decision's
    scope follow (`scan.refresh_decision_scope`), and their flags. Idempotent; the daily job
    recomputes every deadline anyway."""
    from licenses.fasttrack import scope_of
    from licenses.models import FastTrackDecision

    decision = FastTrackDecision.objects.get(pk=decision_id)
    result = scan.refresh_decision_scope(
        now=dt.datetime.fromisoformat(now),
        authority_id=decision.authority_id,
        scope=scope_of(decision),
    )
    return result.summary()
