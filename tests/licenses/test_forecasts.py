"""The Kaplan-Meier estimate (licenses.forecasts), against tables worked by hand.

No database: the module is pure. Each table below is worked out in its comment."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction as F

import pytest

from licenses.calendars import CALENDAR, WORKING, add_days, build_calendar
from licenses.forecasts import (
    Survival,
    choose_level,
    conditional_quantiles,
    elapsed,
    kaplan_meier,
    paused_windows,
)

D = dt.date
CN = build_calendar(country="CN", years=range(2025, 2029))


# Decisions at 1, 2, 2 and 3; censored at 2 (still at risk at t=2) and at 4.
#   t=1: n=6 (all), d=1 -> S = 5/6
#   t=2: n=5 (2, 2, 2c, 3, 4c), d=2 -> S = 5/6 * 3/5 = 1/2
#   t=3: n=2 (3, 4c), d=1 -> S = 1/2 * 1/2 = 1/4
TIES = [(1, True), (2, True), (2, True), (2, False), (3, True), (4, False)]


def test_the_estimator_counts_ties_and_censoring_at_an_event_time():
    curve = kaplan_meier(TIES)
    assert curve.times == (1, 2, 3)
    assert curve.survival == (F(5, 6), F(1, 2), F(1, 4))
    assert (curve.decided, curve.censored) == (4, 2)
    assert curve.at(0) == 1
    assert curve.at(1.5) == F(5, 6)
    assert curve.at(2) == F(1, 2)
    assert curve.at(10) == F(1, 4)


def test_a_survival_exactly_at_the_threshold_counts_as_reached():
    # One decision at 1 (n=10), eight at 2 (n=9), one censored at 3:
    #   S(1) = 9/10, S(2) = 9/10 * 1/9 = 1/10 exactly.
    # In floating point the product is 0.10000000000000005, and a float comparison would say
    # S never reaches a tenth; the estimate keeps exact fractions.
    assert (1 - 1 / 10) * (1 - 8 / 9) > 0.1
    curve = kaplan_meier([(1, True), *[(2, True)] * 8, (3, False)])
    assert curve.survival == (F(9, 10), F(1, 10))
    assert conditional_quantiles(curve, 0) == (2, 2)
    # The first table's S(2) is exactly one half too.
    assert conditional_quantiles(kaplan_meier(TIES), 0) == (2, None)  # never a tenth


def test_the_forecast_is_conditional_on_the_time_already_waited():
    curve = kaplan_meier(TIES)
    # e=1: S(e) = 5/6; half of it is 5/12: S(2) = 1/2 > 5/12, S(3) = 1/4 <= 5/12 -> 3.
    assert conditional_quantiles(curve, 1) == (3, None)
    # e=2: S(e) = 1/2; half is 1/4 = S(3) -> 3; a tenth, 1/20, is never reached.
    assert conditional_quantiles(curve, 2) == (3, None)
    # e=3: no event duration after it.
    assert conditional_quantiles(curve, 3) == (None, None)


def test_p90_on_a_curve_that_reaches_zero():
    # Ten decisions at 10, 20, ..., 100, nothing censored: S(10k) = 1 - k/10.
    curve = kaplan_meier([(10 * k, True) for k in range(1, 11)])
    assert curve.survival[-1] == 0
    assert conditional_quantiles(curve, 0) == (50, 90)
    # Having waited 50 (S = 1/2): half of it is 1/4 -> S(80) = 2/10 is the first <= 1/4;
    # a tenth, 1/20 -> only S(100) = 0.
    assert conditional_quantiles(curve, 50) == (80, 100)


def test_only_censored_history_gives_a_curve_without_events():
    curve = kaplan_meier([(5, False), (7, False)])
    assert curve == Survival((), (), 0, 2)
    assert conditional_quantiles(curve, 0) == (None, None)


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        kaplan_meier([(-1, True)])


@pytest.mark.parametrize(
    ("decided", "level"),
    [
        ({"destination": 20, "item": 30, "authority": 90}, "destination"),
        ({"destination": 19, "item": 20, "authority": 90}, "item"),
        ({"destination": 3, "item": 19, "authority": 20}, "authority"),
        ({"destination": 19, "item": 19, "authority": 19}, None),
        ({}, None),
    ],
)
def test_the_most_specific_history_with_twenty_decisions_is_used(decided, level):
    assert choose_level(decided) == level


def test_elapsed_counts_working_days_like_the_due_date():
    # Accepted by MOFCOM on Thursday 24 September 2026: due 45 working days later on
    # Thursday 3 December (Mid-Autumn and National Day skipped, Saturday 10 October counted).
    assert elapsed(calendar=CN, start=D(2026, 9, 24), end=D(2026, 12, 3), unit=WORKING) == 45
    # Today counts: accepted yesterday, one working day has elapsed by the end of today.
    assert elapsed(calendar=CN, start=D(2026, 12, 2), end=D(2026, 12, 3), unit=WORKING) == 1
    assert elapsed(calendar=CN, start=D(2026, 12, 3), end=D(2026, 12, 3), unit=WORKING) == 0


def test_elapsed_leaves_out_paused_days_and_agrees_with_add_days():
    pauses = [(D(2026, 10, 12), D(2026, 10, 23)), (D(2026, 11, 2), D(2026, 11, 4))]
    start = D(2026, 9, 24)
    due = add_days(calendar=CN, start=start, n=45, unit=WORKING, pauses=pauses)
    assert due is not None
    assert elapsed(calendar=CN, start=start, end=due, unit=WORKING, pauses=pauses) == 45
    # Calendar days: 30 days in (1 Jan, 31 Jan], less the 5 in (10 Jan, 15 Jan].
    assert (
        elapsed(
            calendar=CN,
            start=D(2027, 1, 1),
            end=D(2027, 1, 31),
            unit=CALENDAR,
            pauses=[(D(2027, 1, 10), D(2027, 1, 15))],
        )
        == 25
    )


def test_an_open_pause_stops_the_count_at_its_request():
    # Information requested on 10 January and not provided: nothing after it counts.
    args = {"calendar": CN, "start": D(2027, 1, 1), "unit": CALENDAR}
    pauses = [(D(2027, 1, 10), None)]
    assert elapsed(end=D(2027, 1, 31), pauses=pauses, **args) == 9
    assert elapsed(end=D(2027, 1, 5), pauses=pauses, **args) == 4


def test_paused_windows_merge_and_clip():
    start, end = D(2027, 1, 5), D(2027, 1, 31)
    pauses = [
        (D(2027, 1, 1), D(2027, 1, 7)),  # starts before day 0: clipped to (5, 7]
        (D(2027, 1, 6), D(2027, 1, 9)),  # overlaps: merged into (5, 9]
        (D(2027, 1, 20), None),  # open: to the end
        (D(2027, 2, 10), D(2027, 2, 12)),  # after the end: ignored
    ]
    assert paused_windows(start, end, pauses) == [
        (D(2027, 1, 5), D(2027, 1, 9)),
        (D(2027, 1, 20), D(2027, 1, 31)),
    ]


def test_counts_give_the_same_curve_as_one_row_per_application():
    from licenses.forecasts import kaplan_meier_counts

    grouped = [(1, True, 1), (2, True, 2), (2, False, 1), (3, True, 1), (4, False, 1)]
    assert kaplan_meier_counts(grouped) == kaplan_meier(TIES)


def test_the_unconditional_median_and_90th_percentile():
    from licenses.forecasts import quantile

    curve = kaplan_meier([(10 * k, True) for k in range(1, 11)])
    assert quantile(curve, F(1, 2)) == 50
    assert quantile(curve, F(9, 10)) == 90
    # S(2) is exactly 1/2 in the first table; 9 in 10 is never reached.
    assert quantile(kaplan_meier(TIES), F(1, 2)) == 2
    assert quantile(kaplan_meier(TIES), F(9, 10)) is None
    # A decision on day 0 itself counts.
    assert quantile(kaplan_meier([(0, True), (0, True), (5, True)]), F(1, 2)) == 0
