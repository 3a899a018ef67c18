"""`POST /api/v1/shipments/{id}/file-application/`: 201 with the draft it files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from licenses.models import Event, LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import item

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def planned(exporter, reference="GZ-API") -> Shipment:
    return shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=exporter,
        reference=reference,
        item=item("1C902"),
        quantity=Decimal("40"),
        value=Decimal("8000"),
        currency="USD",
        destination="KR",
        planned_ship_date=dt.date(2027, 3, 1),
    )


def url(shipment) -> str:
    return f"/api/v1/shipments/{shipment.pk}/file-application/"


def test_it_answers_201_with_the_draft_and_assigns_the_shipment(api, officer, ganzhou):
    shipment = planned(ganzhou)
    response = api(officer).post(url(shipment), {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("reference", "status", "authority", "destination")} == {
        "reference": "GZ-API-APP",
        "status": "draft",
        "authority": "MOFCOM",
        "destination": "KR",
    }
    assert (body["quantity"], body["value"], body["currency"], body["license_type"]) == (
        "40.000",
        "8000.00",
        "USD",
        "individual",
    )
    assert body["exporter"] == ganzhou.pk and body["items"] == [item("1C902").pk]
    shipment.refresh_from_db()
    assert shipment.application_id == body["id"]
    assert Event.objects.filter(shipment=shipment, kind="assigned").count() == 1
    assert (
        api(officer).get(f"/api/v1/shipments/{shipment.pk}/").json()["application"] == (body["id"])
    )


def test_a_second_filing_answers_409_and_files_nothing(api, officer, ganzhou):
    shipment = planned(ganzhou)
    api(officer).post(url(shipment), {}, format="json")
    response = api(officer).post(url(shipment), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_move"
    assert "already has application GZ-API-APP" in response.json()["detail"]
    assert LicenseApplication.objects.filter(exporter=ganzhou).count() == 1


def test_a_viewer_gets_403_and_another_exporters_user_404(api, viewer, outsider, ganzhou):
    shipment = planned(ganzhou)
    assert api(viewer).post(url(shipment), {}, format="json").status_code == 403
    assert api(outsider).post(url(shipment), {}, format="json").status_code == 404
    assert not LicenseApplication.objects.filter(exporter=ganzhou).exists()


def test_unknown_fields_answer_400(api, officer, ganzhou):
    response = api(officer).post(url(planned(ganzhou)), {"reference": "X"}, format="json")
    assert response.status_code == 400 and "reference" in response.json()["fields"]
    assert not LicenseApplication.objects.filter(exporter=ganzhou).exists()
