"""A server process's start-up: what it loads before its first request, and the objects it then
leaves to the collector's permanent generation."""

import gc

import pytest
from django.urls import clear_url_caches, get_resolver, reverse
from django.utils.translation import trans_real

from core.startup import freeze_after_startup


@pytest.fixture
def unfrozen():
    """The test process's own objects go back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_start_up_loads_the_urlconf_and_catalogues_then_freezes_what_lives(unfrozen, settings):
    clear_url_caches()
    trans_real._translations.clear()
    assert gc.get_freeze_count() == 0
    freeze_after_startup()
    # The URLconf was read and resolved before any request.
    assert get_resolver()._populated
    # Each language's catalogue was read.
    assert {code for code, _ in settings.LANGUAGES} <= set(trans_real._translations)
    # What was alive is frozen: a full collection walks only what is created after.
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    assert len(gc.get_objects(generation=2)) < frozen


def test_pages_are_served_after_start_up(unfrozen, client):
    freeze_after_startup()
    assert client.get(reverse("login")).status_code == 200
