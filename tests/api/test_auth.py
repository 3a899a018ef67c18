"""Token sign-in and revocation; 401 for missing, invalid or revoked credentials."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def sign_in(username: str, password: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_an_officer_gets_a_token_with_username_and_password(officer):
    response = sign_in("olga_officer", PASSWORD)
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=officer).key}


def test_the_same_token_is_answered_until_it_is_revoked(officer):
    assert sign_in("olga_officer", PASSWORD).json() == sign_in("olga_officer", PASSWORD).json()


@pytest.mark.parametrize(
    "username,password", [("olga_officer", "wrong"), ("nobody", PASSWORD), ("nobody", "wrong")]
)
def test_wrong_credentials_answer_400_without_saying_which_part(officer, username, password):
    response = sign_in(username, password)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "Unable to sign in with the given username and password.",
        "fields": {},
    }


def test_an_inactive_user_gets_no_token(officer):
    officer.is_active = False
    officer.save()
    assert sign_in("olga_officer", PASSWORD).json()["code"] == "invalid_credentials"


def test_missing_credentials_name_the_missing_fields():
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


def test_the_token_authenticates_requests(api, officer):
    token = sign_in("olga_officer", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/exporters/").status_code == 200


def test_delete_revokes_the_callers_token_and_it_then_answers_401(officer):
    token = sign_in("olga_officer", PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.filter(user=officer).exists()
    response = client.get("/api/v1/exporters/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "Invalid token.",
        "fields": {},
    }
    assert response.headers["WWW-Authenticate"] == "Token"


def test_delete_without_credentials_answers_401():
    response = APIClient().delete("/api/v1/auth/token/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", [None, "Token", "Token not-a-token", "Token a b", "Bearer abc", "Basic Zm9vOmJhcg=="]
)
def test_missing_or_invalid_credentials_answer_401_with_the_error_body(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/applications/")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] in ("not_authenticated", "authentication_failed")
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_session_signs_in_too(officer):
    client = APIClient()
    client.force_login(officer)
    assert client.get("/api/v1/applications/").status_code == 200


def test_a_session_write_needs_the_csrf_token(officer, ganzhou):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post("/api/v1/consignees/", {"exporter": ganzhou.pk}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["detail"]


def test_after_repeated_failures_sign_in_is_locked_with_the_error_body(officer, settings):
    # django-axes locks a username from one address after AXES_FAILURE_LIMIT failures; the
    # API answers that in its own body (429), not with the web's lockout page.
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in("olga_officer", "wrong").status_code == 400
    assert sign_in("olga_officer", "wrong").status_code == 429
    response = sign_in("olga_officer", PASSWORD)  # the right password, but locked
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "throttled"
    assert set(body) == {"code", "detail", "fields"}
    assert int(response["Retry-After"]) > 0
    # Another user from the same address is not locked out.
    assert sign_in("nobody", "x").status_code == 400


def test_the_api_speaks_utc_also_to_a_session_with_its_own_time_zone(officer, ganzhou):
    from monitoring.models import AlertPreference
    from tests.factories import ApplicationFactory

    AlertPreference.objects.create(user=officer, time_zone="Asia/Shanghai")
    app = ApplicationFactory(exporter=ganzhou)
    client = APIClient()
    client.force_login(officer)
    assert client.get(f"/api/v1/applications/{app.pk}/").json()["created_at"].endswith("Z")
