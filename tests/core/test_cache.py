"""The shared cache: Redis when REDIS_URL is set, this process's memory without it, and a
Redis that is down is a miss, never an error, tried again only after a pause."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.settings.base import cache_settings
from core import cache as resilient

from ..monitoring.e2e import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(monkeypatch):
    """The backend's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(resilient, "monotonic", lambda: now[0])
    return now


def backend(url: str) -> resilient.ResilientRedisCache:
    config = cache_settings(url)["default"]
    return resilient.ResilientRedisCache(config["LOCATION"], config)


@pytest.fixture
def dead():
    url = f"redis://127.0.0.1:{free_port()}/0"
    yield backend(url)
    resilient._paused_until.pop(url, None)


def settings_of(**env: str) -> str:
    """The default cache's backend as a fresh process sees it with this environment."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CACHE_REDIS_URL")
    } | {"DJANGO_SETTINGS_MODULE": "config.settings.local", **env}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; c = s.CACHES['default'];"
            " print(c['BACKEND'], c.get('LOCATION', ''))",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_with_redis_url_the_cache_is_redis_and_without_it_this_processs_memory():
    assert settings_of(REDIS_URL="redis://cache.example:6379/0") == (
        "core.cache.ResilientRedisCache redis://cache.example:6379/0"
    )
    assert settings_of(
        REDIS_URL="redis://broker.example:6379/0", CACHE_REDIS_URL="redis://cache.example:6379/1"
    ) == ("core.cache.ResilientRedisCache redis://cache.example:6379/1")
    assert settings_of() == "django.core.cache.backends.locmem.LocMemCache"


def test_the_test_settings_give_each_xdist_worker_its_own_redis_database():
    assert settings.CACHES["default"]["LOCATION"] == settings.TEST_REDIS_URL


def test_a_cache_that_is_down_answers_misses_and_drops_writes(dead, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert dead.get("k") is None
        assert dead.get("k", default=[]) == []
        assert dead.get("k", 7) == 7
        assert dead.set("k", 1) is None
        assert dead.add("k", 1) is False
        assert dead.get_or_set("k", 3) == 3
        assert dead.get_many(["a", "b"]) == {}
        assert dead.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert dead.delete("k") is False
        assert dead.has_key("k") is False
    assert caplog.text.count("Redis (the cache) is unreachable") == 1


def test_after_a_failure_redis_is_left_alone_for_a_pause_then_tried_again(
    dead, clock, caplog, monkeypatch
):
    from django.core.cache.backends.redis import RedisCacheClient

    tries: list[str] = []
    real_get = RedisCacheClient.get

    def counting_get(self, key, default):
        tries.append(key)
        return real_get(self, key, default)

    monkeypatch.setattr(RedisCacheClient, "get", counting_get)
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        dead.get("k")
        clock[0] += resilient.PAUSE_SECONDS - 0.1
        dead.get("k")
        assert len(tries) == 1
        clock[0] += 0.1
        dead.get("k")
        assert len(tries) == 2
    assert caplog.text.count("Redis (the cache) is unreachable") == 2


def test_a_redis_that_comes_back_is_used_again_and_that_is_logged(clock, caplog):
    live = backend(settings.TEST_REDIS_URL)
    resilient._paused_until[live.location] = clock[0] - 1  # it failed a while ago
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        live.set("k", "v")
        assert live.get("k") == "v"
    assert "Redis (the cache) is reachable again." in caplog.text
    assert live.location not in resilient._paused_until


def test_clearing_a_cache_that_is_down_says_so(dead):
    from redis.exceptions import ConnectionError

    with pytest.raises(ConnectionError):
        dead.clear()


def test_clearing_the_cache_leaves_the_brokers_keys_alone():
    """The cache may share its Redis database with Celery's queue (REDIS_URL for both)."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    # An end-to-end test before this one, on the same database, may have left a task queued:
    # whatever the queue holds must stay, with ours after it.
    queued = client.lrange("celery", 0, -1)
    client.rpush("celery", "a queued task")
    cache.set("dashboard:1", "page")
    try:
        cache.clear()
        assert cache.get("dashboard:1") is None
        assert client.lrange("celery", 0, -1) == [*queued, b"a queued task"]
    finally:
        client.lrem("celery", -1, "a queued task")
