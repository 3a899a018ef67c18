"""The license after approval through the API: each move answers 200 with the application,
an amendment of what only a new application can change answers 400 saying so, an amendment
below what shipments reserve answers 400 naming the field, and the pending amendment shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from licenses import services
from licenses.models import LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment
from tests.factories import ApplicationFactory, ConsigneeFactory
from tests.helpers import NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def approved_general(exporter) -> LicenseApplication:
    app = ApplicationFactory(
        exporter=exporter,
        license_type="general",
        quantity=Decimal("1000"),
        value=Decimal("10000"),
    )
    kw = {"now": NOW, "actor": None}
    services.application_submit(application=app, at=at("2026-09-01"), **kw)
    services.application_approve(
        application=app,
        at=at("2026-09-02"),
        license_number="L-1",
        valid_until=dt.date(2027, 9, 1),
        approved_quantity=Decimal("1000"),
        approved_value=Decimal("10000"),
        **kw,
    )
    return app


def shipment_under(app, quantity="600", value="6000") -> Shipment:
    return shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=app.exporter,
        reference="S-1",
        item=app.items.get(),
        quantity=Decimal(quantity),
        value=Decimal(value),
        currency="USD",
        destination=app.destination,
        consignee=ConsigneeFactory(exporter=app.exporter),
        planned_ship_date=dt.date(2026, 12, 20),
        application=app,
    )


def post(client, app, move, body=None):
    return client.post(f"/api/v1/applications/{app.pk}/{move}/", body or {}, format="json")


def test_suspend_and_reinstate(api, officer, ganzhou):
    app = approved_general(ganzhou)
    shipment = shipment_under(app)
    client = api(officer)
    response = post(client, app, "suspend", {"at": "2026-10-01T10:00:00+08:00", "note": "x"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "suspended"
    assert response.json()["legal_moves"] == ["reinstate", "revoke"]
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_license"
    ship = client.post(f"/api/v1/shipments/{shipment.pk}/ship/", {}, format="json")
    assert ship.status_code == 409
    response = post(client, app, "reinstate")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    shipment.refresh_from_db()
    assert shipment.status == "cleared"


@pytest.mark.parametrize("move,status", [("revoke", "revoked"), ("surrender", "surrendered")])
def test_revoke_and_surrender_release_the_reservations(api, officer, ganzhou, move, status):
    app = approved_general(ganzhou)
    shipment = shipment_under(app)
    response = post(api(officer), app, move, {"note": "Final"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == status and body["legal_moves"] == []
    assert Decimal(body["drawn_quantity"]) == 0 and Decimal(body["drawn_value"]) == 0
    shipment.refresh_from_db()
    assert shipment.status == "planned" and shipment.application_id == app.pk


def test_amend_then_approve_the_amendment(api, officer, ganzhou):
    app = approved_general(ganzhou)
    client = api(officer)
    response = post(
        client,
        app,
        "amend",
        {
            "at": "2026-10-09T10:00:00+08:00",
            "quantity": "2000",
            "valid_until": "2028-06-30",
            "note": "More orders",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "amendment_requested"
    assert body["amendment"] == {
        "quantity": "2000.000",
        "value": None,
        "valid_until": "2028-06-30",
        "requested_at": body["amendment"]["requested_at"],
    }
    assert dt.datetime.fromisoformat(body["amendment"]["requested_at"]) == at("2026-10-09")
    assert dt.datetime.fromisoformat(body["due_at"]) == dt.datetime(
        2026, 11, 5, 16, tzinfo=dt.UTC
    )  # the end of 5 November in Beijing: 20 MOFCOM working days
    assert body["legal_moves"] == ["approve-amendment", "refuse-amendment"]
    response = post(client, app, "approve-amendment", {"note": "Granted"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "approved" and body["amendment"] is None
    assert Decimal(body["approved_quantity"]) == 2000 and body["valid_until"] == "2028-06-30"


def test_refuse_the_amendment(api, officer, ganzhou):
    app = approved_general(ganzhou)
    client = api(officer)
    post(client, app, "amend", {"value": "20000", "note": "More"})
    response = post(client, app, "refuse-amendment")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert Decimal(response.json()["approved_value"]) == 10000


@pytest.mark.parametrize(
    "body",
    [
        {"item": 1},
        {"items": [1]},
        {"destination": "FR"},
        {"consignee": 3},
        {"destination": "FR", "quantity": "5", "note": "x", "unknown": 1},
    ],
)
def test_amending_item_destination_or_consignee_needs_a_new_application(
    api, officer, ganzhou, body
):
    app = approved_general(ganzhou)
    response = post(api(officer), app, "amend", body)
    assert response.status_code == 400
    error = response.json()
    assert "new application" in error["detail"]
    assert set(error["fields"]) & {"item", "items", "destination", "consignee"}
    app.refresh_from_db()
    assert app.status == "approved"


def test_an_amendment_needs_a_value_and_a_note(api, officer, ganzhou):
    app = approved_general(ganzhou)
    response = post(api(officer), app, "amend", {"note": "Nothing"})
    assert response.status_code == 400
    assert {"quantity", "value", "valid_until"} <= set(response.json()["fields"])
    response = post(api(officer), app, "amend", {"quantity": "5"})
    assert response.status_code == 400 and "note" in response.json()["fields"]


def test_an_amendment_below_what_is_reserved_is_refused_naming_the_field(api, officer, ganzhou):
    app = approved_general(ganzhou)
    shipment_under(app, quantity="600", value="6000")
    client = api(officer)
    post(client, app, "amend", {"value": "5000", "note": "Less"})
    response = post(client, app, "approve-amendment")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"value"}
    app.refresh_from_db()
    assert app.status == "amendment_requested"


def test_a_revocation_is_undone_through_correct(api, officer, ganzhou):
    app = approved_general(ganzhou)
    shipment_under(app)
    client = api(officer)
    post(client, app, "revoke")
    response = client.post(
        f"/api/v1/applications/{app.pk}/correct/", {"undo": True, "note": "Wrong"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert Decimal(response.json()["drawn_quantity"]) == 600


def test_a_viewer_cannot_suspend(api, viewer, ganzhou):
    app = approved_general(ganzhou)
    assert post(api(viewer), app, "suspend").status_code == 403
