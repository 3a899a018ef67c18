"""`POST /api/v1/shipments/import/`: the web's CSV import through the API — all or nothing,
every error by row and column in the one error body, scoped to what the caller may see, and
safe to retry with `Idempotency-Key`."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from licenses.models import Event
from shipments.imports import COLUMNS
from shipments.models import Shipment
from tests.factories import ConsigneeFactory
from tests.helpers import NOW

pytestmark = pytest.mark.django_db

URL = "/api/v1/shipments/import/"


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def consignees(ganzhou, baotou):
    for exporter in (ganzhou, baotou):
        ConsigneeFactory(exporter=exporter, name="Rheinland Magnettechnik GmbH", country="DE")


def row(exporter, reference: str, **overrides: str) -> dict[str, str]:
    return {
        "reference": reference,
        "exporter_registration_number": exporter.registration_number,
        "authority": "MOFCOM",
        "item_code": "1C902",
        "quantity": "10",
        "value": "1000",
        "currency": "USD",
        "destination": "DE",
        "consignee": "Rheinland Magnettechnik GmbH",
        "planned_ship_date": "2026-12-20",
        "application_reference": "",
    } | overrides


def csv_file(rows: list[dict[str, str]], name: str = "shipments.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def upload(client, rows: list[dict[str, str]], **headers: str):
    return client.post(URL, {"file": csv_file(rows)}, format="multipart", **headers)


def test_a_good_file_creates_every_shipment_with_its_event(api, officer, ganzhou, consignees):
    response = upload(api(officer), [row(ganzhou, "API-1"), row(ganzhou, "API-2", quantity="5")])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 2
    assert [s["reference"] for s in body["shipments"]] == ["API-1", "API-2"]
    assert [s["quantity"] for s in body["shipments"]] == ["10.000", "5.000"]
    assert body["shipments"][0]["exporter"] == ganzhou.pk
    assert body["shipments"][0]["status"] == "planned"
    shipments = Shipment.objects.filter(exporter=ganzhou).order_by("pk")
    assert [s.pk for s in shipments] == [s["id"] for s in body["shipments"]]
    for shipment in shipments:
        created = Event.objects.filter(shipment=shipment, kind="created")
        assert created.count() == 1 and created.get().actor == officer


def test_a_file_with_errors_lists_each_and_stores_nothing(api, officer, ganzhou, consignees):
    rows = [
        row(ganzhou, "API-1"),
        row(ganzhou, "API-2", quantity="-3", planned_ship_date="20/12/2026"),
        row(ganzhou, "API-3", item_code="9Z999"),
    ]
    before = Event.objects.count()
    response = upload(api(officer), rows)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "3 errors; nothing was imported."
    expected = [
        (3, "quantity", "Must be more than zero."),
        (3, "planned_ship_date", "Use a date as YYYY-MM-DD."),
        (4, "item_code", "Not on the control list of authority MOFCOM."),
    ]
    assert body["fields"] == {f"row {n}, {column}": message for n, column, message in expected}
    assert body["rows"] == [
        {"row": n, "column": column, "message": message} for n, column, message in expected
    ]
    assert not Shipment.objects.exists()
    assert Event.objects.count() == before


def test_file_level_errors_name_the_file(api, officer):
    wrong = SimpleUploadedFile("x.csv", b"reference,colour\nA,red\n", content_type="text/csv")
    response = api(officer).post(URL, {"file": wrong}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "2 errors; nothing was imported."
    assert set(body["fields"]) == {"file"}
    assert "Missing columns; use the template." in body["fields"]["file"]
    assert "colour: Unknown columns." in body["fields"]["file"]
    assert {(r["row"], r["column"]) for r in body["rows"]} == {
        (1, ", ".join(c for c in COLUMNS if c != "reference")),
        (1, "colour"),
    }
    missing = api(officer).post(URL, {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json()["detail"] == "1 error; nothing was imported."
    assert list(missing.json()["fields"]) == ["file"]
    assert missing.json()["rows"][0]["row"] == 0


def test_a_user_limited_to_one_exporter_cannot_import_anothers_rows(
    api, limited, ganzhou, baotou, consignees
):
    rows = [row(ganzhou, "API-1"), row(baotou, "API-2")]
    response = upload(api(limited), rows)
    assert response.status_code == 400
    body = response.json()
    assert body["fields"] == {
        "row 3, exporter_registration_number": "No exporter you may see has this number."
    }
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "exporter_registration_number")]
    assert not Shipment.objects.exists()


def test_a_viewer_may_not_import(api, viewer, ganzhou, consignees):
    response = upload(api(viewer), [row(ganzhou, "API-1")])
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Shipment.objects.exists()


def test_a_file_over_the_limit_answers_413_and_stores_nothing(
    api, officer, ganzhou, consignees, settings
):
    settings.IMPORT_MAX_BYTES = 200
    rows = [row(ganzhou, f"API-{n}") for n in range(5)]
    response = upload(api(officer), rows)
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large"
    assert list(body["fields"]) == ["file"]
    assert not Shipment.objects.exists()


def test_a_repeated_import_with_a_key_answers_the_first_answer_and_creates_nothing(
    api, officer, ganzhou, consignees
):
    client = api(officer)
    rows = [row(ganzhou, "API-1"), row(ganzhou, "API-2")]
    first = upload(client, rows, HTTP_IDEMPOTENCY_KEY="import-1")
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    events = Event.objects.count()
    # A new multipart boundary each time: the same file is the same request.
    again = upload(client, rows, HTTP_IDEMPOTENCY_KEY="import-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Shipment.objects.count() == 2
    assert Event.objects.count() == events


def test_another_file_with_the_same_key_answers_422(api, officer, ganzhou, consignees):
    client = api(officer)
    first = upload(client, [row(ganzhou, "API-1")], HTTP_IDEMPOTENCY_KEY="import-1")
    assert first.status_code == 201
    other = upload(client, [row(ganzhou, "API-2")], HTTP_IDEMPOTENCY_KEY="import-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_mismatch"
    assert list(Shipment.objects.values_list("reference", flat=True)) == ["API-1"]
