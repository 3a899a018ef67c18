"""The API's limits hold across processes: two gunicorn servers on the test database and the
test Redis (the shared cache), one client address alternating between them.

Counted per process, as with a per-process cache, each server would have seen only ten or
eleven attempts when the first 429 is due. The rates are the defaults' twenty, per day rather
than per minute, so that no attempt leaves the window while the test runs, however slow the
machine.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..monitoring.e2e import Process, free_port, wait_for, worker_database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WRONG = "Token 0123456789abcdef0123456789abcdef01234567"


def call(url: str, *, method: str = "GET", body: dict | None = None, **headers: str):
    """(status, headers, JSON body) of one request, whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def two_servers(tmp_path: Path, transactional_db) -> Iterator[list[str]]:
    """Two gunicorn servers (one worker each) with the test settings, on the test database
    and, through PYTEST_XDIST_WORKER and REDIS_URL, on this worker's Redis database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": worker_database_url(),
        "API_THROTTLE_LOGIN": "20/day",
        "API_THROTTLE_BAD_TOKEN": "20/day",
        "PYTHONUNBUFFERED": "1",
    }
    servers: list[tuple[Process, str]] = []
    try:
        for name in ("one", "two"):
            port = free_port()
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
            ]
            process = Process(name, command, env, tmp_path / f"{name}.log")
            servers.append((process, f"http://127.0.0.1:{port}"))
        for process, url in servers:
            wait_for(
                lambda: answers(url) or process.popen.poll() is not None,  # noqa: B023
                timeout=45,
                what=f"gunicorn {process.name} to answer",
            )
            assert process.popen.poll() is None, process.output()
        yield [url for _process, url in servers]
    finally:
        for process, _url in servers:
            process.stop()


def test_the_sign_in_limit_holds_across_two_servers(two_servers):
    statuses = []
    for attempt in range(1, 22):
        server = two_servers[attempt % 2]
        status, headers, body = call(
            f"{server}/api/v1/auth/token/",
            method="POST",
            body={"username": f"nobody-{attempt}", "password": "wrong"},
        )
        statuses.append(status)
    assert statuses == [400] * 20 + [429]
    assert body["code"] == "throttled" and set(body) == {"code", "detail", "fields"}
    assert int(headers["Retry-After"]) > 0


def test_the_wrong_token_limit_holds_across_two_servers(two_servers):
    statuses = []
    for attempt in range(1, 22):
        server = two_servers[attempt % 2]
        status, headers, body = call(f"{server}/api/v1/exporters/", Authorization=WRONG)
        statuses.append(status)
    assert statuses == [401] * 20 + [429]
    assert body["code"] == "throttled" and set(body) == {"code", "detail", "fields"}
    assert int(headers["Retry-After"]) > 0
    # Both servers now refuse that address, whichever it asks.
    assert [call(f"{s}/api/v1/exporters/", Authorization=WRONG)[0] for s in two_servers] == [
        429,
        429,
    ]
