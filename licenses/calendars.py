"""Working-day arithmetic for review deadlines: pure Python, no Django.

A :class:`WorkCalendar` is three facts: the weekday numbers that are normally off (the
weekend), the public holidays that fall on a normal weekday, and the make-up workdays that
fall on a weekend day.  A day is a working day when it is a normal weekday and not a
holiday, or a weekend day that is a make-up workday.

Nothing here walks over a range one day at a time.  Everything is built on one function,
the *rank* of a date, computed in O(log h) (h = number of holidays + workdays)::

    rank(x) = number of working days d with ordinal(d) <= ordinal(x)
            = x - weekend_days_up_to(x) - holidays_up_to(x) + workdays_up_to(x)

where ``x`` is the proleptic Gregorian ordinal (``date.toordinal()``; ordinal 1 is Monday
0001-01-01, so the weekday of ordinal ``x`` is ``(x - 1) % 7``).

* ``weekend_days_up_to(x)`` is whole-week arithmetic: with ``q, r = divmod(x, 7)`` there are
  ``q * len(weekend)`` weekend days in the ``q`` whole weeks, plus the weekend days among
  weekdays ``0 .. r - 1`` of the partial week (a 7-entry prefix table), so O(1).
* ``holidays_up_to`` and ``workdays_up_to`` are ``bisect_right`` on the sorted ordinals.

The rank is defined for every integer (also beyond the calendar's years, where there are
simply no holidays), never decreases, and grows by exactly 1 on each working day, so:

* working days in ``(a, b]`` = ``rank(b) - rank(a)``;
* the n-th working day after ``a`` = the smallest ``x`` with ``rank(x) >= rank(a) + n``,
  found by estimating ``x`` with pure week arithmetic (the inverse of the holiday-free
  rank), galloping away from the estimate until the target is bracketed (O(log error)
  probes, the error being about 7/5 days per holiday in range), then bisecting the bracket.

Information-request pauses are handled by walking the (few) merged pause intervals, counting
the working days in each gap between pauses with the rank function.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import holidays as holidays_lib

__all__ = [
    "CALENDAR",
    "DEFAULT_WEEKEND",
    "WORKING",
    "WorkCalendar",
    "add_days",
    "build_calendar",
    "count_days",
    "subtract_days",
]

WORKING = "working"
CALENDAR = "calendar"
UNITS = frozenset({WORKING, CALENDAR})

DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})
"""Saturday and Sunday (``date.weekday()`` numbers)."""

_MAX_ORDINAL = dt.date.max.toordinal()


def _to_ordinal(day: int) -> dt.date:
    """``date.fromordinal`` that raises ``OverflowError`` like ``date + timedelta`` does."""
    if not 1 <= day <= _MAX_ORDINAL:
        raise OverflowError("date value out of range")
    return dt.date.fromordinal(day)


def _check_date(value: object, what: str) -> dt.date:
    """Accept a plain ``date`` only (a ``datetime`` would compare badly with dates)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime.date, got {value!r}")
    return value


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, answered with arithmetic instead of day-by-day loops.

    On construction the fields are normalised: ``weekend`` becomes a ``frozenset``,
    ``holidays`` and ``workdays`` become sorted tuples without duplicates, and redundant
    entries are dropped (a holiday on a weekend day is off anyway; a make-up workday on a
    normal weekday is on anyway).  After that the two tuples are disjoint, which is what the
    rank arithmetic (see the module docstring) relies on.  At least one weekday must be a
    normal working day, otherwise "the n-th working day" need not exist.
    """

    weekend: frozenset[int]
    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()

    _holiday_ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _workday_ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # _weekend_prefix[r]: weekend weekdays among weekdays 0 .. r - 1 (r in 0..7).
    _weekend_prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # The normal working weekdays, ascending.
    _open_weekdays: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekend = frozenset(self.weekend)
        if not all(isinstance(w, int) and 0 <= w <= 6 for w in weekend):
            raise ValueError(f"weekend must hold weekday() numbers 0..6, got {self.weekend!r}")
        if len(weekend) == 7:
            raise ValueError("weekend cannot cover all seven weekdays")
        off = {_check_date(d, "holiday") for d in self.holidays}
        on = {_check_date(d, "workday") for d in self.workdays}
        holidays = tuple(sorted(d for d in off if d.weekday() not in weekend))
        workdays = tuple(sorted(d for d in on if d.weekday() in weekend))
        prefix = [0]
        for weekday in range(7):
            prefix.append(prefix[-1] + (weekday in weekend))
        object.__setattr__(self, "weekend", weekend)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "_holiday_ordinals", tuple(d.toordinal() for d in holidays))
        object.__setattr__(self, "_workday_ordinals", tuple(d.toordinal() for d in workdays))
        object.__setattr__(self, "_weekend_prefix", tuple(prefix))
        object.__setattr__(self, "_open_weekdays", tuple(w for w in range(7) if w not in weekend))

    # -- rank arithmetic on ordinals (valid for any integer, see module docstring) ----------

    def _base_rank(self, x: int) -> int:
        """Normal weekdays (ignoring holidays and workdays) with ordinal in ``[1, x]``: O(1)."""
        weeks, rest = divmod(x, 7)
        return x - weeks * len(self.weekend) - self._weekend_prefix[rest]

    def _base_inverse(self, target: int) -> int:
        """Smallest ordinal ``x`` with ``_base_rank(x) >= target``: O(1).

        Week ``m`` (ordinals ``7m + 1 .. 7m + 7``, weekdays 0..6) holds
        ``k = 7 - len(weekend)`` normal weekdays and ``_base_rank(7m) == k * m``, so the
        ``target``-th one is the ``(r + 1)``-th open weekday of week ``m`` where
        ``m, r = divmod(target - 1, k)``.
        """
        weeks, index = divmod(target - 1, len(self._open_weekdays))
        return 7 * weeks + 1 + self._open_weekdays[index]

    def _rank(self, x: int) -> int:
        """Working days with ordinal ``<= x``: O(1) + two bisections."""
        return (
            self._base_rank(x)
            - bisect_right(self._holiday_ordinals, x)
            + bisect_right(self._workday_ordinals, x)
        )

    def _first_at_rank(self, target: int, anchor: int) -> int:
        """Smallest ordinal ``x`` with ``_rank(x) >= target`` (always a working day).

        1. Estimate: from ``anchor``, move ``target - rank(anchor)`` normal weekdays with
           :meth:`_base_inverse` (exact when no holiday or workday lies in between).
        2. Gallop from the estimate in steps 1, 2, 4, ... until ``lo < answer <= hi``,
           i.e. ``rank(lo) < target <= rank(hi)``.
        3. Bisect ``(lo, hi]``.

        Each probe costs O(log h); the number of probes is O(log e) where ``e`` is the
        estimate's error in days (bounded by about 7/5 days per holiday or workday between
        ``anchor`` and the answer).
        """
        rank = self._rank
        guess = self._base_inverse(self._base_rank(anchor) + target - rank(anchor))
        step = 1
        if rank(guess) >= target:
            hi, lo = guess, guess - 1
            while rank(lo) >= target:
                hi, step = lo, step * 2
                lo = hi - step
        else:
            lo, hi = guess, guess + 1
            while rank(hi) < target:
                lo, step = hi, step * 2
                hi = lo + step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if rank(mid) >= target:
                hi = mid
            else:
                lo = mid
        return hi

    # -- public API ------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Weekend day: working iff a make-up workday; weekday: working iff not a holiday."""
        x = day.toordinal()
        if day.weekday() in self.weekend:
            i = bisect_right(self._workday_ordinals, x)
            return i > 0 and self._workday_ordinals[i - 1] == x
        i = bisect_right(self._holiday_ordinals, x)
        return not (i > 0 and self._holiday_ordinals[i - 1] == x)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Number of working days d with start < d <= end (0 if end <= start).

        ``rank(end) - rank(start)``: O(1) week arithmetic plus four bisections.
        """
        if end <= start:
            return 0
        return self._rank(end.toordinal()) - self._rank(start.toordinal())

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after start (start is day 0; n == 0 returns start).

        Returns the smallest date ``x`` with ``rank(x) == rank(start) + n``, located by a week
        arithmetic estimate corrected by galloping + bisection on the rank (see
        :meth:`_first_at_rank`); O(log h * log(1 + holidays in range)).  ``start`` itself
        need not be a working day.  Raises ``ValueError`` for negative ``n`` and
        ``OverflowError`` past ``date.max``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        x = start.toordinal()
        return _to_ordinal(self._first_at_rank(self._rank(x) + n, x))

    def subtract_working_days(self, end: dt.date, n: int) -> dt.date:
        """The working day ``s`` that is n working days before ``end`` (n == 0 returns end).

        For ``n >= 1`` this is the working day whose rank is ``rank(end) - n``.  Equivalently:

        * if ``end`` is a working day, ``s`` is the working day with
          ``add_working_days(s, n) == end``;
        * if ``end`` is not a working day, let ``L`` be the last working day before it;
          ``s`` is the working day with ``add_working_days(s, n) == L``.

        In both cases ``s`` is the latest *working day* with ``add_working_days(s, n) <= end``
        and exactly ``n`` working days lie in ``(s, end]``.  (The latest *date* with that
        count is the day before the next working day after ``s``; we return the working day.)
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return end
        x = end.toordinal()
        return _to_ordinal(self._first_at_rank(self._rank(x) - n, x))


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit must be {WORKING!r} or {CALENDAR!r}, got {unit!r}")


