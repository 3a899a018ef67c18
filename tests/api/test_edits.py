"""Edits through the API (PUT and PATCH) go through the services, with their rules."""

from __future__ import annotations

import pytest

from licenses.models import ControlledItem, Event
from tests.factories import ApplicationFactory, ShipmentFactory, authority, item

pytestmark = pytest.mark.django_db


def test_a_drafts_authority_and_items_can_change_together_and_the_edit_is_recorded(
    api, officer, ganzhou
):
    # Found by schemathesis: an edited authority could not be written into the event (500).
    app = ApplicationFactory(exporter=ganzhou)
    ecju_item = ControlledItem.objects.create(
        authority=authority("ECJU"), code="ML22", description="Technology"
    )
    response = api(officer).patch(
        f"/api/v1/applications/{app.pk}/",
        {"authority": "ECJU", "items": [ecju_item.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["authority"] == "ECJU"
    edit = Event.objects.get(application=app, kind="edited")
    assert edit.data["edited"]["authority"] == [authority("MOFCOM").pk, authority("ECJU").pk]
    assert edit.data["edited"]["items"] == [ecju_item.pk]


def test_a_new_authority_must_list_the_items_the_application_keeps(api, officer, ganzhou):
    # Found by schemathesis: changing only the authority kept the old authority's items.
    app = ApplicationFactory(exporter=ganzhou)
    response = api(officer).patch(
        f"/api/v1/applications/{app.pk}/", {"authority": "ECJU"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["items"]
    app.refresh_from_db()
    assert app.authority.code == "MOFCOM"


def test_a_submitted_applications_destination_cannot_change(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    client = api(officer)
    client.post(f"/api/v1/applications/{app.pk}/submit/", {}, format="json")
    response = client.patch(f"/api/v1/applications/{app.pk}/", {"destination": "JP"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["destination"]
    response = client.patch(f"/api/v1/applications/{app.pk}/", {"value": "99.50"}, format="json")
    assert response.status_code == 200
    assert response.json()["value"] == "99.50"


def test_a_shipments_unit_is_its_items_and_a_different_one_is_refused(api, officer, ganzhou):
    shipment = ShipmentFactory(exporter=ganzhou)
    client = api(officer)
    response = client.patch(f"/api/v1/shipments/{shipment.pk}/", {"unit": "t"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"unit": "The item is counted in kg."}
    response = client.patch(
        f"/api/v1/shipments/{shipment.pk}/", {"unit": "kg", "quantity": "12.5"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["quantity"] == "12.500"


def test_a_shipment_must_match_its_application(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou, destination="DE")
    shipment = ShipmentFactory(exporter=ganzhou, destination="JP")
    response = api(officer).patch(
        f"/api/v1/shipments/{shipment.pk}/", {"application": app.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["destination"]


def test_a_reference_used_twice_by_one_exporter_names_the_reference(api, officer, ganzhou):
    ApplicationFactory(exporter=ganzhou, reference="GZ-1")
    ShipmentFactory(exporter=ganzhou, reference="S-1")
    client = api(officer)
    response = client.post(
        "/api/v1/applications/",
        {
            "exporter": ganzhou.pk,
            "authority": "MOFCOM",
            "items": [item("1C902").pk],
            "destination": "DE",
            "reference": "GZ-1",
            "quantity": "1",
            "value": "1.00",
            "currency": "USD",
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reference"]
    response = client.post(
        "/api/v1/shipments/",
        {
            "exporter": ganzhou.pk,
            "reference": "S-1",
            "item": item("1C902").pk,
            "quantity": "1",
            "value": "1.00",
            "currency": "USD",
            "destination": "DE",
            "planned_ship_date": "2026-12-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reference"]


def test_an_authority_with_an_unknown_time_zone_is_refused(api, administrator):
    response = api(administrator).post(
        "/api/v1/authorities/",
        {
            "code": "METI",
            "name": "METI",
            "country": "JP",
            "time_zone": "Asia/Atlantis",
            "window_days": 90,
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["time_zone"]


def test_an_administrator_adds_an_authority_whose_calendar_defaults_to_its_country(
    api, administrator
):
    response = api(administrator).post(
        "/api/v1/authorities/",
        {
            "code": "METI",
            "name": "Japan, METI",
            "country": "JP",
            "time_zone": "Asia/Tokyo",
            "window_days": 90,
            "window_unit": "calendar",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["calendar_country"] == "JP"
    assert api(administrator).get("/api/v1/authorities/METI/").json()["window_days"] == 90


def authority_payload(**extra) -> dict:
    return {
        "code": "METI",
        "name": "Japan, METI",
        "country": "JP",
        "time_zone": "Asia/Tokyo",
        "window_days": 90,
    } | extra


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"country": "ZZ"}, "country"),
        ({"calendar_country": "ZZ"}, "calendar_country"),
        ({"calendar_country": "GB", "calendar_subdivision": "XYZ"}, "calendar_subdivision"),
        ({"window_days": 1001}, "window_days"),
        ({"window_days": 0}, "window_days"),
        ({"acceptance_window_days": 100_000}, "acceptance_window_days"),
    ],
)
def test_an_authority_the_clock_could_not_count_for_is_refused(api, administrator, extra, field):
    # A calendar the `holidays` package does not know, or a window running dates off the
    # calendar, would break every due date of the authority (found by schemathesis).
    response = api(administrator).post(
        "/api/v1/authorities/", authority_payload(**extra), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_an_authoritys_window_edit_recomputes_its_pending_due_dates(api, administrator, ganzhou):
    from licenses import services
    from tests.helpers import NOW, at

    app = ApplicationFactory(exporter=ganzhou, authority=authority("ECJU"))
    ecju_item = ControlledItem.objects.create(
        authority=authority("ECJU"), code="ML1", description="x"
    )
    app.items.set([ecju_item])
    services.application_submit(application=app, at=at("2026-09-01"), now=NOW, actor=None)
    before = app.due_at
    response = api(administrator).patch(
        "/api/v1/authorities/ECJU/", {"window_days": 30}, format="json"
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.due_at > before
