"""Throttling that holds: wrong tokens are counted per client address, the counts live in the
shared cache, a client cannot dodge them with a made-up X-Forwarded-For, and a cache that is
down throttles nothing rather than refusing anybody.

The throttles' clock is pinned (`pinned_throttle_clock`): no test here depends on when it runs.
"""

from __future__ import annotations

import copy
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from config.settings.base import cache_settings

from ..monitoring.e2e import free_port

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
WRONG = "Token 0123456789abcdef0123456789abcdef01234567"
T0 = 1_790_000_000.0  # any fixed instant: the throttles only compare their own timestamps


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, which the test moves by hand."""
    now = [T0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    return now


def client_from(address: str, header: str | None = WRONG, **extra: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **extra)
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def rates(**changes: str) -> dict:
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"].update(changes)
    return rest


def test_the_bad_token_limit_is_twenty_a_minute_by_default():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["bad_token"] == "20/minute"


def test_wrong_tokens_answer_401_twenty_times_then_429_with_retry_after(clock):
    client = client_from("203.0.113.7")
    for attempt in range(1, 21):
        response = client.get("/api/v1/exporters/")
        assert response.status_code == 401, attempt
    response = client.get("/api/v1/exporters/")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["fields"] == {}
    assert body["detail"].startswith("Too many requests with a wrong token from this address.")
    assert response["Retry-After"] == "60"  # the first failure leaves the window in 60 s
    clock[0] += 59
    assert client.get("/api/v1/exporters/").status_code == 429
    clock[0] += 1
    assert client.get("/api/v1/exporters/").status_code == 401


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token not-a-token", "token 0123456789abcdef"]
)
def test_every_kind_of_refused_token_counts(clock, header):
    client = client_from("203.0.113.7", header)
    with override_settings(REST_FRAMEWORK=rates(bad_token="2/minute")):
        assert [client.get("/api/v1/exporters/").status_code for _ in range(3)] == [401, 401, 429]


def test_an_inactive_users_token_counts_as_wrong(clock, officer):
    token = Token.objects.create(user=officer)
    officer.is_active = False
    officer.save()
    client = client_from("203.0.113.7", f"Token {token.key}")
    with override_settings(REST_FRAMEWORK=rates(bad_token="1/minute")):
        assert [client.get("/api/v1/exporters/").status_code for _ in range(2)] == [401, 429]


def test_once_throttled_even_a_right_token_from_that_address_waits(clock, officer):
    """A guess that happened to be right must look like every other guess."""
    right = f"Token {Token.objects.create(user=officer).key}"
    with override_settings(REST_FRAMEWORK=rates(bad_token="2/minute")):
        for _ in range(2):
            client_from("203.0.113.7").get("/api/v1/exporters/")
        assert client_from("203.0.113.7", right).get("/api/v1/exporters/").status_code == 429
        # Another address, and the same address without a token, are not held up.
        assert client_from("198.51.100.2", right).get("/api/v1/exporters/").status_code == 200
        anonymous = client_from("203.0.113.7", None).get("/api/v1/exporters/")
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
        session = client_from("203.0.113.7", None)
        session.force_login(officer)
        assert session.get("/api/v1/exporters/").status_code == 200


def test_right_tokens_use_up_nothing(clock, officer):
    right = client_from("203.0.113.7", f"Token {Token.objects.create(user=officer).key}")
    with override_settings(REST_FRAMEWORK=rates(bad_token="1/minute")):
        for _ in range(5):
            assert right.get("/api/v1/exporters/").status_code == 200
        assert client_from("203.0.113.7").get("/api/v1/exporters/").status_code == 401


def test_a_made_up_forwarded_for_header_does_not_escape_the_count(clock):
    with override_settings(REST_FRAMEWORK=rates(bad_token="3/minute")):
        answers = [
            client_from("203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
            .get("/api/v1/exporters/")
            .status_code
            for n in range(4)
        ]
    assert answers == [401, 401, 401, 429]


def test_behind_a_proxy_the_address_it_forwarded_is_counted(clock):
    rest = rates(bad_token="1/minute") | {"NUM_PROXIES": 1}
    with override_settings(REST_FRAMEWORK=rest):
        proxy = "192.0.2.1"
        first = client_from(proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
        other = client_from(proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
        assert [first.get("/api/v1/exporters/").status_code for _ in range(2)] == [401, 429]
        assert other.get("/api/v1/exporters/").status_code == 401


def test_the_counts_are_in_the_shared_cache(clock):
    """The throttles keep their counts where every process reads them: Redis in these
    settings (the same backend production gets from REDIS_URL)."""
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"] == "core.cache.ResilientRedisCache"
    client_from("203.0.113.7").get("/api/v1/exporters/")
    assert cache.get("throttle_bad_token_203.0.113.7") == [T0]


# --- Redis down ------------------------------------------------------------------------------


@pytest.fixture
def cache_down():
    """The default cache pointed at a port where nothing listens."""
    dead = cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    with override_settings(CACHES=dead):
        yield


def test_with_the_cache_down_sign_in_and_the_api_keep_working(cache_down, officer, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="core.cache"),
        override_settings(REST_FRAMEWORK=rates(login="1/minute", bad_token="1/minute")),
    ):
        client = APIClient()
        for _ in range(3):  # never throttled: there is nowhere to count
            response = client.post(
                "/api/v1/auth/token/",
                {"username": "olga_officer", "password": PASSWORD},
                format="json",
            )
            assert response.status_code == 200
        token = response.json()["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/v1/exporters/").status_code == 200
        assert [
            client_from("203.0.113.7").get("/api/v1/exporters/").status_code for _ in range(3)
        ] == [401, 401, 401]
    assert "Redis (the cache) is unreachable" in caplog.text


def test_with_the_cache_down_the_sign_in_lockout_still_holds(cache_down, officer):
    """The lockouts of django-axes are rows in the database, not cache entries."""
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/api/v1/auth/token/", {"username": "olga_officer", "password": "wrong"}, format="json"
        )
    response = client.post(
        "/api/v1/auth/token/", {"username": "olga_officer", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429 and response.json()["code"] == "throttled"


def test_with_the_cache_down_the_dashboard_is_computed_afresh(cache_down, client, officer):
    client.force_login(officer)
    response = client.get("/")
    assert response.status_code == 200
    assert "Dashboard" in response.content.decode()
