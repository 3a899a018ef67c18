"""Tests for licenses.calendars: real calendars from `holidays`, checked against day-by-day oracles.

No database and no Django: the module under test is pure Python.  The oracles below walk one
day at a time on purpose (they are the slow, obviously-correct reference); the code under test
must not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licenses.calendars import (
    CALENDAR,
    WORKING,
    WorkCalendar,
    add_days,
    build_calendar,
    count_days,
    subtract_days,
)

D = dt.date
ONE = dt.timedelta(days=1)
# Rank lookups an addition may take: a galloping search and bisection over the holidays of
# the range, whatever the number of days (thousands if it went day by day).
RANK_LOOKUP_LIMIT = 64
YEARS = range(2023, 2032)

Predicate = Callable[[dt.date], bool]
Pause = tuple[dt.date, dt.date | None]


# -- brute-force oracle --------------------------------------------------------------------


def library_predicate(country: str, subdiv: str | None = None, years: range = YEARS) -> Predicate:
    """The `holidays` library's own answer (expand=False: no holidays outside `years`)."""
    return holidays.country_holidays(
        country, subdiv=subdiv, years=years, expand=False
    ).is_working_day


def with_extras(base: Predicate, extra_off: set[dt.date], extra_on: set[dt.date]) -> Predicate:
    def predicate(day: dt.date) -> bool:
        if day in extra_on:
            return True
        if day in extra_off:
            return False
        return base(day)

    return predicate


def oracle_between(is_working: Predicate, start: dt.date, end: dt.date) -> int:
    count, day = 0, start
    while day < end:
        day += ONE
        count += is_working(day)
    return count


def oracle_count(is_working: Predicate, start: dt.date, end: dt.date, unit: str) -> int:
    counted = is_working if unit == WORKING else (lambda _day: True)
    if end < start:
        return -oracle_between(counted, end, start)
    return oracle_between(counted, start, end)


def oracle_add(
    is_working: Predicate,
    start: dt.date,
    n: int,
    unit: str = WORKING,
    pauses: Sequence[Pause] = (),
) -> dt.date | None:
    if n == 0:
        return start
    count, day = 0, start
    while True:
        day += ONE
        paused = [p for p in pauses if p[0] < day and (p[1] is None or day <= p[1])]
        if paused:
            if any(p[1] is None for p in paused):
                return None
            continue
        if unit == CALENDAR or is_working(day):
            count += 1
            if count == n:
                return day


def check_subtract(cal: WorkCalendar, is_working: Predicate, end: dt.date, n: int) -> None:
    """subtract_days against its definition, using the oracle only."""
    s = subtract_days(calendar=cal, end=end, n=n, unit=WORKING)
    if n == 0:
        assert s == end
        return
    assert is_working(s)
    assert oracle_between(is_working, s, end) == n
    reached = oracle_add(is_working, s, n)
    assert reached is not None and reached <= end
    if is_working(end):
        assert reached == end
    later = s + ONE
    while not is_working(later):
        later += ONE
    after = oracle_add(is_working, later, n)
    assert after is not None and after > end  # s is the maximal such working day
    assert subtract_days(calendar=cal, end=end, n=n, unit=CALENDAR) == end - dt.timedelta(n)


# -- calendars -----------------------------------------------------------------------------

CN = build_calendar(country="CN", years=YEARS)
US = build_calendar(country="US", years=YEARS)
GB = build_calendar(country="GB", subdiv="ENG", years=YEARS)
IL = build_calendar(country="IL", years=YEARS)  # Friday-Saturday weekend

REAL: dict[str, tuple[WorkCalendar, Predicate]] = {
    "CN": (CN, library_predicate("CN")),
    "US": (US, library_predicate("US")),
    "GB-ENG": (GB, library_predicate("GB", "ENG")),
    "IL": (IL, library_predicate("IL")),
}


def test_library_facts_this_module_relies_on() -> None:
    assert CN.weekend == frozenset({5, 6})
    assert IL.weekend == frozenset({4, 5})
    assert D(2026, 10, 10) in CN.workdays
    assert D(2026, 2, 14) in CN.workdays and D(2026, 2, 28) in CN.workdays
    assert US.workdays == () and GB.workdays == ()


