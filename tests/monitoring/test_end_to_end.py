"""End to end, for real: a Celery worker (and beat) in subprocesses on the real Redis, an SMTP
server on localhost, the test database shared through DATABASE_URL. No eager tasks.

Time here is the real clock: the data is dated relative to today.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config.celery_app import app as celery_app
from licenses import services
from licenses.calendars import subtract_days
from licenses.clock import calendar_for
from licenses.models import LicenseApplication
from monitoring import scan
from monitoring.models import Alert, AlertAttempt, PasswordResetRequest
from shipments import services as shipping

from ..conftest import make_user
from ..factories import ApplicationFactory, ConsigneeFactory, ExporterFactory, authority, item
from ..helpers import SHANGHAI
from .e2e import (
    HoldingInbox,
    SMTPServer,
    celery_processes,
    finished_runs,
    free_port,
    point_web_side_at,
    wait_for,
    worker_idle,
)

SWEEP = "monitoring.sweep_unsent_alerts"
QUICKLY = 10  # seconds: far below a hung broker's waits, far above a busy CI machine's delays

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def redis_broker(transactional_db):
    """This process (the web side) publishes to the test Redis, with its queue emptied first."""
    point_web_side_at(settings.TEST_REDIS_URL)
    celery_app.control.purge()
    yield settings.TEST_REDIS_URL
    point_web_side_at(settings.CELERY_BROKER_URL)


@pytest.fixture
def exporter(transactional_db):
    return ExporterFactory(
        name="Ganzhou Rare Earth Trading Co., Ltd.", contact_emails=["compliance@ganzhou.example"]
    )


def beijing(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def accepted_working_days_ago(exporter, days: int) -> LicenseApplication:
    """A MOFCOM application accepted `days` Chinese working days ago, each move recorded on
    the day it happened (so nothing was due when it was recorded)."""
    today = timezone.now().astimezone(SHANGHAI).date()
    accepted_on = subtract_days(
        calendar=calendar_for(authority("MOFCOM")), end=today, n=days, unit="working"
    )
    app = ApplicationFactory(exporter=exporter)
    when = beijing(accepted_on - dt.timedelta(days=3))
    services.application_submit(application=app, at=when, now=when, actor=None)
    when = beijing(accepted_on)
    services.application_accept(application=app, at=when, now=when, actor=None)
    return app


def test_an_application_stuck_50_working_days_becomes_overdue_and_its_email_arrives(
    tmp_path, redis_broker, exporter
):
    app = accepted_working_days_ago(exporter, 50)  # due 45 working days after acceptance
    assert not Alert.objects.exists()
    smtp = SMTPServer()
    smtp.start()
    try:
        # Beat schedules the scan every 2 s; the worker scans, writes the alert, queues it
        # after commit and sends it.
        with celery_processes(
            tmp_path, smtp_port=smtp.port, beat=True, extra_env={"SCAN_INTERVAL_SECONDS": "2"}
        ) as processes:
            wait_for(
                lambda: smtp.messages,
                timeout=30,
                what="the overdue e-mail\n" + processes["worker"].output()[-3000:],
            )
    finally:
        smtp.stop()
    [message] = smtp.messages
    alert = Alert.objects.get()
    assert message["To"] == "compliance@ganzhou.example"
    assert message["Subject"] == f"Overdue: application {app.reference} ({exporter.name})"
    assert message["Message-ID"] == alert.message_id
    assert message.is_multipart()  # plain text and HTML
    assert (alert.state, alert.attempts) == ("sent", 1)
    assert alert.flag.kind == "overdue" and alert.flag.notified_at is not None


@pytest.mark.urls("tests.monitoring.urls")
def test_with_the_broker_down_a_move_succeeds_quickly_and_the_sweep_sends_its_alert(
    tmp_path, redis_broker, exporter, settings, caplog
):
    settings.ALERT_SWEEP_AFTER_SECONDS = 2
    today = timezone.now().astimezone(SHANGHAI).date()
    app = ApplicationFactory(exporter=exporter)
    when = beijing(today - dt.timedelta(days=2))
    services.application_submit(application=app, at=when, now=when, actor=None)
    goods = shipping.shipment_create(
        now=when,
        actor=None,
        exporter=exporter,
        reference="SHP-E2E-2",
        item=item(),
        quantity=Decimal("100"),
        value=Decimal("1000"),
        currency="USD",
        destination="DE",
        # Safe while only submitted (accepted within 10 working days), at risk once accepted.
        planned_ship_date=today + dt.timedelta(days=30),
        consignee=ConsigneeFactory(exporter=exporter),
        application=app,
    )
    assert not Alert.objects.exists()
    smtp = SMTPServer()
    smtp.start()
    try:
        with celery_processes(
            tmp_path, smtp_port=smtp.port, beat=True, extra_env={"SCAN_INTERVAL_SECONDS": "3600"}
        ) as processes:
            point_web_side_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
            client = Client()
            with caplog.at_level(logging.WARNING, logger="monitoring.alerts"):
                started = time.monotonic()
                response = client.post(f"/e2e/applications/{app.pk}/accept/")
                elapsed = time.monotonic() - started
            assert response.status_code == 200, response.content
            # The behaviour under test is a time bound: a dead broker must not hang the request
            # (without the fail-fast options it waits on connect timeouts and retries). The
            # bound is generous: the suite runs in parallel on small machines.
            assert elapsed < QUICKLY, f"the request took {elapsed:.1f} s"
            assert "the sweep will send them" in caplog.text
            # Accepted now, it is due 45 working days from today: after the ship date.
            alert = Alert.objects.get(flag__shipment=goods, flag__kind="at_risk")
            assert alert.state == "pending" and alert.attempts == 0

            point_web_side_at(settings.TEST_REDIS_URL)  # the broker is back
            wait_for(
                lambda: smtp.messages,
                timeout=30,
                what="the at-risk e-mail\n" + processes["worker"].output()[-3000:],
            )
            # Two more sweeps run after the one that sent it; they send nothing twice.
            sweeps = finished_runs(processes["worker"], SWEEP) + 2
            wait_for(
                lambda: finished_runs(processes["worker"], SWEEP) >= sweeps,
                timeout=30,
                what="two more sweeps\n" + processes["worker"].output()[-3000:],
            )
    finally:
        smtp.stop()
    [message] = smtp.messages
    assert message["Subject"] == f"At risk: shipment {goods.reference} ({exporter.name})"
    alert.refresh_from_db()
    assert (alert.state, alert.attempts) == ("sent", 1)


def test_with_smtp_down_an_alert_is_retried_and_arrives_once_when_it_comes_back(
    tmp_path, redis_broker, exporter
):
    app = accepted_working_days_ago(exporter, 50)
    smtp = SMTPServer()  # its port is chosen, but nothing listens yet: the server is down
    try:
        with celery_processes(tmp_path, smtp_port=smtp.port, beat=False) as processes:
            scan.scan(now=timezone.now())  # the web side raises it and queues it after commit
            alert = Alert.objects.get(flag__application=app)
            wait_for(
                lambda: AlertAttempt.objects.filter(alert=alert, state="failed").count() >= 2,
                timeout=20,
                what="two failed attempts\n" + processes["worker"].output()[-3000:],
            )
            smtp.start()  # the mail server comes back
            wait_for(
                lambda: smtp.messages,
                timeout=30,
                what="the retried e-mail\n" + processes["worker"].output()[-3000:],
            )
            # Every retry queued meanwhile runs too, and sends nothing more.
            wait_for(
                lambda: worker_idle(processes["worker"]),
                timeout=60,
                what="the worker to finish its tasks\n" + processes["worker"].output()[-3000:],
            )
    finally:
        smtp.stop()
    [message] = smtp.messages
    alert.refresh_from_db()
    assert alert.state == "sent"
    assert message["Message-ID"] == alert.message_id
    attempts = list(alert.attempt_log.order_by("at", "pk").values_list("state", "error"))
    assert attempts[-1] == ("sent", "")
    assert all(state == "failed" and "refused" in error.lower() for state, error in attempts[:-1])
    assert alert.attempts == len(attempts) >= 3


def test_a_worker_killed_mid_exchange_leaves_its_attempt_and_the_resend_keeps_the_message_id(
    tmp_path, redis_broker, exporter
):
    """The case seen under load: the worker is killed after the mail server took the message
    and before it answered. The attempt is on record as started; once its claim's lease has
    run out (3 s here) the sweep sends the alert again, under the same Message-ID."""
    app = accepted_working_days_ago(exporter, 50)
    inbox = HoldingInbox()
    smtp = SMTPServer(inbox=inbox)
    smtp.start()
    lease = {"E2E_ALERT_LEASE_SECONDS": "3", "SCAN_INTERVAL_SECONDS": "3600"}
    try:
        with celery_processes(tmp_path, smtp_port=smtp.port, beat=False, extra_env=lease) as first:
            scan.scan(now=timezone.now())  # the web side raises it and queues it after commit
            wait_for(
                lambda: smtp.messages,
                timeout=30,
                what="the first delivery\n" + first["worker"].output()[-3000:],
            )
            worker = first["worker"].popen
            os.killpg(worker.pid, signal.SIGKILL)  # mid-exchange: no "250 OK" read yet
            worker.wait(timeout=10)
        alert = Alert.objects.get(flag__application=app)
        assert (alert.state, alert.attempts) == ("pending", 1)
        assert list(alert.attempt_log.values_list("state", "resend")) == [("started", False)]
        inbox.release.set()

        again = tmp_path / "after"
        again.mkdir()
        with celery_processes(again, smtp_port=smtp.port, beat=True, extra_env=lease) as second:
            wait_for(
                lambda: len(smtp.messages) == 2,
                timeout=60,
                what="the resend\n" + second["worker"].output()[-3000:],
            )
            sweeps = finished_runs(second["worker"], SWEEP) + 2
            wait_for(
                lambda: finished_runs(second["worker"], SWEEP) >= sweeps,
                timeout=30,
                what="two more sweeps\n" + second["worker"].output()[-3000:],
            )
    finally:
        inbox.release.set()
        smtp.stop()
    alert.refresh_from_db()
    assert [m["Message-ID"] for m in smtp.messages] == [alert.message_id] * 2
    assert (alert.state, alert.attempts) == ("sent", 2)
    assert list(alert.attempt_log.order_by("at", "pk").values_list("state", "resend")) == [
        ("started", False),
        ("sent", True),
    ]


def test_a_password_reset_is_mailed_by_the_worker_and_its_link_works(tmp_path, redis_broker):
    """The page only records the address and queues the task; the real worker looks the
    account up and sends the link by SMTP; an unknown address gets nothing."""
    user = make_user("reset_me", None)
    smtp = SMTPServer()
    smtp.start()
    client = Client()
    try:
        with celery_processes(tmp_path, smtp_port=smtp.port, beat=False) as processes:
            for address in ("nobody-here@example.com", "Reset_Me@example.com"):
                response = client.post("/password/reset/", {"email": address})
                assert response["Location"] == "/password/reset/done/"
            wait_for(
                lambda: smtp.messages,
                timeout=30,
                what="the reset e-mail\n" + processes["worker"].output()[-3000:],
            )
            wait_for(
                lambda: worker_idle(processes["worker"]),
                timeout=30,
                what="the worker to finish\n" + processes["worker"].output()[-3000:],
            )
    finally:
        smtp.stop()
    [message] = smtp.messages
    assert message["To"] == "reset_me@example.com"
    assert sorted(PasswordResetRequest.objects.values_list("state", flat=True)) == [
        "no_account",
        "sent",
    ]
    body = message.get_payload(decode=True).decode()
    link = body.split(settings.SITE_URL, 1)[1].split()[0]
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a new secret 2027", "new_password2": "a new secret 2027"},
    )
    user.refresh_from_db()
    assert user.check_password("a new secret 2027")
