"""Exactly once as far as SMTP allows: every attempt is written, and committed, before the SMTP
exchange starts; a claim that outlived its lease is sent again only when no attempt completed,
and a resend after an unknown outcome carries the same Message-ID."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from monitoring import alerts, scan
from monitoring.models import Alert, AlertAttempt, Digest, Flag

from .backends import HeldBackend, KilledBackend, WitnessBackend
from .builders import mofcom_application, moment

pytestmark = pytest.mark.django_db

OVERDUE_ON = moment("2026-12-04")  # for an application accepted on 24 Sept 2026
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def alert(exporter):
    mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=OVERDUE_ON)
    return Alert.objects.get()


def killed_mid_send(alert, settings, *, now=OVERDUE_ON):
    """A worker takes the alert and dies in the SMTP exchange, after the server took it."""
    KilledBackend.message_ids = []
    settings.EMAIL_BACKEND = "tests.monitoring.backends.KilledBackend"
    with pytest.raises(SystemExit):
        alerts.send_alert(alert.pk, now=now)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def outcomes(alert) -> list[tuple[str, bool]]:
    return list(alert.attempt_log.order_by("at", "pk").values_list("state", "resend"))


def test_a_worker_killed_mid_send_leaves_its_attempt_and_the_resend_keeps_the_message_id(
    alert, settings
):
    killed_mid_send(alert, settings)
    alert.refresh_from_db()
    assert (alert.state, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at == OVERDUE_ON + alerts.lease()  # its claim
    # The first delivery is on record: started, never finished, the outcome unknown.
    [first] = alert.attempt_log.all()
    assert (first.at, first.state, first.resend, first.error) == (OVERDUE_ON, "started", False, "")

    # While the claim holds, the worker may still be talking to the server: nobody resends.
    assert alerts.sweep(now=OVERDUE_ON + alerts.lease() - SECOND).sent == 0
    assert mail.outbox == []

    # Its lease ran out: the outcome is unknown, so it is sent again, at least once, under the
    # Message-ID the first delivery carried, even though SITE_URL has changed since.
    settings.SITE_URL = "https://tracker.example"
    result = alerts.sweep(now=OVERDUE_ON + alerts.lease())
    assert (result.sent, result.delivered) == (1, 0)
    [message] = mail.outbox
    assert KilledBackend.message_ids == [alert.message_id] == [f"<alert-{alert.pk}@127.0.0.1>"]
    assert message.extra_headers["Message-ID"] == alert.message_id
    assert outcomes(alert) == [("started", False), ("sent", True)]
    alert.refresh_from_db()
    assert (alert.state, alert.attempts, alert.sent_at) == (
        "sent",
        2,
        OVERDUE_ON + alerts.lease(),
    )

    # And never a third time.
    assert alerts.sweep(now=OVERDUE_ON + dt.timedelta(hours=2)).sent == 0
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON + dt.timedelta(hours=2)).state == "skipped"
    assert len(mail.outbox) == 1


def test_a_resend_that_fails_is_retried_and_still_marked_a_resend(alert, settings):
    killed_mid_send(alert, settings)
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    after_lease = OVERDUE_ON + alerts.lease()
    assert alerts.send_alert(alert.pk, now=after_lease).state == "retry"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts.send_alert(alert.pk, now=after_lease + alerts.backoff(2)).state == "sent"
    assert [(s, r) for s, r in outcomes(alert)] == [
        ("started", False),
        ("failed", True),
        ("sent", True),
    ]
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [alert.message_id]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_attempt_is_committed_before_the_smtp_exchange_begins(exporter, settings):
    """Another connection (another worker, the admin) sees the started attempt while the
    exchange is under way: a worker killed there leaves it behind."""
    mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    WitnessBackend.seen = []
    settings.EMAIL_BACKEND = "tests.monitoring.backends.WitnessBackend"
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "sent"
    assert WitnessBackend.seen == [[("started", False)]]
    assert outcomes(alert) == [("sent", False)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claim_that_outlived_its_lease_is_not_resent_when_its_attempt_completed(
    exporter, settings
):
    """A slow exchange outlives the claim's lease; the sweep claims the alert, and the slow
    worker's attempt completes before the sweep looks at the attempts: nothing is sent again."""
    mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    HeldBackend.reset()
    settings.EMAIL_BACKEND = "tests.monitoring.backends.HeldBackend"
    slow: list[alerts.Outcome] = []

    def slow_worker() -> None:
        try:
            slow.append(alerts.send_alert(alert.pk, now=OVERDUE_ON))
        finally:
            connection.close()

    worker = threading.Thread(target=slow_worker)
    worker.start()
    assert HeldBackend.entered.wait(timeout=30)
    look = alerts.earlier_attempts

    def after_the_slow_exchange_ends(**owner):
        HeldBackend.release.set()
        worker.join(timeout=30)
        return look(**owner)

    with mock.patch.object(alerts, "earlier_attempts", side_effect=after_the_slow_exchange_ends):
        result = alerts.sweep(now=OVERDUE_ON + alerts.lease())
    assert slow == [alerts.Outcome("sent")]
    assert (result.sent, result.delivered) == (0, 1)
    assert HeldBackend.delivered == [alert.message_id]  # once: the slow worker's
    alert.refresh_from_db()
    assert (alert.state, alert.sent_at, alert.attempts) == ("sent", OVERDUE_ON, 2)
    assert outcomes(alert) == [("sent", False)]
    assert "1 found sent by an earlier attempt" in result.summary()


