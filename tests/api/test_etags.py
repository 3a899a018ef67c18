"""`ETag` on every object's detail answer, `If-Match` on its writes (SPEC, *For integrators*):
a stale one answers 412 and changes nothing, also against a write that commits between the
client's read and its own."""

from __future__ import annotations

import threading
import time

import pytest
import time_machine
import yaml
from django.db import connection
from rest_framework.test import APIClient

from core.api.etags import etag_of
from licenses.models import Event
from shipments import services as shipping
from shipments.models import Shipment
from tests.factories import ConsigneeFactory, ShipmentFactory, item
from tests.helpers import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shipment(ganzhou):
    return ShipmentFactory(exporter=ganzhou)


def url_of(shipment: Shipment) -> str:
    return f"/api/v1/shipments/{shipment.pk}/"


def state(shipment: Shipment) -> tuple:
    shipment.refresh_from_db()
    return (
        shipment.status,
        shipment.quantity,
        shipment.planned_ship_date,
        Event.objects.filter(shipment=shipment).count(),
    )


def test_a_read_carries_the_etag_of_what_it_shows(api, officer, shipment):
    response = api(officer).get(url_of(shipment))
    assert response.status_code == 200
    assert response["ETag"] == etag_of(response.json())
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')


def test_a_read_of_an_unchanged_object_answers_the_same_etag(api, officer, shipment):
    client = api(officer)
    assert client.get(url_of(shipment))["ETag"] == client.get(url_of(shipment))["ETag"]


def test_lists_carry_no_etag(api, officer, shipment):
    assert not api(officer).get("/api/v1/shipments/").has_header("ETag")


def test_a_create_answers_the_etag_a_read_then_gives(api, officer, ganzhou):
    consignee = ConsigneeFactory(exporter=ganzhou, country="DE")
    client = api(officer)
    created = client.post(
        "/api/v1/shipments/",
        {
            "exporter": ganzhou.pk,
            "reference": "S-ETAG",
            "item": item("1C902").pk,
            "quantity": "10",
            "value": "1000.00",
            "currency": "USD",
            "destination": "DE",
            "consignee": consignee.pk,
            "planned_ship_date": "2026-12-20",
        },
        format="json",
    )
    assert created.status_code == 201
    read = client.get(f"/api/v1/shipments/{created.json()['id']}/")
    assert created["ETag"] == read["ETag"]


def test_a_move_answers_the_new_etag(api, officer, shipment):
    client = api(officer)
    before = client.get(url_of(shipment))["ETag"]
    moved = client.post(f"{url_of(shipment)}hold/", {}, format="json")
    assert moved.status_code == 200
    assert moved["ETag"] != before
    assert moved["ETag"] == client.get(url_of(shipment))["ETag"]


def test_an_answer_about_another_object_carries_no_etag(api, officer, shipment):
    # Filing an application answers the new application, not the shipment.
    response = api(officer).post(f"{url_of(shipment)}file-application/", {}, format="json")
    assert response.status_code == 201, response.json()
    assert not response.has_header("ETag")


def test_an_authoritys_detail_carries_an_etag(api, viewer):
    response = api(viewer).get("/api/v1/authorities/MOFCOM/")
    assert response["ETag"] == etag_of(response.json())


