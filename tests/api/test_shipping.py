"""The API's ship/ action records what left; the shipment reads it back; a general license's
remaining quantity and value and its ledger, scoped like everything else."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from licenses import services
from licenses.models import LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment
from tests.factories import ApplicationFactory
from tests.helpers import NOW, at
from tests.shipments.test_shipments import approved_general, new_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def ship(api, user, shipment, **body):
    return api(user).post(f"/api/v1/shipments/{shipment.pk}/ship/", body, format="json")


def test_ship_with_defaults_reads_back_the_planned_quantity(api, officer):
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    response = ship(api, officer, shipment, at="2026-09-10")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "shipped"
    assert body["shipped_quantity"] == "500.000"
    assert body["transport_document"] == "" and body["customs_declaration"] == ""


def test_ship_records_the_quantity_transport_document_and_declaration(api, officer):
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    response = ship(
        api,
        officer,
        shipment,
        shipped_quantity="480.5",
        transport_document="MAEU-998877",
        customs_declaration="26CN4401234567890",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["shipped_quantity"] == "480.500"
    assert body["transport_document"] == "MAEU-998877"
    assert body["customs_declaration"] == "26CN4401234567890"
    app.refresh_from_db()
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("480.5"), Decimal("4805"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shipped_quantity": "0"}, "shipped_quantity"),
        ({"shipped_quantity": "-1"}, "shipped_quantity"),
        ({"shipped_quantity": "1.0001"}, "shipped_quantity"),
        ({"shipped_quantity": "lots"}, "shipped_quantity"),
        ({"shipped_quantity": "1001"}, "shipped_quantity"),  # overdraws the license
        ({"transport_document": "B" * 101}, "transport_document"),
        ({"customs_declaration": "M" * 41}, "customs_declaration"),
    ],
)
def test_bad_shipping_facts_answer_400_naming_the_field(api, officer, body, field):
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, quantity="500", value="5000")
    response = ship(api, officer, shipment, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"
    app.refresh_from_db()
    assert app.drawn_quantity == Decimal("500")


def test_shipped_fields_are_read_only(api, officer):
    app = approved_general()
    shipment = new_shipment(app)
    response = api(officer).patch(
        f"/api/v1/shipments/{shipment.pk}/",
        {"shipped_quantity": "5", "customs_declaration": "X"},
        format="json",
    )
    assert response.status_code == 200
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.shipped_quantity is None and stored.customs_declaration == ""


def test_undo_through_the_api_clears_what_shipping_recorded(api, officer):
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    ship(api, officer, shipment, shipped_quantity="400", transport_document="BL-1")
    response = api(officer).post(
        f"/api/v1/shipments/{shipment.pk}/correct/", {"undo": True, "note": "x"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["shipped_quantity"], body["transport_document"]) == (
        "cleared",
        None,
        "",
    )
    app.refresh_from_db()
    assert app.drawn_quantity == Decimal("500")


def test_an_application_shows_what_a_general_license_has_left(api, officer):
    app = approved_general(quantity="1000", value="10000")
    new_shipment(app, quantity="300", value="2500.50")
    body = api(officer).get(f"/api/v1/applications/{app.pk}/").json()
    assert (body["remaining_quantity"], body["remaining_value"]) == ("700.000", "7499.50")


def test_remaining_is_null_for_an_individual_license_and_before_approval(api, officer):
    individual = ApplicationFactory(license_type="individual")
    pending = ApplicationFactory(license_type="general")
    for app in (individual, pending):
        body = api(officer).get(f"/api/v1/applications/{app.pk}/").json()
        assert body["remaining_quantity"] is None and body["remaining_value"] is None


def test_the_ledger_lists_every_entry_with_the_running_balance(api, viewer):
    app = approved_general(quantity="1000", value="10000")
    first = new_shipment(app, "S-1", quantity="300", value="3000")
    second = new_shipment(app, "S-2", quantity="200", value="2000")
    shipping.shipment_ship(
        shipment=first, at=at("2026-09-10"), now=NOW, actor=None, shipped_quantity=Decimal("310")
    )
    shipping.shipment_cancel(shipment=second, at=at("2026-09-11"), now=NOW, actor=None)
    response = api(viewer).get(f"/api/v1/applications/{app.pk}/ledger/")
    assert response.status_code == 200
    entries = response.json()
    assert [
        (e["kind"], e["shipment"], e["quantity"], e["value"], e["balance_quantity"])
        for e in entries
    ] == [
        ("reserved", first.pk, "300.000", "3000.00", "700.000"),
        ("reserved", second.pk, "200.000", "2000.00", "500.000"),
        ("shipped", first.pk, "310.000", "3100.00", "490.000"),
        ("released", second.pk, "200.000", "2000.00", "690.000"),
    ]
    assert entries[-1]["balance_value"] == "6900.00"
    assert set(entries[0]) == {
        "occurred_at",
        "kind",
        "shipment",
        "quantity",
        "value",
        "balance_quantity",
        "balance_value",
    }


def test_the_ledger_is_scoped_like_its_application(api, limited, outsider, ganzhou):
    app = approved_general()
    LicenseApplication.objects.filter(pk=app.pk).update(exporter=ganzhou)
    app.refresh_from_db()
    new_shipment(app, quantity="10", value="100")
    assert api(limited).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 200
    assert api(outsider).get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 404
    assert api().get(f"/api/v1/applications/{app.pk}/ledger/").status_code == 401


def test_an_individual_license_has_an_empty_ledger(api, officer):
    app = ApplicationFactory(license_type="individual")
    new_shipment(app)
    services.application_submit(application=app, at=at("2026-09-01"), now=NOW, actor=None)
    assert api(officer).get(f"/api/v1/applications/{app.pk}/ledger/").json() == []
