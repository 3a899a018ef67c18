"""The alert outbox: who is alerted, one e-mail per raised flag, delivery at least once and
never twice, retries with backoff, the sweep."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from kombu.exceptions import OperationalError

from licenses import services
from licenses.models import LicenseApplication
from monitoring import alerts, scan
from monitoring.models import Alert, AlertAttempt, AlertPreference, Flag

from ..conftest import make_user
from ..factories import ApplicationFactory, ExporterFactory
from .backends import RefusingBackend
from .builders import accept, mofcom_application, moment, shipment, submit

pytestmark = pytest.mark.django_db

OVERDUE_ON = moment("2026-12-04")  # for an application accepted on 24 Sept 2026


def overdue_application(exporter, **kwargs):
    return mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24", **kwargs)


def watch(user, *exporters, kinds=("overdue",), **fields):
    preference, _ = AlertPreference.objects.update_or_create(
        user=user, defaults={"immediate_kinds": list(kinds), **fields}
    )
    preference.watched_exporters.set(exporters)
    return preference


def recipients_of(flag_kind: str, subject) -> list[str]:
    return sorted(
        Alert.objects.filter(flag__kind=flag_kind, flag__application=subject).values_list(
            "recipient", flat=True
        )
    )


# --- who is alerted --------------------------------------------------------------------------


def test_an_overdue_application_alerts_the_exporters_compliance_contacts(exporter):
    app = overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    assert recipients_of("overdue", app) == ["compliance@ganzhou.example"]


def test_users_who_watch_the_exporter_and_chose_the_kind_are_alerted(ganzhou, viewer):
    watch(viewer, ganzhou, kinds=["overdue"])
    other = make_user("walt_watcher", None)
    watch(other, ganzhou, kinds=["at_risk"])
    app = overdue_application(ganzhou)
    scan.scan(now=OVERDUE_ON)
    assert recipients_of("overdue", app) == sorted(
        [*ganzhou.contact_emails, "vera_viewer@example.com"]
    )


def test_a_user_limited_to_other_exporters_never_receives_an_alert_about_this_one(
    ganzhou, baotou, outsider
):
    watch(outsider, ganzhou, baotou, kinds=["overdue"])  # watches it, but may not see it
    app = overdue_application(ganzhou)
    scan.scan(now=OVERDUE_ON)
    assert "otto_outsider@example.com" not in recipients_of("overdue", app)


def test_officers_without_preferences_get_immediate_alerts_for_what_they_may_see(
    ganzhou, baotou, officer, manager, limited, outsider
):
    app = overdue_application(ganzhou)
    scan.scan(now=OVERDUE_ON)
    # officer: every exporter; limited: Ganzhou only; outsider: Baotou only; manager: digest.
    assert recipients_of("overdue", app) == sorted(
        [*ganzhou.contact_emails, "lin_limited@example.com", "olga_officer@example.com"]
    )


def test_inactive_users_and_users_without_an_address_are_never_alerted(ganzhou, officer):
    officer.is_active = False
    officer.save()
    mute = make_user("no_mail", None)
    mute.email = ""
    mute.save()
    watch(mute, ganzhou, kinds=["overdue"])
    app = overdue_application(ganzhou)
    scan.scan(now=OVERDUE_ON)
    assert recipients_of("overdue", app) == ganzhou.contact_emails


def test_a_contact_who_is_also_a_watching_user_gets_one_email(viewer):
    exporter = ExporterFactory(contact_emails=["Vera_Viewer@example.com", "ops@example.com"])
    watch(viewer, exporter, kinds=["overdue"])
    app = overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alerts_sent = Alert.objects.filter(flag__application=app).order_by("recipient")
    assert [(a.recipient.lower(), a.user_id) for a in alerts_sent] == [
        ("ops@example.com", None),
        ("vera_viewer@example.com", viewer.pk),
    ]


def test_one_email_per_flag_whatever_number_of_shipments_the_application_covers(exporter):
    app = ApplicationFactory(exporter=exporter, license_type="general")
    submit(app, "2026-09-20")
    accept(app, "2026-09-24")
    for ship in ("2026-12-20", "2026-12-21", "2026-12-22"):
        shipment(exporter, ship=ship, application=app, recorded=moment("2026-09-25"))
    scan.scan(now=OVERDUE_ON)
    assert recipients_of("overdue", app) == ["compliance@ganzhou.example"]


def test_due_soon_and_expiring_flags_send_no_immediate_email(exporter):
    app = mofcom_application(exporter, submitted="2026-09-21")
    scan.scan(now=moment("2026-09-29"))
    assert Flag.objects.get(application=app).kind == "due_soon"
    assert not Alert.objects.exists()


# --- the outbox and the queue ----------------------------------------------------------------


def test_alerts_are_written_with_the_flag_and_queued_after_commit(
    exporter, django_capture_on_commit_callbacks
):
    overdue_application(exporter)
    with (
        mock.patch("monitoring.tasks.send_alert.apply_async") as queue,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        scan.scan(now=OVERDUE_ON)
        assert Alert.objects.count() == 1  # written before commit, in the flag's transaction
        assert queue.call_count == 0
    alert = Alert.objects.get()
    assert len(callbacks) == 1
    queue.assert_called_once_with((alert.pk,), retry=False)
    assert alert.state == "pending"
    assert alert.next_attempt_at == OVERDUE_ON + dt.timedelta(seconds=120)  # due for the sweep
    assert alert.message_id == f"<alert-{alert.pk}@127.0.0.1>"


def test_a_broker_error_is_logged_and_swallowed_and_queueing_pauses(caplog, monkeypatch):
    monkeypatch.setattr(alerts, "_broker_paused_until", 0.0)
    with mock.patch(
        "monitoring.tasks.send_alert.apply_async", side_effect=OperationalError("refused")
    ) as queue:
        with caplog.at_level(logging.WARNING, logger="monitoring.alerts"):
            assert alerts.publish([1, 2]) is False
        assert "the sweep will send them" in caplog.text
        assert alerts.publish([3]) is False  # the broker was just down: not even tried
    assert queue.call_count == 1


# --- delivery --------------------------------------------------------------------------------


def test_an_alert_email_names_the_flag_and_reference_and_links_to_the_page(exporter, settings):
    settings.SITE_URL = "https://tracker.example"
    app = overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "sent"
    [message] = mail.outbox
    assert message.subject == f"Overdue: application {app.reference} ({exporter.name})"
    assert message.to == ["compliance@ganzhou.example"]
    assert message.extra_headers["Message-ID"] == f"<alert-{alert.pk}@tracker.example>"
    link = f"https://tracker.example/applications/{app.pk}/"
    assert link in message.body
    assert "was due to be decided on 3 December 2026" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and f'href="{link}"' in html
    alert.refresh_from_db()
    assert (alert.state, alert.attempts, alert.sent_at) == ("sent", 1, OVERDUE_ON)
    assert Flag.objects.get().notified_at == OVERDUE_ON
    assert list(AlertAttempt.objects.values_list("state", "error", "resend")) == [
        ("sent", "", False)
    ]


def test_a_shipment_alert_links_to_the_shipment(exporter):
    goods = shipment(exporter, ship="2026-12-15")
    scan.scan(now=moment("2026-10-01"))
    alert = Alert.objects.get(flag__kind="file_by")
    alerts.send_alert(alert.pk, now=moment("2026-10-01"))
    [message] = mail.outbox
    assert message.subject == f"File by: shipment {goods.reference} ({exporter.name})"
    assert f"/shipments/{goods.pk}/" in message.body
    assert "the last day to file one, for a decision in time, was 22 September 2026" in (
        " ".join(message.body.split())
    )


def test_a_redelivered_task_does_not_send_an_alert_again(exporter):
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "sent"
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON + dt.timedelta(hours=2)).state == "skipped"
    assert len(mail.outbox) == 1


def test_an_alert_claimed_by_another_worker_is_left_to_it(exporter):
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(
        attempts=1, next_attempt_at=OVERDUE_ON + alerts.lease()
    )  # what a claim does
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "skipped"
    assert mail.outbox == []


def test_an_smtp_failure_is_recorded_and_retried_with_backoff_under_the_same_message_id(
    exporter, settings
):
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    RefusingBackend.message_ids = []
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"

    first = alerts.send_alert(alert.pk, now=OVERDUE_ON)
    assert (first.state, first.retry_in) == ("retry", dt.timedelta(seconds=60))
    alert.refresh_from_db()
    assert (alert.state, alert.attempts) == ("pending", 1)
    assert alert.next_attempt_at == OVERDUE_ON + dt.timedelta(seconds=60)
    [attempt] = alert.attempt_log.all()
    assert attempt.state == "failed" and "Connection refused" in attempt.error

    assert alerts.send_alert(alert.pk, now=OVERDUE_ON + dt.timedelta(seconds=30)).state == (
        "skipped"
    )  # not due yet
    second = alerts.send_alert(alert.pk, now=OVERDUE_ON + dt.timedelta(seconds=60))
    assert second.retry_in == dt.timedelta(seconds=120)  # doubled

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = OVERDUE_ON + dt.timedelta(seconds=180)
    assert alerts.send_alert(alert.pk, now=later).state == "sent"
    assert len(mail.outbox) == 1
    assert RefusingBackend.message_ids == [alert.message_id] * 2
    assert mail.outbox[0].extra_headers["Message-ID"] == alert.message_id
    assert list(alert.attempt_log.order_by("at").values_list("state", flat=True)) == [
        "failed",
        "failed",
        "sent",
    ]


def test_after_the_last_attempt_an_alert_is_marked_failed_and_kept(exporter, settings):
    settings.ALERT_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    alerts.send_alert(alert.pk, now=OVERDUE_ON)
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON + dt.timedelta(minutes=1)).state == "failed"
    alert.refresh_from_db()
    assert (alert.state, alert.attempts, alert.next_attempt_at) == ("failed", 2, None)
    assert alert.attempt_log.count() == 2


def test_an_alert_to_a_user_deactivated_since_is_not_sent(ganzhou, viewer):
    watch(viewer, ganzhou, kinds=["overdue"])
    overdue_application(ganzhou)
    scan.scan(now=OVERDUE_ON)
    viewer.is_active = False
    viewer.save()
    alert = Alert.objects.get(user=viewer)
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "failed"
    assert mail.outbox == []


def test_the_sweep_sends_an_alert_whose_task_was_never_queued(exporter):
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)  # nothing is queued: no on_commit in this test transaction
    assert alerts.sweep(now=OVERDUE_ON + dt.timedelta(seconds=119)).sent == 0
    assert alerts.sweep(now=OVERDUE_ON + dt.timedelta(seconds=120)).sent == 1
    assert len(mail.outbox) == 1
    assert alerts.sweep(now=OVERDUE_ON + dt.timedelta(hours=1)).sent == 0


def test_the_sweep_stops_early_when_the_mail_server_is_down(settings):
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    for n in range(5):
        overdue_application(ExporterFactory(contact_emails=[f"c{n}@example.com"]))
    scan.scan(now=OVERDUE_ON)
    result = alerts.sweep(now=OVERDUE_ON + dt.timedelta(minutes=5))
    assert (result.sent, result.failed) == (0, alerts.SWEEP_GIVE_UP_AFTER)


def test_a_second_scan_changes_nothing_and_sends_nothing(exporter, officer):
    overdue_application(exporter)
    shipment(exporter, ship="2026-12-15")
    first = scan.scan(now=OVERDUE_ON)
    assert first.raised == 2 and first.alerts == 4  # overdue + file_by, to 2 recipients each
    alerts.sweep(now=OVERDUE_ON + dt.timedelta(minutes=3))
    assert len(mail.outbox) == 4
    flags, events = Flag.objects.count(), exporter.applications.get().events.count()

    second = scan.scan(now=OVERDUE_ON + dt.timedelta(minutes=5))
    assert (second.raised, second.cleared, second.alerts) == (0, 0, 0)
    alerts.sweep(now=OVERDUE_ON + dt.timedelta(minutes=10))
    assert len(mail.outbox) == 4
    assert Flag.objects.count() == flags
    assert exporter.applications.get().events.count() == events


def test_an_at_risk_email_explains_a_stopped_clock(exporter):
    app = overdue_application(exporter)
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    when = moment("2026-10-12")
    services.application_request_info(application=app, at=when, now=when, actor=None)
    alert = Alert.objects.get(flag__shipment=goods)
    alerts.send_alert(alert.pk, now=when)
    [message] = mail.outbox
    assert "waiting for information the authority requested" in message.body


# --- cleared before sending ------------------------------------------------------------------


def test_an_alert_whose_flag_cleared_before_sending_is_not_sent_but_marked_skipped(
    exporter, client, superuser
):
    """The case seen: a shipment recorded for a draft raises `file_by`, and filing the draft a
    moment later clears it; its contact must not read "File by" about it."""
    draft = mofcom_application(exporter, submitted=None)
    recorded = moment("2026-10-01")
    goods = shipment(exporter, ship="2026-12-15", application=draft, recorded=recorded)
    flag = Flag.objects.get(shipment=goods, kind="file_by")
    alert = Alert.objects.get(flag=flag)
    submit(draft, "2026-10-01")
    flag.refresh_from_db()
    assert flag.cleared_at is not None

    sent_at = recorded + dt.timedelta(seconds=5)
    assert alerts.send_alert(alert.pk, now=sent_at).state == "cleared"
    assert mail.outbox == []
    alert.refresh_from_db()
    assert (alert.state, alert.sent_at, alert.next_attempt_at) == ("skipped", None, None)
    [note] = alert.attempt_log.all()
    assert note.at == sent_at and note.state == "skipped"
    assert note.error.startswith("Not sent: its flag cleared first")
    # Never again: not by a redelivered task, the sweep or the admin's retry.
    assert alerts.send_alert(alert.pk, now=sent_at + dt.timedelta(hours=1)).state == "skipped"
    assert alerts.sweep(now=sent_at + dt.timedelta(hours=1)).sent == 0
    result = alerts.alert_retry(alerts=Alert.objects.filter(pk=alert.pk), now=sent_at)
    assert (result.due, result.skipped) == (0, 1)
    alert.refresh_from_db()
    assert alert.state == "skipped" and mail.outbox == []

    # The admin shows it in the outbox, under its own filter, with when and why.
    client.force_login(superuser)
    listing = client.get(reverse("admin:monitoring_alert_changelist"), {"state": "skipped"})
    html = listing.content.decode()
    assert listing.status_code == 200 and "not sent: cleared first" in html
    assert goods.reference in html
    sent = client.get(reverse("admin:monitoring_alert_changelist"), {"state": "sent"})
    assert goods.reference not in sent.content.decode()
    detail = client.get(reverse("admin:monitoring_alert_change", args=[alert.pk])).content.decode()
    assert "Not sent: its flag cleared first" in detail


def test_an_alert_whose_cause_is_gone_before_the_scan_clears_its_flag_is_skipped(exporter):
    """A due date moved later (as a new fast-track decision does) before any scan ran: the flag
    is still open, but "overdue" would no longer be true."""
    app = overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    alert = Alert.objects.get()
    LicenseApplication.objects.filter(pk=app.pk).update(due_at=OVERDUE_ON + dt.timedelta(days=30))
    assert alerts.send_alert(alert.pk, now=OVERDUE_ON).state == "cleared"
    assert mail.outbox == []
    alert.refresh_from_db()
    assert alert.state == "skipped"
    assert "no longer holds" in alert.attempt_log.get().error


def test_the_sweep_counts_the_alerts_it_skips(exporter):
    draft = mofcom_application(exporter, submitted=None)
    shipment(exporter, ship="2026-12-15", application=draft, recorded=moment("2026-10-01"))
    submit(draft, "2026-10-01")  # clears the shipment's file_by; never accepted: overdue later
    overdue_application(exporter)
    scan.scan(now=OVERDUE_ON)
    result = alerts.sweep(now=OVERDUE_ON + dt.timedelta(minutes=3))
    assert (result.sent, result.cleared, result.failed) == (2, 1, 0)
    assert "2 alert(s) sent, 0 failed, 1 skipped (cleared first)" in result.summary()
    assert sorted(m.subject.split(":")[0] for m in mail.outbox) == ["Overdue", "Overdue"]
