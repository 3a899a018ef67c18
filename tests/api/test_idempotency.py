"""`Idempotency-Key` on POSTs (SPEC, *For integrators*): a repeat answers the first response
and changes nothing, another request with the key answers 422, keys are the caller's own and
last 24 hours, and two requests racing with one key create one object."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
import yaml
from django.db import connection
from rest_framework.test import APIClient

from core.idempotency import purge_expired, stored_model
from licenses.models import Document, Event
from shipments import services as shipping
from shipments.models import Shipment
from tests.factories import ApplicationFactory, ConsigneeFactory, ShipmentFactory, item
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


def shipment_payload(ganzhou, reference: str = "S-IDEM") -> dict:
    consignee = ConsigneeFactory(exporter=ganzhou, country="DE")
    return {
        "exporter": ganzhou.pk,
        "reference": reference,
        "item": item("1C902").pk,
        "quantity": "10",
        "value": "1000.00",
        "currency": "USD",
        "destination": "DE",
        "consignee": consignee.pk,
        "planned_ship_date": "2026-12-20",
    }


def counts() -> tuple[int, int]:
    return Shipment.objects.count(), Event.objects.count()


def test_a_repeated_create_answers_the_first_response_and_creates_nothing(api, officer, ganzhou):
    client = api(officer)
    payload = shipment_payload(ganzhou)
    first = client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    after_first = counts()

    again = client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert counts() == after_first
    assert Shipment.objects.filter(reference="S-IDEM").count() == 1


def test_without_a_key_a_repeat_is_processed_again(api, officer, ganzhou):
    client = api(officer)
    payload = shipment_payload(ganzhou)
    assert client.post("/api/v1/shipments/", payload, format="json").status_code == 201
    again = client.post("/api/v1/shipments/", payload, format="json")
    assert again.status_code == 400  # the reference is taken: it was processed anew
    assert stored_model().objects.count() == 0


def test_a_repeated_move_changes_nothing_and_answers_the_first_response(api, officer, ganzhou):
    shipment = ShipmentFactory(exporter=ganzhou)
    client = api(officer)
    url = f"/api/v1/shipments/{shipment.pk}/hold/"
    first = client.post(url, {"note": "customs"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "on_hold"
    events = Event.objects.filter(shipment=shipment).count()

    again = client.post(url, {"note": "customs"}, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")

    # Without the key the second hold would be an illegal move (409); with it, the first answer.
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.filter(shipment=shipment).count() == events


def test_the_same_key_with_another_body_answers_422_and_changes_nothing(api, officer, ganzhou):
    client = api(officer)
    payload = shipment_payload(ganzhou)
    client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    before = counts()

    other = client.post(
        "/api/v1/shipments/",
        {**payload, "reference": "S-OTHER"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_mismatch"
    assert set(other.json()) == {"code", "detail", "fields"}
    assert counts() == before
    assert not Shipment.objects.filter(reference="S-OTHER").exists()


def test_the_same_key_on_another_path_answers_422(api, officer, ganzhou):
    shipment = ShipmentFactory(exporter=ganzhou)
    client = api(officer)
    client.post(
        f"/api/v1/shipments/{shipment.pk}/hold/", {}, format="json", HTTP_IDEMPOTENCY_KEY="m"
    )
    response = client.post(
        f"/api/v1/shipments/{shipment.pk}/cancel/", {}, format="json", HTTP_IDEMPOTENCY_KEY="m"
    )
    assert response.status_code == 422
    shipment.refresh_from_db()
    assert shipment.status == "on_hold"


def test_another_users_same_key_is_processed_on_its_own(api, officer, administrator, ganzhou):
    payload = shipment_payload(ganzhou)
    first = api(officer).post(
        "/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert first.status_code == 201
    second = api(administrator).post(
        "/api/v1/shipments/",
        {**payload, "reference": "S-ADMIN"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert Shipment.objects.filter(reference__in=["S-IDEM", "S-ADMIN"]).count() == 2


def test_a_key_older_than_24_hours_is_processed_anew(api, officer, ganzhou):
    shipment = ShipmentFactory(exporter=ganzhou)
    client = api(officer)
    url = f"/api/v1/shipments/{shipment.pk}/hold/"
    assert client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 200
    client.post(f"/api/v1/shipments/{shipment.pk}/release/", {}, format="json")

    with time_machine.travel(NOW + dt.timedelta(hours=23, minutes=59), tick=False):
        within = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert within["Idempotent-Replayed"] == "true"
    shipment.refresh_from_db()
    assert shipment.status != "on_hold"  # the replay changed nothing

    with time_machine.travel(NOW + dt.timedelta(hours=24, minutes=1), tick=False):
        later = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert later.status_code == 200
    assert "Idempotent-Replayed" not in later
    shipment.refresh_from_db()
    assert shipment.status == "on_hold"
    assert stored_model().objects.filter(key="old").count() == 1


def test_the_daily_purge_deletes_only_keys_past_24_hours(api, officer, ganzhou):
    shipment = ShipmentFactory(exporter=ganzhou)
    client = api(officer)
    client.post(
        f"/api/v1/shipments/{shipment.pk}/hold/", {}, format="json", HTTP_IDEMPOTENCY_KEY="a"
    )
    with time_machine.travel(NOW + dt.timedelta(hours=12), tick=False):
        client.post(
            f"/api/v1/shipments/{shipment.pk}/release/", {}, format="json", HTTP_IDEMPOTENCY_KEY="b"
        )
    assert purge_expired(now=NOW + dt.timedelta(hours=25)) == 1
    assert list(stored_model().objects.values_list("key", flat=True)) == ["b"]


@pytest.mark.parametrize(
    "key",
    ["x" * 256, "caf\u00e9", "tab\there"],
    ids=["too long", "not ASCII", "a control character"],
)
def test_a_malformed_key_answers_400_naming_the_header(api, officer, ganzhou, key):
    before = counts()
    response = api(officer).post(
        "/api/v1/shipments/", shipment_payload(ganzhou), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["Idempotency-Key"]
    assert counts() == before


def test_a_key_of_255_printable_characters_is_accepted(api, officer, ganzhou):
    key = ("a !~" * 64)[:255]
    response = api(officer).post(
        "/api/v1/shipments/", shipment_payload(ganzhou), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 201
    assert stored_model().objects.get().key == key


def test_a_refusal_is_replayed_and_a_conflict_is_not(api, officer, ganzhou):
    client = api(officer)
    bad = {**shipment_payload(ganzhou), "quantity": "-1"}
    first = client.post("/api/v1/shipments/", bad, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == 400
    again = client.post("/api/v1/shipments/", bad, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert (again.status_code, again.content) == (400, first.content)
    assert again["Idempotent-Replayed"] == "true"

    # An illegal move (409) depends on the state met: not kept, a retry is processed anew.
    shipment = ShipmentFactory(exporter=ganzhou)
    url = f"/api/v1/shipments/{shipment.pk}/release/"
    conflict = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="rel")
    assert conflict.status_code == 409
    assert not stored_model().objects.filter(key="rel").exists()
    client.post(f"/api/v1/shipments/{shipment.pk}/hold/", {}, format="json")
    retried = client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="rel")
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried


def test_a_server_error_keeps_no_key_and_a_retry_is_processed(api, officer, ganzhou, monkeypatch):
    client = api(officer)
    payload = shipment_payload(ganzhou)
    real = shipping.shipment_create

    def broken(**kwargs):
        real(**kwargs)  # the write happens, then the request fails: all of it is rolled back
        raise RuntimeError("boom")

    monkeypatch.setattr(shipping, "shipment_create", broken)
    client.raise_request_exception = False
    failed = client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="5xx")
    assert failed.status_code == 500
    assert not Shipment.objects.filter(reference="S-IDEM").exists()
    assert not stored_model().objects.exists()

    monkeypatch.setattr(shipping, "shipment_create", real)
    retried = client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="5xx")
    assert retried.status_code == 201
    assert Shipment.objects.filter(reference="S-IDEM").count() == 1


def test_a_document_upload_with_a_key_is_attached_once(api, officer, ganzhou, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = ApplicationFactory(exporter=ganzhou)
    client = api(officer)
    url = f"/api/v1/applications/{application.pk}/documents/"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

    def upload():
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            url,
            {"kind": "contract", "file": SimpleUploadedFile("c.pdf", pdf, "application/pdf")},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="doc-1",
        )

    first = upload()
    assert first.status_code == 201, first.json()
    # A new multipart boundary each time: the same fields and file are the same request.
    again = upload()
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Document.objects.filter(application=application).count() == 1


def test_the_token_sign_in_takes_no_key(api, officer):
    officer.set_password("pw-Secret-123")
    officer.save()
    response = api().post(
        "/api/v1/auth/token/",
        {"username": officer.username, "password": "pw-Secret-123"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 300,
    )
    assert response.status_code == 200
    assert not stored_model().objects.exists()


# --- Two requests with one key at once: real connections, real transactions ----------------


def in_threads(*works):
    """Run each callable in its own thread (its own database connection); their results."""
    results: list = [None] * len(works)
    errors: list[BaseException] = []

    def target(i, work):
        try:
            results[i] = work()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_requests_racing_create_one_shipment(api, officer, ganzhou):
    payload = shipment_payload(ganzhou, reference="S-RACE")
    barrier = threading.Barrier(2)

    def send():
        client = api(officer)
        barrier.wait()
        return client.post("/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="r")

    responses = in_threads(send, send)

    assert Shipment.objects.filter(reference="S-RACE").count() == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409]), [r.content for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert all(r.content == created[0].content for r in created)
    assert stored_model().objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_arriving_while_the_first_is_processed_answers_409(
    api, officer, ganzhou, monkeypatch, settings
):
    """The first request is held inside its transaction (after its claim and its write) until
    the second has answered: the second waits for the key at most IDEMPOTENCY_WAIT_SECONDS,
    then answers 409 and changes nothing; once the first commits, a retry gets its answer."""
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    payload = shipment_payload(ganzhou, reference="S-SLOW")
    inside = threading.Event()
    second_answered = threading.Event()
    real = shipping.shipment_create

    def slow(**kwargs):
        shipment = real(**kwargs)
        inside.set()
        assert second_answered.wait(timeout=30)
        return shipment

    monkeypatch.setattr(shipping, "shipment_create", slow)

    def first():
        return api(officer).post(
            "/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="slow"
        )

    def second():
        assert inside.wait(timeout=30)
        try:
            return api(officer).post(
                "/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="slow"
            )
        finally:
            second_answered.set()

    one, two = in_threads(first, second)

    assert one.status_code == 201
    assert two.status_code == 409
    assert two.json()["code"] == "idempotency_in_progress"
    assert Shipment.objects.filter(reference="S-SLOW").count() == 1
    retry = api(officer).post(
        "/api/v1/shipments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="slow"
    )
    assert (retry.status_code, retry.content) == (201, one.content)
    assert Shipment.objects.filter(reference="S-SLOW").count() == 1


def test_the_schema_offers_the_key_on_every_post_but_the_sign_in(schema):
    posts = {
        path: op
        for path, item_ in schema["paths"].items()
        for method, op in item_.items()
        if method == "post"
    }
    assert len(posts) > 20
    for path, op in posts.items():
        headers = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}
        if path == "/api/v1/auth/token/":
            assert "Idempotency-Key" not in headers
            continue
        key = headers["Idempotency-Key"]
        assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255), path
        assert {"409", "422"} <= set(op["responses"]), path
        assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
