"""The daily job, the beat schedules and the management commands."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from celery.signals import beat_init
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from licenses.models import Event, FastTrackDecision
from monitoring import scan, schedules
from monitoring.models import Flag

from ..factories import ApplicationFactory, authority
from ..helpers import SHANGHAI
from .builders import accept, moment, open_kinds, shipment, submit

pytestmark = pytest.mark.django_db


def approved_general_license(exporter, valid_until: str):
    from licenses import services

    app = ApplicationFactory(exporter=exporter, license_type="general")
    submit(app, "2026-09-20")
    accept(app, "2026-09-24")
    when = moment("2026-10-15")
    services.application_approve(
        application=app,
        at=when,
        now=when,
        actor=None,
        license_number="LIC-7",
        valid_until=dt.date.fromisoformat(valid_until),
        approved_quantity=app.quantity,
        approved_value=app.value,
    )
    return app


# --- the daily job ---------------------------------------------------------------------------


def test_the_daily_job_expires_licenses_at_the_end_of_their_validity_in_beijing(exporter):
    app = approved_general_license(exporter, "2026-12-31")
    goods = shipment(exporter, ship="2027-01-20", application=app, recorded=moment("2026-10-16"))
    scan.scan(now=moment("2026-12-15"))
    assert open_kinds(app) == {"expiring"}

    scan.run_daily(now=dt.datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI))
    app.refresh_from_db()
    assert app.status == "approved"

    result = scan.run_daily(now=dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI))
    assert result.expired == [app.pk]
    app.refresh_from_db()
    goods.refresh_from_db()
    assert (app.status, goods.status) == ("expired", "planned")
    expiry = Event.objects.get(application=app, to_status="expired")
    assert expiry.occurred_at == dt.datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert open_kinds(app) == set()  # `expiring` cleared with the move
    assert open_kinds(goods) == {"file_by"}  # it needs a new license, and it is late for one

    assert scan.run_daily(now=dt.datetime(2027, 1, 1, 1, 30, tzinfo=SHANGHAI)).expired == []


def test_a_decision_that_begins_today_moves_the_last_day_to_file_in_the_daily_job(
    exporter, manager
):
    goods = shipment(exporter, ship="2026-12-15")
    assert goods.file_by_date == dt.date(2026, 9, 22)
    with time_machine.travel(moment("2026-10-08"), tick=False):
        decision = FastTrackDecision.objects.create(
            authority=authority("MOFCOM"),
            announced_on=dt.date(2026, 10, 8),
            source="Press release",
            window_days=20,
            effective_from=dt.date(2026, 10, 9),
            created_by=manager,
        )
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 9, 22)  # not in force yet
    result = scan.run_daily(now=moment("2026-10-09", 0))
    assert result.decisions["applied"] == [decision.pk]
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 11, 3)
    assert not Flag.objects.filter(shipment=goods, cleared_at__isnull=True).exists()


def test_the_daily_job_deletes_the_apis_idempotency_keys_past_24_hours(officer, viewer):
    from core.idempotency import stored_model

    now = moment("2026-11-29", 12)
    rows = stored_model().objects
    rows.create(user=officer, key="old", fingerprint="f", created_at=now - dt.timedelta(hours=25))
    rows.create(user=viewer, key="new", fingerprint="f", created_at=now - dt.timedelta(hours=23))

    result = scan.run_daily(now=now)

    assert result.keys_purged == 1
    assert "idempotency keys purged: 1" in result.summary()
    assert list(rows.values_list("key", flat=True)) == ["new"]


# --- schedules -------------------------------------------------------------------------------


def test_beat_resets_the_scan_interval_to_the_setting_when_it_starts(settings):
    schedules.ensure_schedules()
    settings.SCAN_INTERVAL_SECONDS = 120
    beat_init.send(sender=None)
    scan_task = PeriodicTask.objects.get(name=schedules.SCAN)
    assert scan_task.task == "monitoring.scan_windows"
    assert (scan_task.interval.every, scan_task.interval.period) == (120, "seconds")
    assert scan_task.enabled and scan_task.expire_seconds == 120
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {schedules.SCAN, schedules.SWEEP, schedules.DIGESTS, schedules.DAILY} <= names


def test_an_administrators_change_to_the_digest_and_daily_schedules_survives_beat(settings):
    schedules.ensure_schedules()
    digest = PeriodicTask.objects.get(name=schedules.DIGESTS)
    digest.crontab.minute = "30"
    digest.crontab.save()
    PeriodicTask.objects.filter(name=schedules.DAILY).update(enabled=False)
    beat_init.send(sender=None)
    assert PeriodicTask.objects.get(name=schedules.DIGESTS).crontab.minute == "30"
    assert not PeriodicTask.objects.get(name=schedules.DAILY).enabled
    assert PeriodicTask.objects.get(name=schedules.DIGESTS).task == "monitoring.send_digests"


# --- commands run the same code --------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("scan_windows", "alert(s) queued"),
        ("send_digests", "digest(s) sent"),
        ("daily", "expired: 0"),
        ("sweep_alerts", "alert(s) sent"),
    ],
)
def test_each_periodic_job_is_also_a_command(command, says):
    out = io.StringIO()
    call_command(command, stdout=out)
    assert says in out.getvalue()
