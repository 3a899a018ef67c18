"""docker-compose.yml scales safely (`docker compose up --scale worker=3`, and web containers
on a range of host ports): read as compose reads it, since no test here runs Docker."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def command(service: dict[str, Any]) -> list[str]:
    value = service.get("command", "")
    return value if isinstance(value, list) else shlex.split(value)


def celery_role(service: dict[str, Any]) -> str | None:
    """`worker` or `beat` for a Celery service (after `celery -A config`), else None."""
    words = command(service)
    if not words or words[0] != "celery":
        return None
    return next((w for w in words[1:] if w in ("worker", "beat")), None)


def test_no_service_has_a_fixed_container_name(services):
    named = [name for name, service in services.items() if "container_name" in service]
    assert named == []


def test_workers_scale_with_no_host_port_and_a_node_name_per_host(services):
    workers = [name for name, s in services.items() if celery_role(s) == "worker"]
    assert workers == ["worker"]
    worker = services["worker"]
    assert "ports" not in worker
    words = command(worker)
    node = words[words.index("-n") + 1]
    assert node == "worker@%h"  # %h: the container's hostname, unique per replica
    # The health check pings this container's own node, by the same name.
    check = " ".join(worker["healthcheck"]["test"])
    assert "--destination worker@$$HOSTNAME" in check


def test_exactly_one_beat_and_no_worker_embeds_one(services):
    beats = [name for name, s in services.items() if celery_role(s) == "beat"]
    assert beats == ["beat"]
    for name, service in services.items():
        words = command(service)
        if celery_role(service) == "worker":
            assert "-B" not in words and "--beat" not in words, name
    assert "deploy" not in services["beat"]  # no replicas setting that could multiply it


def test_migrations_run_once_before_web_worker_and_beat(services):
    migrating = [
        name
        for name, s in services.items()
        if "migrate" in command(s) and "manage.py" in command(s)
    ]
    assert migrating == ["migrate"]
    migrate = services["migrate"]
    assert migrate["restart"] == "no"  # one-shot: it exits when done
    assert "ports" not in migrate
    for name in APP_SERVICES:
        assert "migrate" not in " ".join(command(services[name])), name
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_web_takes_its_host_port_from_a_range_when_scaled(services):
    (mapping,) = services["web"]["ports"]
    host, _sep, container = mapping.rpartition(":")
    assert container == "8000"
    # One port by default; WEB_PORTS=8000-8002 gives three web containers a port each.
    assert re.fullmatch(r"\$\{WEB_PORTS:-8000\}", host)


def test_every_app_container_shares_the_same_settings_and_documents(services):
    environments = [services[name]["environment"] for name in (*APP_SERVICES, "migrate")]
    assert all(env == environments[0] for env in environments)
    env = environments[0]
    for variable in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        assert env[variable], variable
    assert env["DATABASE_URL"].endswith("@db:5432/tracker")
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    for name in ("web", "worker"):
        assert "documents:/app/var/documents" in services[name]["volumes"], name


def test_the_procfile_names_its_worker_per_host_and_runs_beat_apart():
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    worker = shlex.split(lines["worker"])
    assert worker[worker.index("-n") + 1] == "worker@%h"
    assert "-B" not in worker and "--beat" not in worker
    assert "beat" in shlex.split(lines["beat"])
