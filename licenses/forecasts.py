"""Forecasts from history: the Kaplan-Meier estimate of when an authority decides.

Pure: no database, no clock. `licenses.services.forecasts` reads the history, calls these and
stores what they return.

The steps, exactly as the product specification defines them:

1. **Durations** (`elapsed`) are counted in the authority's unit (working or calendar days on
   its calendar) from day 0, the day the clock started, to an end day, leaving out the paused
   days (from the day after information was requested up to and including the day it was
   provided; a pause still open runs to the end day) — the count the due date uses. A decided
   application (approved, rejected) is an *event* at the duration to the day of its decision;
   a pending one is *censored* at its duration up to and including today; a withdrawn or
   returned one is censored at the day it left.
2. **The estimator** (`kaplan_meier`): over the distinct event durations t₁ < t₂ < …,
   S(t) = ∏ over tᵢ ≤ t of (1 - dᵢ / nᵢ), where dᵢ is the number of decisions at tᵢ and nᵢ the
   number of applications whose duration (event or censored) is ≥ tᵢ. A censored duration
   equal to an event duration is still at risk there (it counts in nᵢ). The products are kept
   as exact fractions, so that "S(t) ≤ 0.5 · S(e)" is decided exactly, also on ties.
3. **Which history** (`choose_level`): the applications of the same authority, item and
   destination if at least `MIN_DECIDED` (20) of them are decided; else of the same authority
   and item, if at least 20 are; else the authority's, if at least 20 are; else none. An
   application with several items is keyed by its first item (lowest id).
4. **The forecast** (`conditional_quantiles`) for an application that has waited e units:
   `p50` is the smallest event duration t > e with S(t) ≤ 0.5 · S(e), and `p90` the smallest
   with S(t) ≤ 0.1 · S(e); each is None when no event duration qualifies. The caller turns each
   into the date that many units after day 0, skipping the paused days, like a due date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .calendars import WorkCalendar, count_days

MIN_DECIDED = 20
LEVELS = ("destination", "item", "authority")


@dataclass(frozen=True)
class Survival:
    """A Kaplan-Meier curve: `times` are the distinct event durations, ascending, and
    `survival[i]` is S(times[i]) (S is 1 before the first). `decided` and `censored` count the
    history it was estimated from."""

    times: tuple[int, ...]
    survival: tuple[Fraction, ...]
    decided: int
    censored: int

    def at(self, t: float) -> Fraction:
        """S(t): the product over the event durations ≤ t."""
        i = bisect.bisect_right(self.times, t)
        return self.survival[i - 1] if i else Fraction(1)


def kaplan_meier(durations: Iterable[tuple[int, bool]]) -> Survival:
    """The estimator over `(duration, decided)` pairs (decided: an event; else censored)."""
    return kaplan_meier_counts((duration, is_event, 1) for duration, is_event in durations)


def kaplan_meier_counts(groups: Iterable[tuple[int, bool, int]]) -> Survival:
    """The estimator over `(duration, decided, how many)` rows (a GROUP BY's counts)."""
    events: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    decided = censored = 0
    for duration, is_event, n in groups:
        if duration < 0:
            raise ValueError(f"a duration cannot be negative: {duration}")
        counts[duration] += n
        if is_event:
            events[duration] += n
            decided += n
        else:
            censored += n
    # n_i: the applications whose duration is at least t_i (a suffix sum over durations).
    at_least: dict[int, int] = {}
    running = 0
    for duration in sorted(counts, reverse=True):
        running += counts[duration]
        at_least[duration] = running
    times: list[int] = []
    survival: list[Fraction] = []
    s = Fraction(1)
    for t in sorted(events):
        s *= 1 - Fraction(events[t], at_least[t])
        times.append(t)
        survival.append(s)
    return Survival(tuple(times), tuple(survival), decided, censored)


def quantile(curve: Survival, share: Fraction) -> int | None:
    """The smallest event duration t with S(t) <= 1 - share (e.g. share 1/2: the median of
    the time to a decision), or None when S never gets there."""
    threshold = 1 - share
    for t, s in zip(curve.times, curve.survival, strict=True):
        if s <= threshold:
            return t
    return None


def conditional_quantiles(curve: Survival, elapsed_units: int) -> tuple[int | None, int | None]:
    """(p50, p90) in units after day 0 for an application that has waited `elapsed_units`."""
    base = curve.at(elapsed_units)
    start = bisect.bisect_right(curve.times, elapsed_units)  # event durations t > e

    def first_at_or_below(share: Fraction) -> int | None:
        threshold = share * base
        for i in range(start, len(curve.times)):
            if curve.survival[i] <= threshold:
                return curve.times[i]
        return None

    return first_at_or_below(Fraction(1, 2)), first_at_or_below(Fraction(1, 10))


def choose_level(decided_by_level: dict[str, int]) -> str | None:
    """The most specific level whose history holds at least `MIN_DECIDED` decisions."""
    for level in LEVELS:
        if decided_by_level.get(level, 0) >= MIN_DECIDED:
            return level
    return None


def paused_windows(
    start: dt.date, end: dt.date, pauses: Sequence[tuple[dt.date, dt.date | None]]
) -> list[tuple[dt.date, dt.date]]:
    """The paused days within (start, end] as merged windows (a, b]: a pause (requested_on,
    provided_on) leaves out requested_on < d ≤ provided_on (an open one: up to `end`)."""
    clipped = sorted(
        (max(requested, start), min(provided or end, end))
        for requested, provided in pauses
        if requested < end and (provided is None or provided > start)
    )
    merged: list[tuple[dt.date, dt.date]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def elapsed(
    *,
    calendar: WorkCalendar,
    start: dt.date,
    end: dt.date,
    unit: str,
    pauses: Sequence[tuple[dt.date, dt.date | None]] = (),
) -> int:
    """Units counted in (start, end] (working or calendar days), less the paused ones: the
    same count a due date uses, so that `add_days(start, elapsed(start, end))` lands on `end`
    when `end` is a countable day outside every pause. 0 when `end` ≤ `start`."""
    if end <= start:
        return 0
    total = count_days(calendar=calendar, start=start, end=end, unit=unit)
    for a, b in paused_windows(start, end, pauses):
        total -= count_days(calendar=calendar, start=a, end=b, unit=unit)
    return total


__all__ = [
    "LEVELS",
    "MIN_DECIDED",
    "Survival",
    "choose_level",
    "conditional_quantiles",
    "elapsed",
    "kaplan_meier",
    "kaplan_meier_counts",
    "paused_windows",
    "quantile",
]