@pytest.mark.parametrize("name", sorted(REAL))
def test_calendar_agrees_with_library_every_day(name: str) -> None:
    cal, is_working = REAL[name]
    assert list(cal.holidays) == sorted(set(cal.holidays))
    assert list(cal.workdays) == sorted(set(cal.workdays))
    assert all(d.weekday() not in cal.weekend for d in cal.holidays)
    assert all(d.weekday() in cal.weekend for d in cal.workdays)
    assert all(d.year in YEARS for d in cal.holidays + cal.workdays)
    day = D(YEARS.start, 1, 1)
    while day.year < YEARS.stop:
        assert cal.is_working_day(day) == is_working(day), day
        day += ONE


# -- the spec examples ---------------------------------------------------------------------


def test_mofcom_45_working_days_over_national_day() -> None:
    start = D(2026, 9, 24)
    assert start.weekday() == 3  # Thursday
    due = add_days(calendar=CN, start=start, n=45, unit=WORKING)
    assert due == D(2026, 12, 3)
    assert due.weekday() == 3
    assert CN.is_working_day(D(2026, 10, 10))  # Saturday make-up workday
    assert not CN.is_working_day(D(2026, 10, 1))  # National Day
    assert not CN.is_working_day(D(2026, 9, 25))  # Mid-Autumn
    assert due == oracle_add(REAL["CN"][1], start, 45)
    assert count_days(calendar=CN, start=start, end=due, unit=WORKING) == 45
    assert subtract_days(calendar=CN, end=due, n=45, unit=WORKING) == start


def test_cn_spring_festival_2026() -> None:
    is_working = REAL["CN"][1]
    for day in (D(2026, 2, 14), D(2026, 2, 28)):
        assert day.weekday() == 5 and CN.is_working_day(day)
    for day in (D(2026, 2, 16), D(2026, 2, 20), D(2026, 2, 22), D(2026, 2, 23)):
        assert not CN.is_working_day(day)
    # By hand: Feb 11, 12, 13, Sat 14, 24, 25, 26, 27, Sat 28, Mon Mar 2.
    assert CN.add_working_days(D(2026, 2, 10), 10) == D(2026, 3, 2)
    for start in (D(2026, 2, 1), D(2026, 2, 10), D(2026, 2, 14), D(2026, 2, 19)):
        for n in (1, 5, 10, 30):
            assert CN.add_working_days(start, n) == oracle_add(is_working, start, n)
        for end in (D(2026, 2, 14), D(2026, 2, 23), D(2026, 2, 28), D(2026, 3, 31)):
            assert CN.working_days_between(start, end) == oracle_between(is_working, start, end)
    assert CN.working_days_between(D(2026, 2, 1), D(2026, 3, 31)) == oracle_between(
        is_working, D(2026, 2, 1), D(2026, 3, 31)
    )


def test_us_90_calendar_days() -> None:
    due = add_days(calendar=US, start=D(2026, 1, 15), n=90, unit=CALENDAR)
    assert due == D(2026, 4, 15)
    assert count_days(calendar=US, start=D(2026, 1, 15), end=due, unit=CALENDAR) == 90
    assert subtract_days(calendar=US, end=due, n=90, unit=CALENDAR) == D(2026, 1, 15)


def test_gb_eng_20_working_days_over_bank_holidays() -> None:
    start = D(2026, 4, 28)
    assert not GB.is_working_day(D(2026, 5, 4))  # Early May bank holiday
    assert not GB.is_working_day(D(2026, 5, 25))  # Spring bank holiday
    # By hand: Apr 29, 30, May 1, 5-8, 11-15, 18-22, 26, 27, 28 -> 20 working days.
    due = add_days(calendar=GB, start=start, n=20, unit=WORKING)
    assert due == D(2026, 5, 28)
    assert due == oracle_add(REAL["GB-ENG"][1], start, 20)
    plain = WorkCalendar(weekend=frozenset({5, 6}))
    assert plain.add_working_days(start, 20) == D(2026, 5, 26)
    assert subtract_days(calendar=GB, end=due, n=20, unit=WORKING) == start


# -- pauses (requests for information) -----------------------------------------------------


def test_seven_day_information_request_moves_due_date_by_its_working_days() -> None:
    start, n = D(2026, 6, 1), 20
    plain = add_days(calendar=GB, start=start, n=n, unit=WORKING)
    assert plain == D(2026, 6, 29)
    pause = (D(2026, 6, 3), D(2026, 6, 10))  # 7 calendar days: skips Thu 4 .. Wed 10
    assert (pause[1] - pause[0]).days == 7
    lost = GB.working_days_between(*pause)
    assert lost == 5
    paused = add_days(calendar=GB, start=start, n=n, unit=WORKING, pauses=[pause])
    assert paused == GB.add_working_days(plain, lost) == D(2026, 7, 6)
    assert paused == oracle_add(REAL["GB-ENG"][1], start, n, pauses=[pause])
    # In calendar days the due date moves by exactly the 7 paused days.
    cal_plain = add_days(calendar=GB, start=start, n=n, unit=CALENDAR)
    cal_paused = add_days(calendar=GB, start=start, n=n, unit=CALENDAR, pauses=[pause])
    assert cal_plain is not None and cal_paused == cal_plain + dt.timedelta(7)


