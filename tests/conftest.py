"""The cast every test speaks of: an officer, a manager, a viewer, an administrator, a user
limited to one exporter (Ganzhou Rare Earth), and an outsider limited to another."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from licenses import roles
from licenses.models import UserProfile

from .factories import ExporterFactory, UserFactory


def make_user(username: str, role: str | None, *, limited_to=None, staff: bool = False):
    user = UserFactory(username=username, is_staff=staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    if limited_to is not None:
        profile, _ = UserProfile.objects.get_or_create(user=user)
        profile.limited_to_exporters = True
        profile.save()
        profile.exporters.set(limited_to)
    return user


@pytest.fixture
def ganzhou(db):
    return ExporterFactory(name="Ganzhou Rare Earth Trading Co., Ltd.")


@pytest.fixture
def baotou(db):
    return ExporterFactory(name="Baotou Magnetics Export Co., Ltd.")


@pytest.fixture
def viewer(db):
    return make_user("vera_viewer", roles.VIEWER)


@pytest.fixture
def officer(db):
    return make_user("olga_officer", roles.OFFICER, staff=True)


@pytest.fixture
def manager(db):
    return make_user("max_manager", roles.MANAGER, staff=True)


@pytest.fixture
def administrator(db):
    return make_user("ada_admin", roles.ADMINISTRATOR, staff=True)


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root_admin", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def limited(db, ganzhou):
    """An officer who may see Ganzhou Rare Earth and nothing else."""
    return make_user("lin_limited", roles.OFFICER, limited_to=[ganzhou], staff=True)


@pytest.fixture
def outsider(db, baotou):
    """An officer limited to Baotou Magnetics."""
    return make_user("otto_outsider", roles.OFFICER, limited_to=[baotou], staff=True)


@pytest.fixture
def limited_manager(db, ganzhou):
    """A compliance manager who acts for Ganzhou Rare Earth only."""
    return make_user("lena_limited_manager", roles.MANAGER, limited_to=[ganzhou], staff=True)


@pytest.fixture
def no_seeded_measures(db):
    """The seeded measures set aside, for tests that state by themselves which measures name
    an item (the seed names 1C902, 1C903, 1C117.c and others)."""
    from licenses.models import Measure, MeasureChange

    MeasureChange.objects.all().delete()
    Measure.objects.all().delete()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counts and cached dashboards live in the cache, Redis in the test settings (this
    xdist worker's database number, which outlives the process): every test starts with none,
    whatever ran before it, in this run or an earlier one."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in the default language: a page requested in Chinese leaves Chinese
    active in the thread (LocaleMiddleware activates, nothing deactivates), and a test that
    reads words must not depend on which test ran before it on its worker."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def bis_item(db):
    """An EAR item at BIS (calendar days from submission: simple hand-worked durations)."""
    from licenses.models import Authority, ControlledItem

    return ControlledItem.objects.create(
        authority=Authority.objects.get(code="BIS"),
        code="3A090.a",
        description="Advanced computing ICs",
        unit="pcs",
    )


@pytest.fixture
def database_down(monkeypatch):
    """Call it, and from then on every query fails as when PostgreSQL is down or restarting
    (the client and data the test needs are made before)."""
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    def refuse(self, *args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    def take_it_down():
        monkeypatch.setattr(CursorWrapper, "execute", refuse)
        monkeypatch.setattr(CursorWrapper, "executemany", refuse)

    return take_it_down
