"""The dashboard is computed once and reused until something it shows changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from licenses import services
from monitoring import dashboard

from ..factories import ApplicationFactory
from .conftest import WEB_NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(monkeypatch):
    cache.clear()
    calls: list[str] = []
    real = dashboard.dashboard

    def counting(*, user, now):
        calls.append(user.username)
        return real(user=user, now=now)

    monkeypatch.setattr(dashboard, "dashboard", counting)
    return calls


def submitted(body: str) -> int:
    """The count of submitted applications the dashboard's body shows."""
    found = re.search(r'href="/applications/\?status=submitted">.*?<strong>(\d+)</strong>', body)
    assert found, body
    return int(found.group(1))


def test_a_reload_with_nothing_changed_reuses_the_dashboard(officer, world, computed):
    now = WEB_NOW.replace(second=10)  # both calls within one minute, whatever the real clock
    first = dashboard.cached_dashboard(user=officer, now=now)
    again = dashboard.cached_dashboard(user=officer, now=now + dt.timedelta(seconds=5))
    assert len(computed) == 1
    assert again == first and submitted(again) == 2


def test_a_move_shows_at_once(officer, world, computed):
    now = WEB_NOW
    before = dashboard.cached_dashboard(user=officer, now=now)
    app = ApplicationFactory(exporter=world.mine.exporter, reference="GZ-NEW")
    services.application_submit(application=app, at=now, now=now, actor=None)
    after = dashboard.cached_dashboard(user=officer, now=now)
    assert len(computed) == 2
    assert submitted(after) == submitted(before) + 1


def test_the_dashboard_is_recomputed_when_the_minute_turns(officer, world, computed):
    now = WEB_NOW.replace(second=10)
    dashboard.cached_dashboard(user=officer, now=now)
    dashboard.cached_dashboard(user=officer, now=now + dt.timedelta(minutes=1))
    assert len(computed) == 2


def test_each_user_gets_their_own_dashboard(officer, limited, world, computed):
    now = WEB_NOW
    dashboard.cached_dashboard(user=officer, now=now)
    dashboard.cached_dashboard(user=limited, now=now)
    assert len(computed) == 2
