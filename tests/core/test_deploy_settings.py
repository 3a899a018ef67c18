"""Production settings are deploy-ready: Django's deployment checks pass with the documented
variables, plain http is redirected to https (the health check excepted) and https answers
carry Strict-Transport-Security. Each runs in a fresh process on `config.settings.production`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import django; django.setup()
from django.test import Client
c = Client()
r = c.get("/login/?next=/"); print(r.status_code, r.get("Location"))
r = c.get("/healthz"); print(r.status_code, r.get("Strict-Transport-Security"))
r = c.get("/api/v1/authorities/", headers={"X-Forwarded-Proto": "https"})
print(r.status_code, r.get("Strict-Transport-Security"))
"""


def production(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="a-long-random-production-secret-" + "k3y" * 12,
        ALLOWED_HOSTS="tracker.example.com,testserver",
        # never reached: what is asked here answers before any query
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/no_such_database",
        **extra,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_deployment_checks_pass_with_the_production_settings():
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production())
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_the_deployment_checks_fail_when_https_is_turned_off():
    env = production(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode != 0
    assert "security.W004" in done.stderr and "security.W008" in done.stderr


def test_http_is_redirected_and_https_carries_hsts():
    done = run(["-c", PROBE], production())
    assert done.returncode == 0, done.stderr
    redirect, health, api = done.stdout.strip().splitlines()
    assert redirect == "301 https://testserver/login/?next=/"
    assert health == "200 None"  # the container's health check over plain http
    assert api == "401 max-age=31536000; includeSubDomains; preload"