def test_open_pause_stops_the_clock() -> None:
    start = D(2026, 6, 1)
    plain = add_days(calendar=GB, start=start, n=20, unit=WORKING)
    assert plain == D(2026, 6, 29)

    def due(pauses: Sequence[Pause]) -> dt.date | None:
        return add_days(calendar=GB, start=start, n=20, unit=WORKING, pauses=pauses)

    assert due([(D(2026, 6, 3), None)]) is None
    assert due([(D(2026, 5, 1), None)]) is None  # opened before start: never runs
    assert due([(D(2026, 6, 29), None)]) == plain  # count finished on the request day
    assert due([(D(2026, 6, 30), None)]) == plain
    assert due([(D(2026, 6, 3), D(2026, 6, 10)), (D(2026, 7, 1), None)]) is None
    assert due([(D(2026, 6, 3), D(2026, 6, 10)), (D(2026, 7, 6), None)]) == D(2026, 7, 6)
    assert add_days(calendar=GB, start=start, n=0, unit=WORKING, pauses=[(start, None)]) == start


def test_pauses_before_start_overlapping_and_unsorted() -> None:
    start, n = D(2026, 6, 1), 20
    is_working = REAL["GB-ENG"][1]

    def due(pauses: Sequence[Pause]) -> dt.date | None:
        return add_days(calendar=GB, start=start, n=n, unit=WORKING, pauses=pauses)

    plain = due([])
    assert plain is not None
    assert due([(D(2026, 5, 1), D(2026, 5, 20))]) == plain  # entirely before start
    assert due([(D(2026, 5, 1), start)]) == plain  # provided on day 0
    # Partly before start: only Jun 2..5 (4 working days) is skipped.
    assert due([(D(2026, 5, 25), D(2026, 6, 5))]) == GB.add_working_days(plain, 4)
    overlapping = [(D(2026, 6, 8), D(2026, 6, 12)), (D(2026, 6, 3), D(2026, 6, 10))]
    union = [(D(2026, 6, 3), D(2026, 6, 12))]  # Jun 4..12: 7 working days
    assert due(overlapping) == due(union) == GB.add_working_days(plain, 7)
    assert due(overlapping) == oracle_add(is_working, start, n, pauses=overlapping)
    nested = [(D(2026, 6, 3), D(2026, 6, 20)), (D(2026, 6, 5), D(2026, 6, 8))]
    assert due(nested) == oracle_add(is_working, start, n, pauses=nested)
    assert due([(D(2026, 6, 3), D(2026, 6, 3))]) == plain  # answered the same day
    with pytest.raises(ValueError, match="before it was requested"):
        due([(D(2026, 6, 10), D(2026, 6, 3))])


# -- administrator additions ---------------------------------------------------------------


def test_admin_added_holiday_and_workday() -> None:
    start = D(2026, 4, 28)
    extra_holiday = build_calendar(
        country="GB", subdiv="ENG", years=YEARS, extra_holidays=[D(2026, 5, 6)]
    )
    assert not extra_holiday.is_working_day(D(2026, 5, 6))
    assert extra_holiday.add_working_days(start, 20) == D(2026, 5, 29)

    on_bank_holiday = build_calendar(
        country="GB", subdiv="ENG", years=YEARS, extra_workdays=[D(2026, 5, 4)]
    )
    assert on_bank_holiday.is_working_day(D(2026, 5, 4))
    assert D(2026, 5, 4) not in on_bank_holiday.holidays
    assert on_bank_holiday.add_working_days(start, 20) == D(2026, 5, 27)

    saturday = build_calendar(country="US", years=YEARS, extra_workdays=[D(2026, 7, 11)])
    assert saturday.is_working_day(D(2026, 7, 11))
    assert saturday.working_days_between(D(2026, 7, 10), D(2026, 7, 13)) == 2
    assert US.working_days_between(D(2026, 7, 10), D(2026, 7, 13)) == 1

    # An added holiday beats a library make-up workday.
    no_makeup = build_calendar(country="CN", years=YEARS, extra_holidays=[D(2026, 10, 10)])
    assert not no_makeup.is_working_day(D(2026, 10, 10))
    assert no_makeup.add_working_days(D(2026, 9, 24), 45) == D(2026, 12, 4)

    # Additions outside `years` still apply; the library's holidays do not.
    far = D(2040, 10, 1)
    assert CN.is_working_day(far)
    assert not build_calendar(country="CN", years=YEARS, extra_holidays=[far]).is_working_day(far)

    with pytest.raises(ValueError, match="both"):
        build_calendar(
            country="US",
            years=YEARS,
            extra_holidays=[D(2026, 1, 5)],
            extra_workdays=[D(2026, 1, 5)],
        )


