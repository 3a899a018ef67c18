"""The periodic scan looks only at what the passing of time changed since the previous scan;
the daily job's full scan looks at everything."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses.authorities import calendar_day_save
from licenses.models import Authority, LicenseApplication
from monitoring import scan
from monitoring.models import ScanSettings

from ..helpers import SHANGHAI
from .builders import mofcom_application, open_kinds

pytestmark = pytest.mark.django_db

# Accepted by MOFCOM on Thursday 24 September 2026: due Thursday 3 December (the spec's
# example), overdue from midnight in Shanghai.
EVENING = dt.datetime(2026, 12, 3, 23, 50, tzinfo=SHANGHAI)
MIDNIGHT = dt.datetime(2026, 12, 4, 0, 5, tzinfo=SHANGHAI)


@pytest.fixture
def due_on_3_december(exporter):
    return mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")


def test_the_first_periodic_scan_runs_in_full_and_records_its_moment(due_on_3_december):
    result = scan.scan(now=EVENING, incremental=True)
    assert result.since is None
    assert set(result.kinds) == set(scan.KINDS)
    assert scan.scanned_through() == EVENING
    assert open_kinds(due_on_3_december) == {"due_soon"}


def test_the_periodic_scan_raises_what_became_overdue_since_the_previous_one(due_on_3_december):
    scan.scan(now=EVENING, incremental=True)
    result = scan.scan(now=MIDNIGHT, incremental=True)
    assert result.since == EVENING
    assert [s for _f, s, _e in result.kinds["overdue"].raised] == [due_on_3_december.pk]
    assert [s for _f, s, _e in result.kinds["due_soon"].cleared] == [due_on_3_december.pk]
    assert open_kinds(due_on_3_december) == {"overdue"}
    # `at_risk` compares dates that time does not move: nothing to look at.
    assert "at_risk" not in result.kinds
    assert scan.scanned_through() == MIDNIGHT


def test_a_second_periodic_scan_at_the_same_moment_changes_nothing(due_on_3_december):
    scan.scan(now=EVENING, incremental=True)
    scan.scan(now=MIDNIGHT, incremental=True)
    again = scan.scan(now=MIDNIGHT, incremental=True)
    assert again.raised == again.cleared == 0


def test_a_scan_dated_before_the_previous_one_runs_in_full(due_on_3_december):
    scan.scan(now=MIDNIGHT, incremental=True)
    earlier = scan.scan(now=EVENING, incremental=True)
    assert earlier.since is None
    assert scan.scanned_through() == MIDNIGHT  # the mark never moves back


def test_a_due_date_written_around_the_services_waits_for_the_full_scan(due_on_3_december):
    scan.scan(now=EVENING, incremental=True)
    # A bulk write that no service saw (and so nothing re-evaluated): long past due.
    LicenseApplication.objects.filter(pk=due_on_3_december.pk).update(
        due_at=dt.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    )
    assert scan.scan(now=MIDNIGHT, incremental=True).raised == 0
    full = scan.scan(now=MIDNIGHT)
    assert [s for _f, s, _e in full.kinds["overdue"].raised] == [due_on_3_december.pk]


def test_new_scan_settings_make_the_next_periodic_scan_run_in_full(due_on_3_december):
    scan.scan(now=EVENING, incremental=True)
    settings_row = ScanSettings.load()
    settings_row.due_soon_working_days = 10
    settings_row.save()
    assert scan.scanned_through() is None
    assert scan.scan(now=MIDNIGHT, incremental=True).since is None


def test_an_edited_calendar_makes_the_next_periodic_scan_run_in_full(due_on_3_december):
    scan.scan(now=EVENING, incremental=True)
    calendar_day_save(
        now=EVENING,
        actor=None,
        authority=Authority.objects.get(code="MOFCOM"),
        date=dt.date(2026, 12, 7),
        kind="holiday",
    )
    assert scan.scanned_through() is None
