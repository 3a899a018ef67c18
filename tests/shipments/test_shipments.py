"""Shipments follow their application, the officer's moves, and drawdown of general licenses."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event, LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import ApplicationFactory, ConsigneeFactory, ExporterFactory, item
from ..helpers import NOW, accepted, approved, at, submitted

pytestmark = pytest.mark.django_db


def new_shipment(app, reference="S-1", quantity="100", value="1000", **kwargs):
    return shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=app.exporter,
        reference=reference,
        item=item(),
        quantity=Decimal(quantity),
        value=Decimal(value),
        currency=app.currency,
        destination=app.destination,
        planned_ship_date=dt.date(2026, 12, 20),
        consignee=ConsigneeFactory(exporter=app.exporter),
        application=app,
        **kwargs,
    )


def test_a_shipment_follows_its_application_from_planned_to_cleared_and_back():
    app = ApplicationFactory()
    shipment = new_shipment(app)
    assert shipment.status == "planned"
    submitted(app, "2026-09-01")
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_license"
    accepted(app, "2026-09-02")
    approved(app, "2026-09-03")
    shipment.refresh_from_db()
    assert shipment.status == "cleared"
    services.application_expire(application=app, now=NOW)
    shipment.refresh_from_db()
    assert shipment.status == "planned"
    assert [e.to_status for e in shipment.events.filter(kind="status_changed")] == [
        "awaiting_license",
        "cleared",
        "planned",
    ]


def test_an_unassigned_shipment_is_planned():
    exporter = ExporterFactory()
    shipment = shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=exporter,
        reference="S-9",
        item=item(),
        quantity=Decimal("5"),
        value=Decimal("50"),
        currency="USD",
        destination="DE",
        planned_ship_date=dt.date(2026, 12, 1),
    )
    assert shipment.status == "planned" and shipment.unit == "kg"


def test_the_officers_moves_ship_deliver_hold_release_cancel():
    app = ApplicationFactory()
    shipment = new_shipment(app)
    with pytest.raises(IllegalMove):
        shipping.shipment_ship(shipment=shipment, at=at("2026-10-01"), now=NOW, actor=None)
    shipping.shipment_hold(shipment=shipment, at=at("2026-09-01"), now=NOW, actor=None)
    submitted(app, "2026-09-02")
    shipment.refresh_from_db()
    assert shipment.status == "on_hold"  # hold is the officer's; the application doesn't undo it
    accepted(app, "2026-09-03")
    approved(app, "2026-09-04")
    shipping.shipment_release(shipment=shipment, at=at("2026-09-05"), now=NOW, actor=None)
    assert shipment.status == "cleared"
    with pytest.raises(InvalidInput):
        shipping.shipment_ship(
            shipment=shipment, at=NOW + dt.timedelta(days=1), now=NOW, actor=None
        )
    with pytest.raises(InvalidInput):
        shipping.shipment_ship(shipment=shipment, at=at("2026-09-04"), now=NOW, actor=None)
    shipping.shipment_ship(shipment=shipment, at=at("2026-09-06"), now=NOW, actor=None)
    with pytest.raises(IllegalMove):
        shipping.shipment_cancel(shipment=shipment, at=at("2026-09-07"), now=NOW, actor=None)
    with pytest.raises(IllegalMove):
        shipping.shipment_hold(shipment=shipment, at=at("2026-09-07"), now=NOW, actor=None)
    shipping.shipment_deliver(shipment=shipment, at=at("2026-09-10"), now=NOW, actor=None)
    assert shipment.status == "delivered" and shipment.delivered_at == at("2026-09-10")


def general(quantity="1000", value="10000"):
    return ApplicationFactory(
        license_type="general", quantity=Decimal(quantity), value=Decimal(value)
    )


def test_assigning_to_a_general_license_reserves_and_cancelling_releases():
    app = general()
    shipment = new_shipment(app, quantity="400", value="4000")
    app.refresh_from_db()
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("400"), Decimal("4000"))
    shipping.shipment_cancel(shipment=shipment, at=at("2026-09-01"), now=NOW, actor=None)
    app.refresh_from_db()
    assert (app.drawn_quantity, app.drawn_value) == (0, 0)
    kinds = list(Event.objects.filter(application=app).values_list("kind", flat=True))
    assert "drawdown" in kinds and "drawdown_released" in kinds


def test_approval_below_what_is_assigned_is_refused():
    app = general()
    new_shipment(app, quantity="600", value="6000")
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    with pytest.raises(InvalidInput) as exc:
        approved(
            app, "2026-09-03", approved_quantity=Decimal("500"), approved_value=Decimal("9000")
        )
    assert "approved_quantity" in exc.value.fields
    assert LicenseApplication.objects.get(pk=app.pk).status == "accepted"


def approved_general(quantity="1000", value="10000"):
    app = general(quantity, value)
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    approved(app, "2026-09-03", approved_quantity=Decimal(quantity), approved_value=Decimal(value))
    return app


def test_an_overdraw_is_refused_with_what_is_left():
    app = approved_general()
    new_shipment(app, "S-1", quantity="700", value="7000")
    with pytest.raises(InvalidInput) as exc:
        new_shipment(app, "S-2", quantity="400", value="1000")
    assert "300" in exc.value.fields["quantity"]
    assert not Shipment.objects.filter(reference="S-2").exists()
    app.refresh_from_db()
    assert app.drawn_quantity == Decimal("700")


def test_the_last_drawdown_exhausts_and_a_release_restores_approved():
    app = approved_general()
    new_shipment(app, "S-1", quantity="600", value="6000")
    last = new_shipment(app, "S-2", quantity="400", value="4000")
    app.refresh_from_db()
    assert app.status == "exhausted"
    last.refresh_from_db()
    assert last.status == "cleared"
    shipping.shipment_cancel(shipment=last, at=NOW, now=NOW, actor=None)
    app.refresh_from_db()
    assert app.status == "approved" and app.drawn_quantity == Decimal("600")


def test_reassigning_releases_the_old_license_and_reserves_the_new():
    first, second = approved_general(), general()
    second.exporter = first.exporter
    second.save()
    shipment = new_shipment(first, quantity="300", value="3000")
    shipping.shipment_update(shipment=shipment, now=NOW, actor=None, application=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.drawn_quantity == 0 and second.drawn_quantity == Decimal("300")
    shipment.refresh_from_db()
    assert shipment.status == "planned"  # the new application is a draft


def test_an_individual_license_covers_one_shipment():
    app = ApplicationFactory(license_type="individual")
    new_shipment(app, "S-1")
    with pytest.raises(InvalidInput):
        new_shipment(app, "S-2")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_racing_assignments_cannot_overdraw():
    app = approved_general(quantity="1000", value="100000")
    consignee = ConsigneeFactory(exporter=app.exporter)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def assign(ref: str) -> None:
        try:
            barrier.wait()
            shipping.shipment_create(
                now=NOW,
                actor=None,
                exporter=app.exporter,
                reference=ref,
                item=item(),
                quantity=Decimal("600"),
                value=Decimal("600"),
                currency=app.currency,
                destination=app.destination,
                planned_ship_date=dt.date(2026, 12, 20),
                consignee=consignee,
                application=LicenseApplication.objects.get(pk=app.pk),
            )
            outcomes.append("assigned")
        except InvalidInput:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(f"R-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["assigned", "refused"]
    app.refresh_from_db()
    assert app.drawn_quantity == Decimal("600")
    assert Shipment.objects.filter(application=app).count() == 1
