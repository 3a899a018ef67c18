"""The clock's part in fast-tracking: days of change across daylight saving, and unsaved
decisions taken into account without a write."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses.clock import end_of_day, recompute
from licenses.events import change_in_days
from licenses.fasttrack import make_scope
from licenses.models import FastTrackDecision

from ...factories import authority
from ...helpers import NEW_YORK, NOW
from .builders import D, pending

pytestmark = pytest.mark.django_db


def test_the_change_in_days_counts_whole_days_across_a_daylight_saving_change():
    old = end_of_day(D("2026-03-01"), NEW_YORK).astimezone(dt.UTC)  # as read from the database
    new = end_of_day(D("2026-04-01"), NEW_YORK)  # 31 days later, one hour shorter
    assert change_in_days(old, new) == 31
    assert change_in_days(new, old) == -31


def test_recompute_counts_an_unsaved_decision_as_the_most_recently_logged():
    app = pending()
    unsaved = FastTrackDecision(
        authority=authority(),
        announced_on=D("2026-11-29"),
        window_days=20,
        effective_from=D("2026-11-01"),
    )
    [result] = recompute([app], now=NOW, extra_decisions=[(unsaved, make_scope())])
    assert result.window.days == 20 and result.old_window == 45
    assert FastTrackDecision.objects.count() == 0


def test_an_unsaved_decision_not_in_force_changes_nothing():
    app = pending()
    later = FastTrackDecision(
        authority=authority(),
        announced_on=D("2026-11-29"),
        window_days=20,
        effective_from=D("2026-12-01"),
    )
    [result] = recompute([app], now=NOW, extra_decisions=[(later, make_scope())])
    assert result.window.days == 45 and not result.changed
