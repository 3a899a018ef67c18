"""Shipping records what left (quantity, transport document, customs declaration); a general
license's drawdown follows the shipped quantity; an undo puts the reservation back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event, LicenseApplication
from licenses.timeline import timeline
from shipments import services as shipping
from shipments.models import Shipment
from shipments.services.drawdown import shipped_value

from ..factories import ApplicationFactory
from ..helpers import NOW, accepted, approved, at, submitted
from .test_shipments import approved_general, new_shipment

pytestmark = pytest.mark.django_db


def ship(shipment, day="2026-09-10", **facts):
    return shipping.shipment_ship(shipment=shipment, at=at(day), now=NOW, actor=None, **facts)


def drawn(app):
    app.refresh_from_db()
    return app.drawn_quantity, app.drawn_value


def approved_individual(quantity="500"):
    app = ApplicationFactory(license_type="individual", quantity=Decimal(quantity))
    shipment = new_shipment(app, quantity="400", value="4000")
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    approved(app, "2026-09-03")
    shipment.refresh_from_db()
    return app, shipment


def test_shipping_with_defaults_records_the_planned_quantity_and_draws_what_was_reserved():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment)
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == "shipped"
    assert stored.shipped_quantity == Decimal("500.000")
    assert (stored.transport_document, stored.customs_declaration) == ("", "")
    assert drawn(app) == (Decimal("500"), Decimal("5000"))
    event = shipment.events.get(kind="status_changed", data__move="ship")
    assert event.data["shipped_quantity"] == "500.000" and event.data["unit"] == "kg"
    mark = shipment.events.get(kind="drawdown", data__move="ship")
    assert (mark.data["quantity"], mark.data["shipped_value"]) == ("0.000", "5000.00")


def test_shipping_records_the_transport_document_and_customs_declaration():
    app = approved_general()
    shipment = new_shipment(app)
    ship(shipment, transport_document="  MSKU1234567 ", customs_declaration="26DE123456789012A1")
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.transport_document == "MSKU1234567"
    assert stored.customs_declaration == "26DE123456789012A1"
    event = shipment.events.get(kind="status_changed", data__move="ship")
    assert event.data["customs_declaration"] == "26DE123456789012A1"


def test_a_smaller_shipment_gives_the_difference_back_in_proportion():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("480"))
    assert drawn(app) == (Decimal("480"), Decimal("4800"))
    released = Event.objects.get(application=app, kind="drawdown_released")
    assert released.data["move"] == "ship"
    assert (released.data["quantity"], released.data["value"]) == ("20.000", "200.00")
    assert (released.data["shipped_quantity"], released.data["shipped_value"]) == (
        "480.000",
        "4800.00",
    )
    assert released.data["drawn_quantity"] == "480.000"


def test_a_bigger_shipment_draws_more_and_can_exhaust_the_license():
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, quantity="900", value="9000")
    ship(shipment, shipped_quantity=Decimal("1000"))
    assert drawn(app) == (Decimal("1000"), Decimal("10000"))
    assert app.status == "exhausted"
    more = Event.objects.get(application=app, kind="drawdown", data__move="ship")
    assert (more.data["quantity"], more.data["value"]) == ("100.000", "1000.00")


def test_the_value_drawn_is_rounded_half_up_to_the_cent():
    app = approved_general()
    shipment = new_shipment(app, quantity="3", value="100")
    assert shipped_value(shipment, Decimal("1")) == Decimal("33.33")
    assert shipped_value(shipment, Decimal("2")) == Decimal("66.67")
    assert shipped_value(shipment, Decimal("3")) == Decimal("100")
    ship(shipment, shipped_quantity=Decimal("2"))
    assert drawn(app) == (Decimal("2"), Decimal("66.67"))


def test_shipping_more_than_the_license_has_left_is_refused_and_changes_nothing():
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, "S-1", quantity="600", value="6000")
    new_shipment(app, "S-2", quantity="300", value="3000")
    with pytest.raises(InvalidInput) as exc:
        ship(shipment, shipped_quantity=Decimal("701"), transport_document="BL-1")
    assert set(exc.value.fields) == {"shipped_quantity"}
    assert "100" in exc.value.fields["shipped_quantity"]
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == "cleared" and stored.shipped_quantity is None
    assert stored.transport_document == ""
    assert drawn(app) == (Decimal("900"), Decimal("9000"))
    assert not Event.objects.filter(data__move="ship").exists()
    ship(shipment, shipped_quantity=Decimal("700"))  # exactly what is left
    assert drawn(app) == (Decimal("1000"), Decimal("10000"))
    assert app.status == "exhausted"


def test_a_smaller_shipment_from_an_exhausted_license_makes_it_approved_again():
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, quantity="1000", value="10000")
    app.refresh_from_db()
    assert app.status == "exhausted"
    ship(shipment, shipped_quantity=Decimal("990"))
    assert drawn(app) == (Decimal("990"), Decimal("9900"))
    assert app.status == "approved"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (Decimal("0"), "more than zero"),
        (Decimal("-5"), "more than zero"),
        (Decimal("1.2345"), "3 decimals"),
        ("many", "number"),
        (Decimal("1E+20"), "large"),
    ],
)
def test_a_shipped_quantity_must_be_positive_with_at_most_3_decimals(quantity, message):
    app = approved_general()
    shipment = new_shipment(app)
    with pytest.raises(InvalidInput) as exc:
        ship(shipment, shipped_quantity=quantity)
    assert message in exc.value.fields["shipped_quantity"]
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"


def test_trailing_zeros_are_not_decimals_and_long_documents_are_refused():
    app = approved_general()
    shipment = new_shipment(app)
    with pytest.raises(InvalidInput) as exc:
        ship(shipment, transport_document="X" * 101, customs_declaration="M" * 41)
    assert set(exc.value.fields) == {"transport_document", "customs_declaration"}
    ship(shipment, shipped_quantity=Decimal("99.5000"))
    assert Shipment.objects.get(pk=shipment.pk).shipped_quantity == Decimal("99.5")


def test_an_individual_license_refuses_more_than_its_quantity():
    app, shipment = approved_individual(quantity="500")
    with pytest.raises(InvalidInput) as exc:
        ship(shipment, shipped_quantity=Decimal("500.001"))
    assert "500" in exc.value.fields["shipped_quantity"]
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"
    ship(shipment, shipped_quantity=Decimal("450"))  # more than planned, within the license
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.shipped_quantity == Decimal("450")
    assert drawn(app) == (0, 0)  # an individual license keeps no drawdown
    assert not Event.objects.filter(application=app, kind__startswith="drawdown").exists()


def test_undoing_a_ship_restores_the_planned_reservation_and_clears_what_it_recorded():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("480"), transport_document="BL-9")
    shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="Wrong", undo=True)
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == "cleared" and stored.shipped_at is None
    assert (stored.shipped_quantity, stored.transport_document) == (None, "")
    assert drawn(app) == (Decimal("500"), Decimal("5000"))
    back = Event.objects.get(application=app, data__move="ship_undone")
    assert back.kind == "drawdown" and back.data["quantity"] == "20.000"


def test_undoing_a_bigger_ship_gives_the_extra_back():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("600"))
    assert drawn(app) == (Decimal("600"), Decimal("6000"))
    shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="Typo", undo=True)
    assert drawn(app) == (Decimal("500"), Decimal("5000"))


def test_an_undo_the_license_can_no_longer_cover_is_refused():
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, "S-1", quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("400"))
    new_shipment(app, "S-2", quantity="600", value="6000")  # takes what the ship gave back
    with pytest.raises(IllegalMove):
        shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="x", undo=True)
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == "shipped" and stored.shipped_quantity == Decimal("400")
    assert drawn(app) == (Decimal("1000"), Decimal("10000"))


def test_re_dating_a_ship_keeps_what_it_recorded():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("480"), customs_declaration="MRN-1")
    shipping.shipment_correct(
        shipment=shipment, now=NOW, actor=None, note="Left a day later", at=at("2026-09-11")
    )
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.shipped_at == at("2026-09-11")
    assert (stored.shipped_quantity, stored.customs_declaration) == (Decimal("480"), "MRN-1")
    assert drawn(app) == (Decimal("480"), Decimal("4800"))


def test_undoing_a_ship_after_the_license_was_revoked_gives_back_what_it_drew():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("480"))
    services.application_revoke(application=app, at=at("2026-09-12"), now=NOW, actor=None)
    assert drawn(app) == (Decimal("480"), Decimal("4800"))  # a shipped shipment keeps its draw
    shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="x", undo=True)
    assert drawn(app) == (0, 0)
    assert Shipment.objects.get(pk=shipment.pk).status == "planned"


def test_the_timeline_shows_what_shipped_and_older_ship_events_still_render():
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(shipment, shipped_quantity=Decimal("480"), transport_document="BL-7")
    entries = timeline(Event.objects.filter(shipment=shipment).order_by("id"))
    text = " ".join(" ".join([str(e.title), *map(str, e.details)]) for e in entries)
    assert "Shipped quantity: 480 kg" in text and "Transport document: BL-7" in text
    assert "Shipped 480 kg, 4,800.00 USD; 20 kg, 200.00 USD given back" in text
    # An older ship event (no facts) and an older drawdown (no move) still describe.
    old = Event(kind="status_changed", from_status="cleared", to_status="shipped", data={})
    old.occurred_at = old.recorded_at = NOW
    old_move = Event(
        kind="status_changed",
        from_status="cleared",
        to_status="shipped",
        data={"move": "ship"},
        occurred_at=NOW,
        recorded_at=NOW,
    )
    assert timeline([old, old_move])


def test_a_general_license_ships_its_quantity_without_leaving_negative_totals():
    """Shipping and undoing in turn keep the stored totals equal to the sum of the events."""
    app = approved_general()
    first = new_shipment(app, "S-1", quantity="300", value="3000")
    second = new_shipment(app, "S-2", quantity="200", value="2000")
    ship(first, shipped_quantity=Decimal("250.5"))
    ship(second, shipped_quantity=Decimal("220"))
    shipping.shipment_correct(shipment=second, now=NOW, actor=None, note="x", undo=True)
    total_quantity = Decimal(0)
    for e in Event.objects.filter(application=app, kind__startswith="drawdown"):
        sign = -1 if e.kind == "drawdown_released" else 1
        total_quantity += sign * Decimal(e.data["quantity"])
    app = LicenseApplication.objects.get(pk=app.pk)
    assert total_quantity == app.drawn_quantity == Decimal("450.5")


def test_a_shipment_needing_no_license_shipped_after_a_revocation_gives_nothing_back():
    """Its reservation went back at the revocation: shipping and undoing draw nothing."""
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    Shipment.objects.filter(pk=shipment.pk).update(license_required=False)
    new_shipment(app, "S-2", quantity="100", value="1000")
    services.application_revoke(application=app, at=at("2026-09-12"), now=NOW, actor=None)
    shipment.refresh_from_db()
    assert shipment.status == "cleared" and drawn(app) == (0, 0)
    ship(shipment, "2026-09-13", shipped_quantity=Decimal("480"))
    assert drawn(app) == (0, 0)
    shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="x", undo=True)
    assert drawn(app) == (0, 0)