def test_fri_sat_weekend_calendar() -> None:
    is_working = REAL["IL"][1]
    assert not IL.is_working_day(D(2026, 6, 5))  # Friday
    assert not IL.is_working_day(D(2026, 6, 6))  # Saturday
    assert IL.is_working_day(D(2026, 6, 7))  # Sunday
    assert IL.add_working_days(D(2026, 6, 4), 1) == D(2026, 6, 7)
    start = D(2026, 9, 1)  # across Rosh Hashanah, Yom Kippur, Sukkot
    for n in (1, 10, 25, 60):
        assert IL.add_working_days(start, n) == oracle_add(is_working, start, n)
    synthetic = WorkCalendar(weekend=frozenset({4, 5}), holidays=(D(2026, 6, 7),))
    assert synthetic.add_working_days(D(2026, 6, 4), 1) == D(2026, 6, 8)


def test_normalisation_and_validation() -> None:
    cal = WorkCalendar(
        weekend={5, 6},  # type: ignore[arg-type]
        holidays=(D(2026, 1, 2), D(2026, 1, 1), D(2026, 1, 1), D(2026, 1, 3)),  # Sat dropped
        workdays=(D(2026, 1, 10), D(2026, 1, 9)),  # Fri dropped
    )
    assert cal.weekend == frozenset({5, 6})
    assert cal.holidays == (D(2026, 1, 1), D(2026, 1, 2))
    assert cal.workdays == (D(2026, 1, 10),)
    with pytest.raises(ValueError):
        WorkCalendar(weekend=frozenset(range(7)))
    with pytest.raises(ValueError):
        WorkCalendar(weekend=frozenset({7}))
    with pytest.raises(TypeError):
        WorkCalendar(weekend=frozenset(), holidays=(dt.datetime(2026, 1, 1),))
    with pytest.raises(ValueError):
        add_days(calendar=cal, start=D(2026, 1, 1), n=1, unit="fortnights")
    with pytest.raises(ValueError):
        add_days(calendar=cal, start=D(2026, 1, 1), n=-1, unit=WORKING)
    with pytest.raises(ValueError):
        subtract_days(calendar=cal, end=D(2026, 1, 1), n=-1, unit=WORKING)
    with pytest.raises(OverflowError):
        cal.add_working_days(dt.date.max - dt.timedelta(3), 10)


def test_count_days_is_signed() -> None:
    a, b = D(2026, 9, 24), D(2026, 12, 3)
    assert count_days(calendar=CN, start=a, end=b, unit=WORKING) == 45
    assert count_days(calendar=CN, start=b, end=a, unit=WORKING) == -45
    assert count_days(calendar=CN, start=a, end=a, unit=WORKING) == 0
    assert count_days(calendar=CN, start=b, end=a, unit=CALENDAR) == -(b - a).days
    assert CN.working_days_between(b, a) == 0


def test_subtract_from_non_working_day() -> None:
    # Sunday 2026-05-31 (GB): the last working day before it is Friday 29 May.
    end = D(2026, 5, 31)
    s = subtract_days(calendar=GB, end=end, n=1, unit=WORKING)
    assert s == D(2026, 5, 28)
    assert GB.add_working_days(s, 1) == D(2026, 5, 29) <= end
    assert subtract_days(calendar=GB, end=D(2026, 5, 29), n=1, unit=WORKING) == D(2026, 5, 28)
    assert subtract_days(calendar=GB, end=D(2026, 5, 26), n=1, unit=WORKING) == D(2026, 5, 22)
    # National Day week in CN, counted back from the holiday itself.
    check_subtract(CN, REAL["CN"][1], D(2026, 10, 4), 3)
    assert subtract_days(calendar=CN, end=D(2026, 10, 4), n=3, unit=WORKING) == D(2026, 9, 24)