def test_an_edit_with_a_stale_if_match_answers_412_and_changes_nothing(api, officer, shipment):
    client = api(officer)
    stale = client.get(url_of(shipment))["ETag"]
    client.patch(url_of(shipment), {"quantity": "20"}, format="json")  # someone else's edit
    before = state(shipment)

    response = client.patch(
        url_of(shipment), {"quantity": "30"}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert set(response.json()) == {"code", "detail", "fields"}
    assert state(shipment) == before


def test_a_move_with_a_stale_if_match_answers_412_and_changes_nothing(api, officer, shipment):
    client = api(officer)
    stale = client.get(url_of(shipment))["ETag"]
    client.patch(url_of(shipment), {"quantity": "20"}, format="json")
    before = state(shipment)

    response = client.post(f"{url_of(shipment)}hold/", {}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert state(shipment) == before
    assert before[0] != "on_hold"


def test_an_edit_with_the_current_etag_succeeds_and_answers_the_new_one(api, officer, shipment):
    client = api(officer)
    current = client.get(url_of(shipment))["ETag"]

    response = client.patch(
        url_of(shipment), {"quantity": "30"}, format="json", HTTP_IF_MATCH=current
    )

    assert response.status_code == 200
    assert response.json()["quantity"] == "30.000"
    assert response["ETag"] != current
    assert response["ETag"] == client.get(url_of(shipment))["ETag"]


def test_a_move_with_the_current_etag_among_others_succeeds(api, officer, shipment):
    client = api(officer)
    current = client.get(url_of(shipment))["ETag"]
    response = client.post(
        f"{url_of(shipment)}hold/", {}, format="json", HTTP_IF_MATCH=f'"0000", {current}'
    )
    assert response.status_code == 200
    assert response.json()["status"] == "on_hold"


def test_a_weak_etag_never_matches(api, officer, shipment):
    client = api(officer)
    current = client.get(url_of(shipment))["ETag"]
    response = client.patch(
        url_of(shipment), {"quantity": "30"}, format="json", HTTP_IF_MATCH=f"W/{current}"
    )
    assert response.status_code == 412


def test_if_match_star_matches_any_existing_object(api, officer, shipment):
    client = api(officer)
    response = client.patch(url_of(shipment), {"quantity": "30"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200
    missing = client.patch(
        "/api/v1/shipments/999999/", {"quantity": "30"}, format="json", HTTP_IF_MATCH="*"
    )
    assert missing.status_code == 404


def test_if_match_on_another_exporters_object_answers_404(api, outsider, shipment):
    response = api(outsider).patch(
        url_of(shipment), {"quantity": "30"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 404


def test_if_none_match_with_the_current_etag_answers_304(api, officer, shipment):
    client = api(officer)
    current = client.get(url_of(shipment))["ETag"]
    unchanged = client.get(url_of(shipment), HTTP_IF_NONE_MATCH=current)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == current
    client.post(f"{url_of(shipment)}hold/", {}, format="json")
    changed = client.get(url_of(shipment), HTTP_IF_NONE_MATCH=current)
    assert changed.status_code == 200
    assert changed.json()["status"] == "on_hold"


def second_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, condition.__name__
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_committed_between_the_check_and_the_change_cannot_slip_through(
    api, officer, ganzhou, monkeypatch
):
    """Two edits sent with the same (then current) ETag at once: the first holds the row
    from its check to its commit; the second's check waits for it, then sees the change and
    answers 412. Exactly one edit is made."""
    shipment = ShipmentFactory(exporter=ganzhou)
    current = api(officer).get(url_of(shipment))["ETag"]
    first_inside = threading.Event()
    release_first = threading.Event()
    real = shipping.shipment_update

    def slow(**kwargs):
        result = real(**kwargs)
        if kwargs.get("quantity") == 20:
            first_inside.set()
            assert release_first.wait(timeout=30)
        return result

    monkeypatch.setattr(shipping, "shipment_update", slow)
    results: dict = {}

    def edit(name, quantity):
        try:
            results[name] = api(officer).patch(
                url_of(shipment), {"quantity": quantity}, format="json", HTTP_IF_MATCH=current
            )
        finally:
            connection.close()

    one = threading.Thread(target=edit, args=("first", "20"))
    one.start()
    assert first_inside.wait(timeout=30)
    two = threading.Thread(target=edit, args=("second", "30"))
    two.start()
    wait_until(second_waits_on_a_lock)  # on the row the first one holds
    release_first.set()
    one.join(timeout=30)
    two.join(timeout=30)

    assert results["first"].status_code == 200
    assert results["second"].status_code == 412
    shipment.refresh_from_db()
    assert shipment.quantity == 20


def test_the_schema_documents_etag_and_if_match(schema):
    paths = schema["paths"]

    def headers(op):
        return {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}

    for path in ("/api/v1/shipments/{id}/", "/api/v1/applications/{id}/"):
        for method in ("put", "patch"):
            assert "If-Match" in headers(paths[path][method])
            assert "412" in paths[path][method]["responses"]
            assert "ETag" in paths[path][method]["responses"]["200"]["headers"]
        assert "If-None-Match" in headers(paths[path]["get"])
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"]
        assert "304" in paths[path]["get"]["responses"]
    hold = paths["/api/v1/shipments/{id}/hold/"]["post"]
    assert "If-Match" in headers(hold) and "412" in hold["responses"]
    assert "ETag" in hold["responses"]["200"]["headers"]
    assert "ETag" in paths["/api/v1/shipments/"]["post"]["responses"]["201"]["headers"]
    assert "headers" not in paths["/api/v1/shipments/"]["get"]["responses"]["200"]


def test_a_412_keeps_no_idempotency_key_so_a_corrected_retry_with_it_goes_through(
    api, officer, shipment
):
    client = api(officer)
    stale = client.get(url_of(shipment))["ETag"]
    client.patch(url_of(shipment), {"quantity": "20"}, format="json")
    hold = f"{url_of(shipment)}hold/"

    refused = client.post(hold, {}, format="json", HTTP_IF_MATCH=stale, HTTP_IDEMPOTENCY_KEY="h")
    assert refused.status_code == 412

    current = client.get(url_of(shipment))["ETag"]
    retried = client.post(hold, {}, format="json", HTTP_IF_MATCH=current, HTTP_IDEMPOTENCY_KEY="h")
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert retried.json()["status"] == "on_hold"
