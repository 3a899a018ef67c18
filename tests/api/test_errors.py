"""One error body everywhere, `{"code", "detail", "fields"}`; bad input is 400, never 500."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.test import override_settings

from licenses.models import Exporter, LicenseApplication
from tests.factories import ApplicationFactory, ConsigneeFactory, item

pytestmark = pytest.mark.django_db


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in body["fields"].items())
    return body


def exporter_payload(**extra) -> dict:
    return {"name": "Jiangxi Tungsten", "registration_number": "9136-JX-1", "country": "CN"} | extra


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"name": }', b"[1, 2", b"\xff\xfe", b'{"name": NaN}', b"nul", b"{'name': 'x'}"],
)
def test_malformed_json_answers_400(api, officer, body):
    response = api(officer).post("/api/v1/exporters/", body, content_type="application/json")
    assert error(response, 400)["code"] == "parse_error"
    assert not Exporter.objects.exists()


def test_json_nested_too_deeply_answers_400(api, officer):
    body = b"[" * 100_000 + b"]" * 100_000
    response = api(officer).post("/api/v1/exporters/", body, content_type="application/json")
    assert error(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_answers_400(api, officer, body):
    response = api(officer).post("/api/v1/exporters/", body, content_type="application/json")
    assert error(response, 400)["code"] == "invalid"


def test_unknown_fields_answer_400_naming_each(api, officer):
    response = api(officer).post(
        "/api/v1/exporters/", exporter_payload(colour="red", vat_id="x"), format="json"
    )
    body = error(response, 400)
    assert body["code"] == "invalid"
    assert body["fields"] == {"colour": "Unknown field.", "vat_id": "Unknown field."}
    assert not Exporter.objects.exists()


def test_unknown_fields_of_a_move_answer_400(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/submit/", {"when": "2026-09-01"}, format="json"
    )
    assert error(response, 400)["fields"] == {"when": "Unknown field."}
    app.refresh_from_db()
    assert app.status == "draft"


def test_read_only_fields_sent_are_ignored(api, officer):
    response = api(officer).post("/api/v1/exporters/", exporter_payload(id=999), format="json")
    assert response.status_code == 201
    assert response.json()["id"] != 999


@pytest.mark.parametrize(
    "field,value",
    [
        ("quantity", "lots"),
        ("quantity", [1]),
        ("quantity", "-5"),
        ("quantity", "1.0001"),
        ("quantity", "1e40"),
        ("value", {"amount": 1}),
        ("items", "1C902"),
        ("items", [True]),
        ("items", [999_999_999_999_999_999_999]),
        ("exporter", "one"),
        ("exporter", 10**30),
        ("destination", "Germany"),
        ("destination", "de"),
        ("currency", 840),
        ("license_type", "special"),
        ("authority", "NOPE"),
        ("authority", ["MOFCOM"]),
        ("reference", ""),
        ("reference", "x" * 61),
    ],
)
def test_wrong_types_answer_400_naming_the_field(api, officer, ganzhou, field, value):
    payload = {
        "exporter": ganzhou.pk,
        "authority": "MOFCOM",
        "items": [item("1C902").pk],
        "destination": "DE",
        "reference": "GZ-1",
        "quantity": "5",
        "value": "100.00",
        "currency": "USD",
    } | {field: value}
    response = api(officer).post("/api/v1/applications/", payload, format="json")
    body = error(response, 400)
    assert list(body["fields"]) == [field]
    assert not LicenseApplication.objects.exists()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": "Jiangxi\x00Tungsten"}, "name"),
        ({"contact_emails": ["a@example.com", "b\x00@example.com"]}, "contact_emails"),
        ({"na\x00me": "x"}, "name"),
    ],
)
def test_nul_characters_in_the_body_answer_400(api, officer, payload, field):
    response = api(officer).post("/api/v1/exporters/", exporter_payload(**payload), format="json")
    body = error(response, 400)
    assert body["fields"] == {field: "NUL characters are not allowed."}
    assert not Exporter.objects.exists()


@pytest.mark.parametrize(
    "query", ["search=a%00b", "destination=%00", "ordering=%00", "cursor=%00", "x%00=1"]
)
def test_nul_characters_in_the_query_answer_400(api, officer, query):
    response = api(officer).get(f"/api/v1/applications/?{query}")
    assert error(response, 400)["code"] == "invalid"


def test_a_nul_character_in_the_path_is_not_found(api, officer):
    assert error(api(officer).get("/api/v1/authorities/MOF%00COM/"), 404)["code"] == "not_found"


def test_a_body_that_is_not_json_answers_415(api, officer):
    response = api(officer).post(
        "/api/v1/exporters/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert error(response, 415)["code"] == "unsupported_media_type"


def test_an_unknown_url_answers_404_with_the_error_body(api, officer):
    assert error(api(officer).get("/api/v1/licences/"), 404)["code"] == "not_found"
    assert error(api(officer).get("/api/v1/exporters"), 404)["code"] == "not_found"


def test_an_unknown_object_answers_404(api, officer):
    body = error(api(officer).get("/api/v1/applications/999999/"), 404)
    assert body == {"code": "not_found", "detail": "Not found.", "fields": {}}
    assert error(api(officer).get("/api/v1/authorities/NOPE/"), 404)["code"] == "not_found"
    assert error(api(officer).get(f"/api/v1/exporters/{10**30}/"), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "method,url",
    [
        ("delete", "/api/v1/exporters/{exporter}/"),
        ("delete", "/api/v1/applications/{application}/"),
        ("put", "/api/v1/events/"),
        ("post", "/api/v1/flags/"),
        ("put", "/api/v1/fast-track-decisions/1/"),
        ("get", "/api/v1/applications/{application}/submit/"),
        ("post", "/api/v1/applications/{application}/"),
        ("options", "/api/v1/applications/"),
        ("get", "/api/v1/auth/token/"),
    ],
)
def test_a_method_the_endpoint_does_not_offer_answers_405(api, officer, ganzhou, method, url):
    app = ApplicationFactory(exporter=ganzhou)
    url = url.format(exporter=ganzhou.pk, application=app.pk)
    response = getattr(api(officer), method)(url)
    assert error(response, 405)["code"] == "method_not_allowed"


def test_a_role_without_the_permission_gets_403_with_the_error_body(api, viewer):
    response = api(viewer).post("/api/v1/exporters/", exporter_payload(), format="json")
    body = error(response, 403)
    assert body["code"] == "permission_denied"


def test_an_illegal_move_answers_409_with_the_error_body(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    body = error(
        api(officer).post(
            f"/api/v1/applications/{app.pk}/approve/",
            {"license_number": "L-1", "valid_until": "2027-01-01"},
            format="json",
        ),
        409,
    )
    assert body == {
        "code": "illegal_move",
        "detail": "“Approve” is not possible now: the application is still a draft.",
        "fields": {},
    }


def test_a_move_dated_in_the_future_is_invalid_input_naming_at(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/submit/", {"at": "2999-01-01"}, format="json"
    )
    body = error(response, 400)
    assert list(body["fields"]) == ["at"]


def test_a_clash_with_another_write_answers_409(api, officer, ganzhou, monkeypatch):
    from django.db import IntegrityError

    from licenses import services

    def clash(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "exporter_create", clash)
    response = api(officer).post("/api/v1/exporters/", exporter_payload(), format="json")
    assert error(response, 409)["code"] == "conflict"


def test_too_many_requests_answer_429_with_the_error_body_and_retry_after(api, officer):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"]["user"] = "3/minute"
    client = api(officer)
    with override_settings(REST_FRAMEWORK=rest):
        for _ in range(3):
            assert client.get("/api/v1/exporters/").status_code == 200
        response = client.get("/api/v1/exporters/")
    body = error(response, 429)
    assert body["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_sign_in_attempts_are_throttled_per_client(api, officer):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"]["login"] = "2/minute"
    client = api()
    with override_settings(REST_FRAMEWORK=rest):
        for _ in range(2):
            client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
        response = client.post(
            "/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json"
        )
    assert error(response, 429)["code"] == "throttled"


def test_a_consignee_of_another_exporter_cannot_be_named(api, limited, ganzhou, baotou):
    theirs = ConsigneeFactory(exporter=baotou)
    response = api(limited).post(
        "/api/v1/shipments/",
        {
            "exporter": ganzhou.pk,
            "reference": "S-1",
            "item": item("1C902").pk,
            "quantity": "1",
            "value": "1.00",
            "currency": "USD",
            "destination": "DE",
            "consignee": theirs.pk,
            "planned_ship_date": "2026-12-01",
        },
        format="json",
    )
    assert list(error(response, 400)["fields"]) == ["consignee"]


def test_a_post_to_an_unknown_url_with_a_session_cookie_answers_404_not_a_csrf_page(api, officer):
    client = api(officer)
    client.cookies["sessionid"] = "stale"
    response = client.post("/api/v1/applications/COM1/accept/", {}, format="json")
    assert error(response, 404)["code"] == "not_found"


def test_asking_for_anything_but_json_answers_406_in_json(api, officer):
    response = api(officer).get("/api/v1/exporters/", HTTP_ACCEPT="text/html")
    assert error(response, 406)["code"] == "not_acceptable"


# --- Failures outside a view's own handling: 413, 503, 500 (core/error_views.py) -------------


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_upload_limit_answers_413(api, officer):
    payload = exporter_payload(name="x" * 2000)
    response = api(officer).post("/api/v1/exporters/", payload, format="json")
    body = error(response, 413)
    assert body["code"] == "too_large"
    assert body["detail"] == (
        "The request is too large: send at most 1000\xa0bytes of data, or fewer fields, at a time."
    )
    assert not Exporter.objects.exists()


def test_a_sign_in_over_the_default_upload_limit_answers_413_in_the_callers_language():
    from rest_framework.test import APIClient

    body = b'{"username": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    response = APIClient().post(
        "/api/v1/auth/token/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    body = error(response, 413)
    assert body["code"] == "too_large" and body["detail"].startswith("请求过大")


def test_an_unknown_url_under_api_outside_v1_answers_404_with_the_error_body(api):
    assert error(api().get("/api/v2/exporters/"), 404)["code"] == "not_found"


def test_a_database_outage_answers_503_with_retry_after(api, officer, database_down):
    client = api(officer)
    client.raise_request_exception = False
    database_down()  # even the token cannot be looked up
    response = client.get("/api/v1/exporters/")
    body = error(response, 503)
    assert body == {
        "code": "unavailable",
        "detail": "The service is unavailable for a moment: a database or queue it needs "
        "cannot be reached. Try again shortly.",
        "fields": {},
    }
    assert response["Retry-After"] == "30"


def test_a_database_outage_in_the_middle_of_a_write_answers_503(api, officer, monkeypatch, caplog):
    from django.db import OperationalError

    from licenses import services

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "exporter_create", lost)
    client = api(officer)
    client.raise_request_exception = False
    response = client.post("/api/v1/exporters/", exporter_payload(), format="json")
    assert error(response, 503)["code"] == "unavailable"
    assert response["Retry-After"] == "30"
    assert "server closed the connection unexpectedly" in caplog.text  # logged, not shown


@pytest.mark.parametrize("outage", ["kombu", "redis"])
def test_a_broker_outage_where_the_request_needs_the_broker_answers_503(
    api, officer, monkeypatch, outage
):
    import kombu.exceptions
    import redis.exceptions

    from licenses import services

    errors = {
        "kombu": kombu.exceptions.OperationalError("Error 111 connecting to redis:6379."),
        "redis": redis.exceptions.ConnectionError("Error 111 connecting to redis:6379."),
    }

    def unreachable(*args, **kwargs):
        raise errors[outage]

    monkeypatch.setattr(services, "exporter_create", unreachable)
    client = api(officer)
    client.raise_request_exception = False
    response = client.post("/api/v1/exporters/", exporter_payload(), format="json")
    assert error(response, 503)["code"] == "unavailable"
    assert response["Retry-After"] == "30"


def test_an_unhandled_error_answers_500_with_the_error_body_and_is_logged(
    api, officer, monkeypatch, caplog
):
    from licenses import services

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "exporter_create", broken)
    client = api(officer)
    client.raise_request_exception = False
    response = client.post("/api/v1/exporters/", exporter_payload(), format="json")
    body = error(response, 500)
    assert body == {
        "code": "server_error",
        "detail": "Something went wrong on our side and it has been logged. Try again, and "
        "tell an administrator if it keeps happening.",
        "fields": {},
    }
    assert "secret" not in response.content.decode()
    assert "Retry-After" not in response
    logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert logged and "secret internals" in str(logged[0].exc_info[1])


def test_an_unhandled_error_speaks_the_callers_language(api, officer, monkeypatch):
    from licenses import services

    monkeypatch.setattr(services, "exporter_create", lambda **kwargs: 1 / 0)
    client = api(officer)
    client.raise_request_exception = False
    response = client.post(
        "/api/v1/exporters/", exporter_payload(), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert error(response, 500)["detail"].startswith("服务器端出错")