def test_an_alert_whose_attempt_completed_but_was_never_marked_sent_is_marked_not_resent(alert):
    """What such a race leaves when the slow worker could not mark the alert: the attempt says
    it was sent, so the next claim marks the alert sent as of then and sends nothing."""
    Alert.objects.filter(pk=alert.pk).update(
        attempts=1, next_attempt_at=OVERDUE_ON + alerts.lease()
    )
    AlertAttempt.objects.create(alert=alert, at=OVERDUE_ON, state="sent")
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON + alerts.lease()) == alerts.DELIVERED
    assert mail.outbox == []
    alert.refresh_from_db()
    assert (alert.state, alert.sent_at, alert.next_attempt_at) == ("sent", OVERDUE_ON, None)
    assert Flag.objects.get().notified_at == OVERDUE_ON


def test_a_claim_that_ran_out_before_any_attempt_started_is_sent_plainly(alert):
    """The worker died before the SMTP exchange (writing the e-mail): nothing can have been
    delivered, so the next try is no resend."""
    Alert.objects.filter(pk=alert.pk).update(
        attempts=1, next_attempt_at=OVERDUE_ON + alerts.lease()
    )
    assert alerts.sweep(now=OVERDUE_ON + alerts.lease()).sent == 1
    assert outcomes(alert) == [("sent", False)]


def test_a_digest_killed_during_the_smtp_exchange_is_resent_under_the_same_message_id(
    manager, settings
):
    eight = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    KilledBackend.message_ids = []
    settings.EMAIL_BACKEND = "tests.monitoring.backends.KilledBackend"
    with pytest.raises(SystemExit):
        alerts.send_digests(now=eight)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    digest = Digest.objects.get()
    assert list(digest.attempt_log.values_list("state", flat=True)) == ["started"]

    assert alerts.retry_digests(now=eight + alerts.lease() - SECOND) == 0  # maybe still sending
    assert alerts.retry_digests(now=eight + alerts.lease()) == 1
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == digest.message_id == KilledBackend.message_ids[0]
    assert list(digest.attempt_log.order_by("at").values_list("state", "resend")) == [
        ("started", False),
        ("sent", True),
    ]
    assert alerts.retry_digests(now=eight + dt.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_the_admin_shows_an_attempt_cut_off_mid_send_and_the_resend_after_it(
    alert, settings, client, superuser
):
    killed_mid_send(alert, settings)
    client.force_login(superuser)
    changelist = reverse("admin:monitoring_alert_changelist")
    listed = client.get(changelist, {"unfinished": "1"}).content.decode()
    assert f"/admin/monitoring/alert/{alert.pk}/change/" in listed
    page = client.get(reverse("admin:monitoring_alert_change", args=[alert.pk])).content.decode()
    assert "started, not finished: outcome unknown" in page
    assert alert.message_id.replace("<", "&lt;").replace(">", "&gt;") in page

    alerts.sweep(now=OVERDUE_ON + alerts.lease())
    page = client.get(reverse("admin:monitoring_alert_change", args=[alert.pk])).content.decode()
    assert "resend after an unknown outcome" in page.lower()
    assert "started, not finished: outcome unknown" in page  # the first attempt stays on record
    assert page.count('alt="True"') == 1  # the resend, and only it, is ticked
    sent_only = client.get(changelist, {"unfinished": "1", "state": "pending"}).content.decode()
    assert f"/admin/monitoring/alert/{alert.pk}/change/" not in sent_only
