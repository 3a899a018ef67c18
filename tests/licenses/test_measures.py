"""When a measure applies: its status on a day and its applying periods, worked by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from licenses.measures import applies_on, periods, status_on, today, transitions
from licenses.models import Authority, Measure, MeasureSuspension


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def measure(start: str, until: str | None = None) -> Measure:
    return Measure(effective_from=d(start), effective_until=d(until) if until else None)


def suspension(start: str, until: str | None = None) -> MeasureSuspension:
    return MeasureSuspension(starts_on=d(start), ends_on=d(until) if until else None)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-11-07", "scheduled"),
        ("2025-11-08", "in_force"),
        ("2025-11-09", "in_force"),
        ("2025-11-10", "suspended"),
        ("2026-11-10", "suspended"),
        ("2026-11-11", "in_force"),
        ("2027-12-31", "in_force"),
        ("2028-01-01", "ended"),
    ],
)
def test_status_on_each_side_of_every_edge(day, expected):
    m = measure("2025-11-08", "2027-12-31")
    assert status_on(m, [suspension("2025-11-10", "2026-11-10")], d(day)) == expected
    assert applies_on(m, [suspension("2025-11-10", "2026-11-10")], d(day)) == (
        expected == "in_force"
    )


def test_a_suspension_before_it_starts_leaves_it_scheduled_then_suspended():
    # No. 58 of 2025: effective 8 Nov, suspended from 7 Nov to 10 Nov 2026.
    m = measure("2025-11-08")
    s = [suspension("2025-11-07", "2026-11-10")]
    assert status_on(m, s, d("2025-11-07")) == "scheduled"
    assert status_on(m, s, d("2025-11-08")) == "suspended"
    assert status_on(m, s, d("2026-11-11")) == "in_force"
    assert periods(m, s) == [(d("2026-11-11"), None)]


def test_an_open_measure_without_suspensions_applies_for_ever():
    assert periods(measure("2025-04-04"), []) == [(d("2025-04-04"), None)]


def test_a_closed_measure_applies_over_its_period():
    assert periods(measure("2023-08-01", "2024-11-30"), []) == [(d("2023-08-01"), d("2024-11-30"))]


def test_a_suspension_inside_splits_the_period_in_two():
    m = measure("2024-12-03")
    assert periods(m, [suspension("2025-11-09", "2026-11-27")]) == [
        (d("2024-12-03"), d("2025-11-08")),
        (d("2026-11-28"), None),
    ]


def test_suspensions_on_the_first_and_the_last_day_cut_one_day_each():
    m = measure("2025-01-01", "2025-01-10")
    s = [suspension("2025-01-10", "2025-01-10"), suspension("2025-01-01", "2025-01-01")]
    assert periods(m, s) == [(d("2025-01-02"), d("2025-01-09"))]


def test_an_open_ended_suspension_ends_every_period():
    m = measure("2025-01-01")
    assert periods(m, [suspension("2025-03-01")]) == [(d("2025-01-01"), d("2025-02-28"))]
    assert status_on(m, [suspension("2025-03-01")], d("2099-01-01")) == "suspended"


def test_a_suspension_covering_the_whole_period_leaves_nothing():
    m = measure("2025-01-01", "2025-12-31")
    assert periods(m, [suspension("2024-06-01", "2026-01-01")]) == []


def test_suspensions_outside_the_period_change_nothing():
    m = measure("2025-01-01", "2025-12-31")
    s = [suspension("2024-01-01", "2024-12-31"), suspension("2026-01-01", "2026-02-01")]
    assert periods(m, s) == [(d("2025-01-01"), d("2025-12-31"))]


def test_back_to_back_and_overlapping_suspensions_merge():
    m = measure("2025-01-01")
    s = [
        suspension("2025-02-01", "2025-02-10"),
        suspension("2025-02-11", "2025-02-20"),
        suspension("2025-02-15", "2025-03-01"),
        suspension("2025-04-01", "2025-04-01"),
    ]
    assert periods(m, s) == [
        (d("2025-01-01"), d("2025-01-31")),
        (d("2025-03-02"), d("2025-03-31")),
        (d("2025-04-02"), None),
    ]


def test_transitions_lists_the_days_its_status_changes():
    m = measure("2025-11-08")
    s = [suspension("2025-11-07", "2026-11-10")]
    assert transitions(m, s, d("2025-11-01"), d("2025-12-31")) == [(d("2025-11-08"), "suspended")]
    assert transitions(m, s, d("2026-11-01"), d("2026-12-01")) == [(d("2026-11-11"), "in_force")]
    assert transitions(
        measure("2025-01-01", "2025-01-31"), [], d("2025-01-01"), d("2025-02-28")
    ) == [
        (d("2025-01-01"), "in_force"),
        (d("2025-02-01"), "ended"),
    ]


def test_today_is_the_authoritys_date():
    mofcom = Authority(time_zone="Asia/Shanghai")
    late_evening_utc = dt.datetime(2025, 11, 7, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert today(mofcom, late_evening_utc) == d("2025-11-08")