# -- property test against the oracle ------------------------------------------------------

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2028, 12, 31))
pause_lists = st.lists(
    st.tuples(
        st.integers(min_value=-40, max_value=300),
        st.one_of(st.none(), st.integers(min_value=0, max_value=25)),
    ),
    max_size=4,
)


def make_pauses(start: dt.date, raw: list[tuple[int, int | None]]) -> list[Pause]:
    out: list[Pause] = []
    for offset, length in raw:
        requested = start + dt.timedelta(offset)
        out.append((requested, None if length is None else requested + dt.timedelta(length)))
    return out


def check_everything(
    cal: WorkCalendar,
    is_working: Predicate,
    start: dt.date,
    n: int,
    span: int,
    raw_pauses: list[tuple[int, int | None]],
) -> None:
    end = start + dt.timedelta(span)
    assert cal.is_working_day(start) == is_working(start)
    assert cal.working_days_between(start, end) == oracle_between(is_working, start, end)
    for unit in (WORKING, CALENDAR):
        assert count_days(calendar=cal, start=start, end=end, unit=unit) == oracle_count(
            is_working, start, end, unit
        )
    assert cal.add_working_days(start, n) == oracle_add(is_working, start, n)
    pauses = make_pauses(start, raw_pauses)
    for unit in (WORKING, CALENDAR):
        expected = oracle_add(is_working, start, n, unit, pauses)
        assert add_days(calendar=cal, start=start, n=n, unit=unit, pauses=pauses) == expected
    check_subtract(cal, is_working, start, n)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(REAL)),
    start=dates,
    n=st.integers(min_value=0, max_value=200),
    span=st.integers(min_value=-60, max_value=400),
    raw_pauses=pause_lists,
)
def test_property_real_calendars(
    name: str, start: dt.date, n: int, span: int, raw_pauses: list[tuple[int, int | None]]
) -> None:
    cal, is_working = REAL[name]
    check_everything(cal, is_working, start, n, span, raw_pauses)


@st.composite
def synthetic_calendars(draw: st.DrawFn) -> tuple[WorkCalendar, Predicate]:
    weekend = draw(st.frozensets(st.integers(min_value=0, max_value=6), max_size=6))
    some_dates = st.lists(st.dates(min_value=D(2023, 6, 1), max_value=D(2031, 12, 31)), max_size=60)
    off, on = draw(some_dates), draw(some_dates)
    cal = WorkCalendar(weekend=weekend, holidays=tuple(off), workdays=tuple(on))
    off_set, on_set = set(off), set(on)

    def is_working(day: dt.date) -> bool:
        return day in on_set if day.weekday() in weekend else day not in off_set

    return cal, is_working


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calendar=synthetic_calendars(),
    start=dates,
    n=st.integers(min_value=0, max_value=200),
    span=st.integers(min_value=-60, max_value=400),
    raw_pauses=pause_lists,
)
def test_property_synthetic_calendars(
    calendar: tuple[WorkCalendar, Predicate],
    start: dt.date,
    n: int,
    span: int,
    raw_pauses: list[tuple[int, int | None]],
) -> None:
    cal, is_working = calendar
    check_everything(cal, is_working, start, n, span, raw_pauses)


# -- performance guard: arithmetic, not day-by-day (counted, not timed) ---------------------


@pytest.fixture
def rank_lookups(monkeypatch) -> list[int]:
    """Every rank the calendar computes (a day-by-day count would compute one per day, or
    none at all)."""
    seen: list[int] = []
    real = WorkCalendar._rank

    def counting(self: WorkCalendar, x: int) -> int:
        seen.append(x)
        return real(self, x)

    monkeypatch.setattr(WorkCalendar, "_rank", counting)
    return seen


def test_adding_5000_working_days_takes_a_few_rank_lookups_not_one_per_day(
    rank_lookups: list[int],
) -> None:
    years = range(2025, 2050)
    cal = build_calendar(country="CN", years=years)
    start = D(2026, 9, 24)
    due = cal.add_working_days(start, 5000)
    assert 1 <= len(rank_lookups) <= RANK_LOOKUP_LIMIT, len(rank_lookups)
    assert due == oracle_add(library_predicate("CN", years=years), start, 5000)
    assert cal.working_days_between(start, due) == 5000

    rank_lookups.clear()
    plain = WorkCalendar(weekend=frozenset({5, 6}))
    friday = D(2026, 1, 2)
    far = plain.add_working_days(friday, 1_000_000)  # 200,000 whole weeks
    assert 1 <= len(rank_lookups) <= RANK_LOOKUP_LIMIT, len(rank_lookups)
    assert far == friday + dt.timedelta(weeks=200_000)
