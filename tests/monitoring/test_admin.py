"""The alert outbox in the back-office: every attempt and its error, and a way to send again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring import alerts, scan
from monitoring.models import Alert

from .builders import mofcom_application, moment

pytestmark = pytest.mark.django_db

OVERDUE_ON = moment("2026-12-04")


@pytest.fixture
def failed_alert(exporter, settings):
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    settings.ALERT_MAX_ATTEMPTS = 1
    mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    alerts.send_alert(alert.pk, now=OVERDUE_ON)
    alert.refresh_from_db()
    assert alert.state == "failed"
    return alert


def test_the_admin_shows_each_attempt_of_an_alert_with_its_error(client, superuser, failed_alert):
    client.force_login(superuser)
    page = client.get(reverse("admin:monitoring_alert_change", args=[failed_alert.pk]))
    assert page.status_code == 200
    assert "Connection refused" in page.content.decode()


def test_an_administrator_can_send_a_failed_alert_again(client, superuser, failed_alert):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:monitoring_alert_changelist"),
        {"action": "retry_now", "_selected_action": [failed_alert.pk]},
    )
    assert response.status_code == 302
    failed_alert.refresh_from_db()
    assert failed_alert.state == "pending"
