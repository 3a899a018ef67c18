"""Stored forecasts: the history read from the record, the levels, the conditional estimate as
an application waits, pauses, and the `likely_late` flag that follows.

BIS counts calendar days from submission, which keeps the hand-worked figures simple. The
history: twenty applications for one item to Germany, each decided d days after its
submission, d = 10, 11, ..., 29 (all approved). A pending application that has waited e days
(censored at e, below every decision) sees S(10 + k) = (19 - k) / 20 for k = 0..19."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from licenses import services
from licenses.models import LicenseApplication
from licenses.services.forecasts import forecasts_refresh
from monitoring import scan
from monitoring.models import Flag
from monitoring.workqueue import work_queue
from shipments import services as shipping

from ..factories import ApplicationFactory, ConsigneeFactory, ExporterFactory, authority

pytestmark = pytest.mark.django_db

NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
DAY0 = dt.date(2026, 3, 2)


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NEW_YORK)


def bis_application(exporter, item, *, destination="DE", submitted: dt.date | None = None):
    app = ApplicationFactory(
        exporter=exporter,
        authority=authority("BIS"),
        destination=destination,
        items=[item],
    )
    if submitted:
        when = moment(submitted)
        services.application_submit(application=app, at=when, now=when, actor=None)
    return app


def decided_history(exporter, item, *, durations=range(10, 30), destination="DE"):
    """Build the history with the forecast pass queued rather than inline (it is run
    explicitly below), then refresh once."""
    with override_settings(FORECAST_INLINE_LIMIT=-1):
        _decide(exporter, item, durations=durations, destination=destination)
    forecasts_refresh(now=moment(DAY0))


def _decide(exporter, item, *, durations, destination):
    for i, days in enumerate(durations):
        start = DAY0 + dt.timedelta(days=i)
        app = bis_application(exporter, item, destination=destination, submitted=start)
        when = moment(start + dt.timedelta(days=days))
        services.application_approve(
            application=app,
            at=when,
            now=when,
            actor=None,
            license_number=f"D{app.pk}",
            valid_until=dt.date(2028, 1, 1),
        )


def forecast(app) -> dict:
    app.refresh_from_db()
    return {
        "p50": app.forecast_p50,
        "p90": app.forecast_p90,
        "level": app.forecast_level,
        "decided": app.forecast_decided,
        "censored": app.forecast_censored,
    }


def test_a_pending_application_is_forecast_from_twenty_decisions_to_its_destination(bis_item):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    today = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=today - dt.timedelta(days=5))
    forecasts_refresh(now=moment(today))
    # e = 5: S(e) = 1; S(19) = 10/20 <= 1/2 first; S(27) = 2/20 <= 1/10 first.
    day0 = today - dt.timedelta(days=5)
    assert forecast(pending) == {
        "p50": day0 + dt.timedelta(days=19),
        "p90": day0 + dt.timedelta(days=27),
        "level": "destination",
        "decided": 20,
        "censored": 1,
    }


def test_the_forecast_moves_as_the_application_waits(bis_item):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    # Having waited 15 days: S(15) = 14/20; half is 7/20 -> S(22) = 7/20; a tenth is 1.4/20 ->
    # S(28) = 1/20.
    forecasts_refresh(now=moment(day0 + dt.timedelta(days=15)))
    assert (forecast(pending)["p50"], forecast(pending)["p90"]) == (
        day0 + dt.timedelta(days=22),
        day0 + dt.timedelta(days=28),
    )
    # Past every decision in the history: nothing left to estimate from.
    forecasts_refresh(now=moment(day0 + dt.timedelta(days=40)))
    assert forecast(pending)["p50"] is None
    assert forecast(pending)["level"] == "destination"


def test_with_too_little_history_the_next_level_is_used_or_none(bis_item):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item, durations=range(10, 29))  # 19 to Germany
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    forecasts_refresh(now=moment(day0))
    assert forecast(pending)["level"] == ""  # 19 decisions at every level
    assert forecast(pending)["p50"] is None
    # One more decision, to Japan: the item's history has 20, Germany's still 19.
    decided_history(exporter, bis_item, durations=[12], destination="JP")
    forecasts_refresh(now=moment(day0))
    assert forecast(pending)["level"] == "item"
    assert forecast(pending)["decided"] == 20


def test_a_decision_refreshes_the_forecasts_of_its_authority_at_once(bis_item):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item, durations=range(10, 29))
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    assert forecast(pending)["level"] == ""
    last = bis_application(exporter, bis_item, submitted=day0 - dt.timedelta(days=30))
    when = moment(day0 + dt.timedelta(days=1))
    services.application_approve(
        application=last,
        at=when,
        now=when,
        actor=None,
        license_number="D-LAST",
        valid_until=dt.date(2028, 1, 1),
    )
    assert forecast(pending)["level"] == "destination"
    assert forecast(last)["level"] == ""  # decided: no forecast of its own


def test_no_forecast_while_the_clock_is_stopped_and_paused_days_push_the_date(bis_item):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    asked, answered = moment(day0 + dt.timedelta(days=2)), moment(day0 + dt.timedelta(days=6))
    services.application_request_info(application=pending, at=asked, now=asked, actor=None)
    assert forecast(pending)["level"] == ""
    services.application_provide_info(application=pending, at=answered, now=answered, actor=None)
    # Elapsed: 2 days before the pause, 0 after (provided on day 6, which is paused): e = 2.
    # p50 = 19 units after day 0, skipping the 4 paused days (3..6): day 23.
    assert forecast(pending)["p50"] == day0 + dt.timedelta(days=23)


def test_likely_late_is_raised_when_the_forecast_passes_the_ship_date_and_cleared(
    bis_item, officer
):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    p50 = forecast(pending)["p50"]
    assert p50 == day0 + dt.timedelta(days=19)
    created = moment(day0 + dt.timedelta(days=1))
    goods = shipping.shipment_create(
        now=created,
        actor=None,
        exporter=exporter,
        reference="SHP-LATE",
        item=bis_item,
        quantity=Decimal("10"),
        value=Decimal("1000"),
        currency=pending.currency,
        destination="DE",
        consignee=ConsigneeFactory(exporter=exporter),
        planned_ship_date=p50 - dt.timedelta(days=1),
        application=pending,
    )
    flags = Flag.objects.filter(shipment=goods, kind="likely_late")
    assert flags.filter(cleared_at__isnull=True).count() == 1
    # It is work for the officer: the queue lists it, by its ship date, with the forecast.
    queue = work_queue(user=officer, now=created)
    [row] = [r for r in queue.rows if r.section == "likely_late"]
    assert (row.reference, row.date) == ("SHP-LATE", goods.planned_ship_date)
    assert str(p50) in row.detail
    shipping.shipment_update(
        shipment=goods, now=created, actor=None, planned_ship_date=p50 + dt.timedelta(days=3)
    )
    assert not flags.filter(cleared_at__isnull=True).exists()
    # A full scan agrees.
    result = scan.scan(now=created)
    assert "likely_late" not in {k for k, r in result.kinds.items() if r.raised or r.cleared}


def test_an_open_likely_late_flag_keeps_its_ship_date_and_the_queue_its_order(bis_item, officer):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    other = bis_application(exporter, bis_item, submitted=day0)  # an individual license each
    p50 = forecast(pending)["p50"]
    assert forecast(other)["p50"] == p50
    created = moment(day0 + dt.timedelta(days=1))

    def goods(reference: str, ship: dt.date, application: LicenseApplication):
        return shipping.shipment_create(
            now=created,
            actor=None,
            exporter=exporter,
            reference=reference,
            item=bis_item,
            quantity=Decimal("10"),
            value=Decimal("1000"),
            currency=pending.currency,
            destination="DE",
            consignee=ConsigneeFactory(exporter=exporter),
            planned_ship_date=ship,
            application=application,
        )

    sooner = goods("SHP-SOONER", p50 - dt.timedelta(days=5), pending)
    later = goods("SHP-LATER", p50 - dt.timedelta(days=2), other)
    flag = Flag.objects.get(shipment=later, kind="likely_late", cleared_at__isnull=True)
    assert flag.deciding_date == later.planned_ship_date

    def order() -> list[str]:
        queue = work_queue(user=officer, now=created)
        return [r.reference for r in queue.rows if r.section == "likely_late"]

    assert order() == ["SHP-SOONER", "SHP-LATER"]
    # Still likely late, now the earliest: the same open flag, its new ship date, first.
    moved = p50 - dt.timedelta(days=9)
    shipping.shipment_update(shipment=later, now=created, actor=None, planned_ship_date=moved)
    flag.refresh_from_db()
    assert (flag.cleared_at, flag.deciding_date) == (None, moved)
    assert order() == ["SHP-LATER", "SHP-SOONER"]
    # A date lost around the services: the full scan writes it again, and keeps the others.
    Flag.objects.filter(pk=flag.pk).update(deciding_date=None)
    scan.scan(now=created)
    flag.refresh_from_db()
    assert flag.deciding_date == moved
    kept = Flag.objects.get(shipment=sooner, kind="likely_late", cleared_at__isnull=True)
    assert kept.deciding_date == sooner.planned_ship_date


def test_the_api_gives_the_forecast_and_null_without_one(bis_item, officer):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    draft = bis_application(exporter, bis_item)
    client = APIClient()
    client.force_authenticate(officer)
    body = client.get(f"/api/v1/applications/{pending.pk}/").json()
    assert body["forecast"] == {
        "p50": str(day0 + dt.timedelta(days=19)),
        "p90": str(day0 + dt.timedelta(days=27)),
        "level": "destination",
        "decided": 20,
        "censored": 1,
    }
    assert client.get(f"/api/v1/applications/{draft.pk}/").json()["forecast"] is None
    listed = client.get("/api/v1/applications/?ordering=forecast_p50&page_size=3").json()
    assert listed["results"][0]["id"] == pending.pk
    before = client.get(f"/api/v1/applications/?forecast_before={day0}").json()
    assert before["results"] == []
    assert LicenseApplication.objects.filter(forecast_p50__isnull=False).count() == 1


def test_the_applications_list_sorts_and_filters_by_the_forecast(bis_item, client, officer):
    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    later = bis_application(exporter, bis_item, submitted=day0)
    sooner = bis_application(exporter, bis_item, submitted=day0 - dt.timedelta(days=3))
    bis_application(exporter, bis_item)  # a draft: no forecast
    client.force_login(officer)
    page = client.get("/applications/?sort=likely").content.decode()
    assert page.index(sooner.reference) < page.index(later.reference)
    assert str(forecast(sooner)["p50"]) in page
    cut = forecast(sooner)["p50"]
    page = client.get(f"/applications/?likely_before={cut}").content.decode()
    assert sooner.reference in page and later.reference not in page
    response = client.get("/applications/export.csv?sort=likely")
    export = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "forecast_p50" in export.splitlines()[0]


def test_at_a_large_authority_a_move_queues_the_pass_and_clears_its_own_forecast(
    bis_item, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from licenses import tasks

    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    pending = bis_application(exporter, bis_item, submitted=day0)
    assert forecast(pending)["level"] == "destination"
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.refresh_forecasts, "delay", lambda *args: queued.append(args))
    settings.FORECAST_INLINE_LIMIT = 5  # the authority holds 21 started applications
    asked = moment(day0 + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.application_request_info(application=pending, at=asked, now=asked, actor=None)
    assert forecast(pending)["level"] == ""  # its clock stopped: cleared at once
    assert queued == [([pending.authority_id], asked.isoformat())]
