"""Corrections through the API: a shipment's latest move re-dated or undone, and an
application's correction refused where its shipments depend on what it would change."""

from __future__ import annotations

import pytest

from licenses.models import Event, LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment
from tests.helpers import NOW, at

from .test_moves import application_in, frozen, shipment_in, snapshot

pytestmark = pytest.mark.django_db
__all__ = ["frozen"]  # the clock stands still at NOW in these tests too


def correct(client, shipment, body):
    return client.post(f"/api/v1/shipments/{shipment.pk}/correct/", body, format="json")


def test_a_shipment_correction_re_dates_the_latest_move(api, officer, ganzhou):
    shipment = shipment_in("shipped", ganzhou)  # shipped on 21 September
    ship_event = Event.objects.get(shipment=shipment, data__move="ship")
    client = api(officer)

    response = correct(
        client, shipment, {"at": "2026-09-22T09:00:00+08:00", "note": "Bill of lading date"}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == shipment.pk and body["status"] == "shipped"
    assert body["shipped_at"] == "2026-09-22T01:00:00Z"
    events = client.get(f"/api/v1/events/?shipment={shipment.pk}&kind=correction").json()
    [event] = events["results"]
    assert event["corrects"] == ship_event.pk
    assert event["note"] == "Bill of lading date" and event["actor"] == "olga_officer"
    assert event["data"]["action"] == "redate" and event["data"]["move"] == "ship"


@pytest.mark.parametrize(
    "status,restored",
    [
        ("shipped", "cleared"),
        ("delivered", "shipped"),
        ("on_hold", "cleared"),
        ("cancelled", "cleared"),
    ],
)
def test_a_shipment_correction_undoes_the_latest_move(api, officer, ganzhou, status, restored):
    shipment = shipment_in(status, ganzhou)
    response = correct(api(officer), shipment, {"undo": True, "note": "Recorded by mistake"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == restored
    if status == "shipped":
        assert response.json()["shipped_at"] is None
    if status == "delivered":
        assert response.json()["delivered_at"] is None


def test_undoing_a_release_puts_the_shipment_back_on_hold(api, officer, ganzhou):
    shipment = shipment_in("on_hold", ganzhou)
    shipping.shipment_release(shipment=shipment, at=at("2026-09-25"), now=NOW, actor=None)
    response = correct(api(officer), shipment, {"undo": True, "note": "Still held"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "on_hold"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"undo": True}, "note"),
        ({"undo": True, "note": ""}, "note"),
        ({"note": "why"}, "at"),
        ({"undo": True, "at": "2026-09-22", "note": "why"}, "at"),
        ({"at": "2026-09-01", "note": "before the previous move"}, "at"),
        ({"at": "2026-11-30T10:00:00+08:00", "note": "in the future"}, "at"),
        ({"at": "yesterday", "note": "why"}, "at"),
        ({"undo": "maybe", "note": "why"}, "undo"),
        ({"undo": True, "note": "why", "reason": "unknown field"}, "reason"),
    ],
)
def test_a_shipment_correction_with_bad_input_names_the_field(api, officer, ganzhou, body, field):
    shipment = shipment_in("delivered", ganzhou)  # shipped 21, delivered 22 September
    before = snapshot(Shipment, shipment.pk, shipment=shipment)
    response = correct(api(officer), shipment, body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert snapshot(Shipment, shipment.pk, shipment=shipment) == before


@pytest.mark.parametrize("status", ["planned", "awaiting_license", "cleared"])
def test_a_shipment_with_no_officer_move_answers_409(api, officer, ganzhou, status):
    shipment = shipment_in(status, ganzhou)
    before = snapshot(Shipment, shipment.pk, shipment=shipment)
    response = correct(api(officer), shipment, {"undo": True, "note": "x"})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_move"
    assert snapshot(Shipment, shipment.pk, shipment=shipment) == before


def test_a_viewer_may_not_correct_a_shipment(api, viewer, ganzhou):
    shipment = shipment_in("shipped", ganzhou)
    response = correct(api(viewer), shipment, {"undo": True, "note": "x"})
    assert response.status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).status == "shipped"


def test_a_limited_user_gets_404_for_another_exporters_shipment(api, limited, baotou):
    shipment = shipment_in("shipped", baotou)
    response = correct(api(limited), shipment, {"undo": True, "note": "x"})
    assert response.status_code == 404
    assert Shipment.objects.get(pk=shipment.pk).status == "shipped"


# --- application corrections and approvals that shipments depend on ------------------------------


def test_undoing_an_approval_with_a_shipped_shipment_answers_409_naming_it(api, officer, ganzhou):
    shipment = shipment_in("shipped", ganzhou)
    app = shipment.application
    before = snapshot(LicenseApplication, app.pk, application=app)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/correct/",
        {"undo": True, "note": "Not approved after all"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_move"
    assert shipment.reference in response.json()["detail"]
    assert snapshot(LicenseApplication, app.pk, application=app) == before


def test_undoing_an_approval_with_a_cleared_shipment_moves_it_back(api, officer, ganzhou):
    shipment = shipment_in("cleared", ganzhou)
    client = api(officer)
    response = client.post(
        f"/api/v1/applications/{shipment.application_id}/correct/",
        {"undo": True, "note": "Not approved after all"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert client.get(f"/api/v1/shipments/{shipment.pk}/").json()["status"] == "awaiting_license"
    moves = client.get(f"/api/v1/events/?shipment={shipment.pk}&kind=status_changed").json()
    assert moves["results"][-1]["to_status"] == "awaiting_license"


def test_re_dating_an_approval_after_a_shipment_shipped_names_at(api, officer, ganzhou):
    shipment = shipment_in("shipped", ganzhou)  # approved 2, shipped 21 September
    response = api(officer).post(
        f"/api/v1/applications/{shipment.application_id}/correct/",
        {"at": "2026-09-25", "note": "Letter date"},
        format="json",
    )
    assert response.status_code == 400
    assert shipment.reference in response.json()["fields"]["at"]


def test_approving_with_a_validity_before_today_and_no_date_names_valid_until(
    api, officer, ganzhou
):
    app = application_in("accepted", ganzhou)
    before = snapshot(LicenseApplication, app.pk, application=app)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/approve/",
        {"license_number": "L-1", "valid_until": "2026-11-28"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["valid_until"]
    assert snapshot(LicenseApplication, app.pk, application=app) == before


def test_shipping_on_the_day_of_the_approval_by_bare_date_is_the_approvals_moment(
    api, officer, ganzhou
):
    shipment = shipment_in("cleared", ganzhou)  # approved 2 September, 10:00 in Beijing
    client = api(officer)
    early = client.post(
        f"/api/v1/shipments/{shipment.pk}/ship/", {"at": "2026-09-01"}, format="json"
    )
    assert early.status_code == 400 and "at" in early.json()["fields"]
    response = client.post(
        f"/api/v1/shipments/{shipment.pk}/ship/", {"at": "2026-09-02"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["shipped_at"] == "2026-09-02T02:00:00Z"