def build_calendar(
    *,
    country: str,
    subdiv: str | None = None,
    years: range,
    extra_holidays: Iterable[dt.date] = (),
    extra_workdays: Iterable[dt.date] = (),
) -> WorkCalendar:
    """Build the calendar of one authority from the ``holidays`` library plus admin additions.

    Public holidays of ``country`` come from
    ``holidays.country_holidays(country, subdiv=subdiv, years=years)``, plus the library's
    weekend make-up workdays (attribute ``weekend_workdays`` on the holidays object where it
    exists, e.g. China), plus administrator-added holidays and workdays.  An
    administrator-added workday wins over a public holiday on the same date; an added holiday
    wins over a library make-up workday.  Weekend = the holidays object's ``weekend``
    attribute if present, else ``{5, 6}``.

    Algorithm::

        off = public holidays in `years`  | extra_holidays
        on  = library make-up workdays in `years` | extra_workdays
        off -= extra_workdays     # admin workday beats a public holiday
        on  -= extra_holidays     # admin holiday beats a library make-up workday

    then :class:`WorkCalendar` keeps only the off-days on normal weekdays and the on-days on
    weekend days.  A date that is in both ``extra_holidays`` and ``extra_workdays`` is a
    ``ValueError``.

    Only the years in ``years`` are loaded from the library (pass a generous range, e.g.
    start year - 1 .. start year + 6).  Outside those years the calendar has no public
    holidays and no make-up workdays — only the weekend rule and the administrator additions
    (which apply wherever they fall).  Note that the library only knows make-up workdays for
    years whose official schedule has been published (for China, through 2026 in 0.109), and
    that ``weekend_workdays`` also carries a few cross-year dates from long ago, which are
    dropped here because they fall outside ``years``.  Countries whose weekend changed over
    time (or differs by subdivision) are modelled with the single ``weekend`` attribute.
    """
    extra_off = {_check_date(d, "extra holiday") for d in extra_holidays}
    extra_on = {_check_date(d, "extra workday") for d in extra_workdays}
    clash = extra_off & extra_on
    if clash:
        raise ValueError(f"dates both added as holiday and as workday: {sorted(clash)}")

    year_set = set(years)
    public = holidays_lib.country_holidays(country, subdiv=subdiv, years=years)
    library_weekend: Iterable[int] | None = getattr(public, "weekend", None)
    weekend = DEFAULT_WEEKEND if library_weekend is None else frozenset(library_weekend)
    library_on: Iterable[dt.date] = getattr(public, "weekend_workdays", None) or ()

    off = {d for d in public if d.year in year_set} | extra_off
    on = {d for d in library_on if d.year in year_set} | extra_on
    off -= extra_on
    on -= extra_off
    return WorkCalendar(
        weekend=weekend,
        holidays=tuple(sorted(d for d in off if d.weekday() not in weekend)),
        workdays=tuple(sorted(d for d in on if d.weekday() in weekend)),
    )


