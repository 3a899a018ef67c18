"""Which shipments need a license: the measures in force on the planned ship date decide it,
set-based, and the shipments follow (cleared without a license, planned when one is needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses import signals
from licenses.measures import periods
from licenses.models import Event, Measure, MeasureSuspension
from monitoring.models import Flag
from shipments import services as shipping
from shipments.models import Shipment
from shipments.services.requirements import (
    MeasureBook,
    evaluate_requirements,
)

from ..factories import (
    ApplicationFactory,
    ConsigneeFactory,
    ExporterFactory,
    ShipmentFactory,
    authority,
    item,
)
from ..helpers import NOW, submitted

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_seeded_measures")]

D = dt.date.fromisoformat


def measure(
    reference: str,
    items,
    *,
    kind: str = "control",
    destinations=(),
    effective_from: str = "2025-04-04",
    effective_until: str | None = None,
    suspensions=(),
) -> Measure:
    m = Measure.objects.create(
        authority=authority("MOFCOM"),
        reference=reference,
        title=f"Measure {reference}",
        kind=kind,
        announced_on=D(effective_from),
        effective_from=D(effective_from),
        effective_until=D(effective_until) if effective_until else None,
        destinations=list(destinations),
    )
    m.items.set(items)
    for start, end in suspensions:
        MeasureSuspension.objects.create(
            measure=m, starts_on=D(start), ends_on=D(end) if end else None, reference="No. 70"
        )
    return m


def announce(m: Measure, now=NOW) -> None:
    """What the measure services send when a measure is logged or changed."""
    signals.measure_changed.send(
        sender=Measure,
        authority_id=m.authority_id,
        item_ids=list(m.items.values_list("pk", flat=True)),
        now=now,
    )


def new_shipment(*, ship: str = "2027-03-01", destination: str = "DE", application=None, **kw):
    exporter = application.exporter if application else kw.pop("exporter", None)
    exporter = exporter or ExporterFactory()
    return shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=exporter,
        reference=kw.pop("reference", f"S-{Shipment.objects.count() + 1}"),
        item=kw.pop("item", item("1C902")),
        quantity=Decimal("10"),
        value=Decimal("1000"),
        currency="USD",
        destination=destination,
        planned_ship_date=D(ship),
        consignee=ConsigneeFactory(exporter=exporter, country=destination),
        application=application,
        **kw,
    )


# --- the periods of a measure ---------------------------------------------------------------


def test_a_measures_periods_are_its_effective_period_less_its_suspensions():
    m = Measure(effective_from=D("2025-04-04"), effective_until=None)
    s = MeasureSuspension
    assert periods(m, []) == [(D("2025-04-04"), None)]
    assert periods(m, [s(starts_on=D("2025-11-10"), ends_on=D("2026-11-10"))]) == [
        (D("2025-04-04"), D("2025-11-09")),
        (D("2026-11-11"), None),
    ]
    # open-ended suspension; one before the start; one overlapping the start
    assert periods(m, [s(starts_on=D("2025-11-10"), ends_on=None)]) == [
        (D("2025-04-04"), D("2025-11-09"))
    ]
    assert periods(m, [s(starts_on=D("2024-01-01"), ends_on=D("2024-02-01"))]) == [
        (D("2025-04-04"), None)
    ]
    assert periods(m, [s(starts_on=D("2025-01-01"), ends_on=D("2025-05-01"))]) == [
        (D("2025-05-02"), None)
    ]
    ended = Measure(effective_from=D("2025-04-04"), effective_until=D("2025-12-31"))
    assert periods(ended, [s(starts_on=D("2025-06-01"), ends_on=D("2026-06-01"))]) == [
        (D("2025-04-04"), D("2025-05-31"))
    ]


# --- the rule ---------------------------------------------------------------------------------


def test_an_item_that_no_measure_names_always_needs_a_license():
    shipment = new_shipment()
    assert (shipment.license_required, shipment.license_required_today) == (True, True)
    assert shipment.status == "planned"
    assert shipment.file_by_date is not None


def test_an_item_only_measure_applies_to_every_destination():
    measure("No. 18", [item("1C902")], effective_from="2027-01-01")
    to_germany = new_shipment(ship="2027-03-01", destination="DE")
    to_usa = new_shipment(ship="2027-03-01", destination="US")
    before = new_shipment(ship="2026-12-20", destination="DE")
    assert to_germany.license_required and to_usa.license_required
    # named by a measure not yet in force on its ship date: no license needed
    assert not before.license_required
    assert before.status == "cleared" and before.file_by_date is None
    # and today it is not in force either
    assert not to_germany.license_required_today


def test_a_destination_scoped_measure_applies_only_to_its_destinations():
    measure("No. 61", [item("1C902")], destinations=["US"])
    to_usa = new_shipment(destination="US")
    to_germany = new_shipment(destination="DE")
    assert (to_usa.license_required, to_usa.status) == (True, "planned")
    assert (to_germany.license_required, to_germany.status) == (False, "cleared")


def test_a_ban_does_not_by_itself_make_a_license_required():
    measure("Ban 1", [item("1C902")], kind="ban", destinations=["US"])
    shipment = new_shipment(destination="US")
    assert not shipment.license_required
    book = MeasureBook.load()
    # the ban still applies to it, and shows among its measures
    assert [
        r.reference
        for r in book.applying(item_id=item("1C902").pk, destination="US", day=D("2027-03-01"))
    ] == ["Ban 1"]


def test_a_shipment_that_needs_no_license_is_cleared_without_an_application_and_ships():
    measure("No. 18", [item("1C902")], suspensions=[("2026-11-10", "2027-11-10")])
    shipment = new_shipment()
    assert shipment.application_id is None
    assert shipment.status == "cleared"
    shipped = shipping.shipment_ship(shipment=shipment, now=NOW, actor=None)
    assert shipped.status == "shipped"
    shipping.shipment_deliver(shipment=shipped, now=NOW, actor=None)


def test_a_shipment_that_needs_no_license_stays_cleared_whatever_its_application_does():
    measure("No. 18", [item("1C902")], suspensions=[("2026-11-10", "2027-11-10")])
    app = ApplicationFactory(destination="DE")
    shipment = new_shipment(application=app)
    assert shipment.status == "cleared"
    submitted(app, "2026-11-20")
    shipment.refresh_from_db()
    assert shipment.status == "cleared"


def test_the_python_rule_and_the_set_based_one_agree():
    measure("No. 18", [item("1C902")], effective_from="2027-01-01", destinations=["US", "DE"])
    measure("No. 19", [item("1C903")], suspensions=[("2026-12-01", "2027-02-01")])
    measure("Ban", [item("1C117.c")], kind="ban")
    cases = [
        (code, dest, ship)
        for code in ("1C902", "1C903", "1C117.c", "1C117.d")
        for dest in ("DE", "JP")
        for ship in ("2026-12-15", "2027-01-15", "2027-03-01")
    ]
    exporter = ExporterFactory()
    made = [
        ShipmentFactory(
            exporter=exporter, item=item(code), destination=dest, planned_ship_date=D(ship)
        )
        for code, dest, ship in cases
    ]
    evaluate_requirements(now=NOW)
    book = MeasureBook.load()
    for shipment in made:
        shipment.refresh_from_db()
        expected = book.required(
            item_id=shipment.item_id,
            destination=shipment.destination,
            day=shipment.planned_ship_date,
        )
        assert shipment.license_required == expected, shipment.__dict__


# --- re-evaluation ---------------------------------------------------------------------------


def test_a_suspension_ending_moves_cleared_shipments_to_planned_with_file_by_and_back():
    m = measure("No. 55", [item("1C902")], suspensions=[("2026-11-10", "2027-11-10")])
    shipment = new_shipment(ship="2027-01-20")
    assert (shipment.status, shipment.file_by_date) == ("cleared", None)

    # The suspension now ends at the end of the year: before the shipment ships.
    suspension = m.suspensions.get()
    suspension.ends_on = D("2026-12-31")
    suspension.save()
    announce(m)
    shipment.refresh_from_db()
    assert shipment.status == "planned"
    assert (shipment.license_required, shipment.license_required_today) == (True, False)
    # It needs an application now, and it is late already: file_by, and control_change.
    assert shipment.file_by_date is not None and shipment.file_by_date < NOW.date()
    open_flags = set(
        Flag.objects.filter(shipment=shipment, cleared_at__isnull=True).values_list(
            "kind", flat=True
        )
    )
    assert open_flags == {"file_by", "control_change"}
    moved = Event.objects.filter(shipment=shipment, kind="status_changed").latest("id")
    assert (moved.from_status, moved.to_status) == ("cleared", "planned")
    assert moved.data == {"move": "requirement", "license_required": True, "measures": ["No. 55"]}

    # The end is revoked: the suspension runs until November 2027 again.
    suspension.ends_on = D("2027-11-10")
    suspension.save()
    announce(m, now=NOW + dt.timedelta(hours=1))
    shipment.refresh_from_db()
    assert shipment.status == "cleared"
    assert (shipment.license_required, shipment.license_required_today) == (False, False)
    assert (shipment.file_by_date, shipment.file_by_at) == (None, None)
    assert not Flag.objects.filter(shipment=shipment, cleared_at__isnull=True).exists()


def test_a_shipment_with_a_pending_application_waits_for_it_when_a_license_becomes_needed():
    m = measure("No. 55", [item("1C902")], suspensions=[("2026-11-10", "2027-11-10")])
    app = ApplicationFactory(destination="DE")
    shipment = new_shipment(application=app, ship="2027-01-20")
    submitted(app, "2026-11-20")
    shipment.refresh_from_db()
    assert shipment.status == "cleared"
    m.suspensions.update(ends_on=D("2026-12-31"))
    announce(m)
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_license"
    approved_app = app
    approved_app.refresh_from_db()
    assert shipment.license_required


def test_moving_the_ship_date_re_evaluates_the_shipment():
    measure("No. 55", [item("1C902")], suspensions=[("2026-11-10", "2027-01-31")])
    shipment = new_shipment(ship="2027-01-20")
    assert shipment.status == "cleared"
    shipment = shipping.shipment_update(
        shipment=shipment, now=NOW, actor=None, planned_ship_date=D("2027-03-01")
    )
    assert (shipment.status, shipment.license_required) == ("planned", True)
    assert shipment.file_by_date is not None
    shipment = shipping.shipment_update(
        shipment=shipment, now=NOW, actor=None, planned_ship_date=D("2027-01-10")
    )
    assert (shipment.status, shipment.license_required, shipment.file_by_date) == (
        "cleared",
        False,
        None,
    )


def test_control_change_is_raised_when_todays_need_differs_and_cleared_when_it_ships():
    m = measure("No. 55", [item("1C902")])
    shipment = new_shipment(ship="2026-12-20")
    app = ApplicationFactory(destination="DE", exporter=shipment.exporter)
    # A suspension from mid-December: no license is needed on the ship date, one is today.
    MeasureSuspension.objects.create(measure=m, starts_on=D("2026-12-15"), ends_on=D("2027-06-30"))
    announce(m)
    shipment.refresh_from_db()
    assert (shipment.license_required, shipment.license_required_today) == (False, True)
    assert shipment.status == "cleared"
    flag = Flag.objects.get(shipment=shipment, kind="control_change")
    assert flag.cleared_at is None
    shipping.shipment_ship(shipment=shipment, now=NOW, actor=None)
    flag.refresh_from_db()
    assert flag.cleared_at == NOW
    del app


def test_the_daily_job_re_evaluates_as_today_moves():
    from monitoring import scan

    measure("No. 55", [item("1C902")], suspensions=[("2026-11-10", "2026-12-31")])
    shipment = new_shipment(ship="2027-01-20")
    assert (shipment.license_required, shipment.license_required_today) == (True, False)
    assert Flag.objects.filter(shipment=shipment, kind="control_change", cleared_at=None).exists()
    # On 2 January the suspension has ended: today's need is the ship date's.
    later = dt.datetime(2027, 1, 2, 1, tzinfo=dt.UTC)
    result = scan.run_daily(now=later)
    assert result.requirements_changed == 1
    shipment.refresh_from_db()
    assert (shipment.license_required, shipment.license_required_today) == (True, True)
    assert not Flag.objects.filter(
        shipment=shipment, kind="control_change", cleared_at=None
    ).exists()


@pytest.mark.parametrize("connection_vendor", ["any"])
def test_evaluating_requirements_costs_the_same_queries_for_3_and_300_shipments(
    connection_vendor,
):
    m = measure("No. 55", [item("1C902")], suspensions=[("2026-11-10", "2027-11-10")])

    def run(n: int) -> int:
        exporter = ExporterFactory()
        consignee = ConsigneeFactory(exporter=exporter)
        Shipment.objects.bulk_create(
            Shipment(
                exporter=exporter,
                reference=f"Q{n}-{i}",
                item=item("1C902"),
                quantity=Decimal("1"),
                unit="kg",
                value=Decimal("1"),
                currency="USD",
                destination="DE",
                consignee=consignee,
                planned_ship_date=D("2027-01-20"),
                status="planned",
            )
            for i in range(n)
        )
        # all cleared: no license needed while suspended
        evaluate_requirements(now=NOW, item_ids=[item("1C902").pk])
        assert not Shipment.objects.filter(exporter=exporter).exclude(status="cleared").exists()
        m.suspensions.update(ends_on=D("2026-12-31"))
        with CaptureQueriesContext(connection) as captured:
            result = evaluate_requirements(now=NOW, item_ids=[item("1C902").pk])
        assert len(result.moved["planned"]) >= n
        m.suspensions.update(ends_on=D("2027-11-10"))
        evaluate_requirements(now=NOW, item_ids=[item("1C902").pk])
        return len(captured.captured_queries)

    assert run(3) == run(300)