def count_days(*, calendar: WorkCalendar, start: dt.date, end: dt.date, unit: str) -> int:
    """Signed day count: working (or calendar) days d with start < d <= end.

    If ``end < start`` the result is minus the count of days d with end < d <= start.

    Calendar unit: ``(end - start).days``.  Working unit: ``rank(end) - rank(start)``, which is
    already the signed value (O(log h)).
    """
    _check_unit(unit)
    if unit == CALENDAR:
        return (end - start).days
    if end < start:
        return -calendar.working_days_between(end, start)
    return calendar.working_days_between(start, end)


def _advance(calendar: WorkCalendar, start: dt.date, n: int, unit: str) -> dt.date:
    if unit == CALENDAR:
        return start + dt.timedelta(days=n)
    return calendar.add_working_days(start, n)


def _merged_pauses(
    start: dt.date, pauses: Sequence[tuple[dt.date, dt.date | None]]
) -> list[tuple[dt.date, dt.date | None]]:
    """Skipped windows ``(a, b]`` after ``start``, sorted and merged; ``b is None`` = open.

    A pause ``(requested_on, provided_on)`` skips the days ``requested_on < d <= provided_on``.
    Windows are clipped to ``d > start`` (``a = max(requested_on, start)``); empty ones are
    dropped; overlapping or touching windows (``next.a <= current.b``) are merged.  Anything
    after an open window is irrelevant, so the list ends at the first open window.
    """
    windows: list[tuple[dt.date, dt.date | None]] = []
    for requested_on, provided_on in pauses:
        _check_date(requested_on, "requested_on")
        if provided_on is not None:
            _check_date(provided_on, "provided_on")
            if provided_on < requested_on:
                raise ValueError(
                    f"information provided on {provided_on} before it was requested on "
                    f"{requested_on}"
                )
            if provided_on <= start:
                continue
        windows.append((max(requested_on, start), provided_on))
    windows.sort(key=lambda w: w[0])

    merged: list[tuple[dt.date, dt.date | None]] = []
    for a, b in windows:
        if b is not None and b <= a:
            continue
        if merged:
            last_a, last_b = merged[-1]
            if last_b is None:
                break
            if a <= last_b:
                merged[-1] = (last_a, None if b is None else max(last_b, b))
                continue
        merged.append((a, b))
    return merged


def add_days(
    *,
    calendar: WorkCalendar,
    start: dt.date,
    n: int,
    unit: str,
    pauses: Sequence[tuple[dt.date, dt.date | None]] = (),
) -> dt.date | None:
    """Due date of a review window, with the clock stopped while information is awaited.

    ``start`` is day 0; the due date is the n-th working day after it (n-th calendar day when
    ``unit == CALENDAR``), skipping every day from the day AFTER information was requested up
    to and including the day it was provided.  ``pauses`` is a list of
    ``(requested_on, provided_on)`` dates; a pause whose ``provided_on`` is None is still
    open: if the count has not finished by the day information was requested, return None
    (the clock is stopped).  Pauses may be unsorted, may overlap, and may lie (partly) before
    ``start``; the parts on or before ``start`` are ignored.  A pause with
    ``provided_on < requested_on`` is a ``ValueError``; one with
    ``provided_on == requested_on`` skips nothing.

    Algorithm: merge the pauses into sorted disjoint windows ``(a, b]`` after ``start``.  Walk
    them with a cursor ``cur = start`` and ``left = n``: the gap ``(cur, a]`` holds
    ``count(cur, a)`` countable days; if ``left`` fits, the answer is ``left`` days after
    ``cur``; otherwise consume the gap, jump the cursor to ``b`` (the day information was
    provided, itself skipped) and continue.  An open window (``b is None``) that is reached
    with days still to count gives ``None``; the count finishing on ``requested_on`` itself
    is not stopped.  After the last window the answer is ``left`` days after the cursor.
    Cost: O(p log p) for p pauses plus O(p) rank computations.  ``n == 0`` returns ``start``.
    """
    _check_unit(unit)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    windows = _merged_pauses(start, pauses)
    if n == 0:
        return start
    cursor, left = start, n
    for a, b in windows:
        gap = count_days(calendar=calendar, start=cursor, end=a, unit=unit)
        if left <= gap:
            return _advance(calendar, cursor, left, unit)
        left -= gap
        if b is None:
            return None
        cursor = b
    return _advance(calendar, cursor, left, unit)


def subtract_days(*, calendar: WorkCalendar, end: dt.date, n: int, unit: str) -> dt.date:
    """Count back from ``end`` (e.g. a ship date): the day from which ``end`` is the n-th day.

    The result ``s`` always has exactly ``n`` working (or calendar) days in ``(s, end]``.

    * ``n == 0``: returns ``end``.
    * Calendar unit: ``end - n days``.
    * Working unit, ``n >= 1``: returns a *working day* ``s`` — the working day whose rank is
      ``rank(end) - n`` (see :meth:`WorkCalendar.subtract_working_days`).  When ``end`` is a
      working day, ``add_working_days(s, n) == end``.  When ``end`` is not a working day,
      ``s`` is the working day that is n working days before the last working day preceding
      ``end``, i.e. the maximal working day with ``add_working_days(s, n) <= end``.  In both
      cases exactly ``n`` working days lie in ``(s, end]``; the non-working days directly
      after ``s`` (which would satisfy the count too) are never returned.
    """
    _check_unit(unit)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if unit == CALENDAR:
        return end - dt.timedelta(days=n)
    return calendar.subtract_working_days(end, n)
