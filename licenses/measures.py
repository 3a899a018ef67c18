"""When a measure applies: pure date arithmetic over a measure and its suspensions.

Nothing here writes to the database. Every function takes the measure's suspensions as an
argument (the caller has them prefetched, or builds them unsaved), and every "day" is a date
in the measure's authority's time zone (`today(authority, now)`).

Rules, exactly as the product specification states them:

1. A measure applies on day d when `effective_from` <= d, d <= `effective_until` (when set),
   and d lies in none of its suspensions; a suspension covers both its days (`starts_on` and
   `ends_on`), and one without `ends_on` lasts for ever.
2. Its status on day d: `scheduled` before `effective_from`; `ended` after `effective_until`;
   `suspended` within a suspension; `in_force` otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from .models import MeasureStatus, MeasureSuspension

if TYPE_CHECKING:
    from .models import Authority, Measure

Period = tuple[dt.date, dt.date | None]

ONE_DAY = dt.timedelta(days=1)


def today(authority: Authority, now: dt.datetime) -> dt.date:
    """The authority's date at the instant `now`."""
    return now.astimezone(authority.tz).date()


def _suspended_on(suspensions: Iterable[MeasureSuspension], day: dt.date) -> bool:
    return any(s.starts_on <= day and (s.ends_on is None or day <= s.ends_on) for s in suspensions)


def status_on(measure: Measure, suspensions: Sequence[MeasureSuspension], day: dt.date) -> str:
    """The measure's status (a `MeasureStatus` value) on `day`."""
    if day < measure.effective_from:
        return MeasureStatus.SCHEDULED.value
    if measure.effective_until is not None and day > measure.effective_until:
        return MeasureStatus.ENDED.value
    if _suspended_on(suspensions, day):
        return MeasureStatus.SUSPENDED.value
    return MeasureStatus.IN_FORCE.value


def applies_on(measure: Measure, suspensions: Sequence[MeasureSuspension], day: dt.date) -> bool:
    """Whether the measure applies on `day` (its scope of items and destinations aside)."""
    return status_on(measure, suspensions, day) == MeasureStatus.IN_FORCE.value


def periods(measure: Measure, suspensions: Sequence[MeasureSuspension]) -> list[Period]:
    """The day ranges `(from, until)` during which the measure applies, both days included,
    in order; `until` is None for a range without end.

    The effective period minus every suspension: walk the suspensions in order of their
    start, cutting the part before each off the remaining range and resuming the day after
    it ends (never, for an open-ended one). Overlapping or out-of-period suspensions are
    handled the same way."""
    result: list[Period] = []
    start: dt.date | None = measure.effective_from
    end = measure.effective_until
    for s in sorted(suspensions, key=lambda s: s.starts_on):
        if start is None:
            break
        if s.ends_on is not None and s.ends_on < start:
            continue
        if end is not None and s.starts_on > end:
            break
        if s.starts_on > start:
            result.append((start, s.starts_on - ONE_DAY))
        start = None if s.ends_on is None else max(start, s.ends_on + ONE_DAY)
    if start is not None and (end is None or start <= end):
        result.append((start, end))
    return result


def transitions(
    measure: Measure, suspensions: Sequence[MeasureSuspension], first: dt.date, last: dt.date
) -> list[tuple[dt.date, str]]:
    """The days from `first` to `last` (both included) on which the measure's status
    changes, each with its new status, in order."""
    days = {measure.effective_from}
    if measure.effective_until is not None:
        days.add(measure.effective_until + ONE_DAY)
    for s in suspensions:
        days.add(s.starts_on)
        if s.ends_on is not None:
            days.add(s.ends_on + ONE_DAY)
    result = []
    for day in sorted(d for d in days if first <= d <= last):
        new = status_on(measure, suspensions, day)
        if new != status_on(measure, suspensions, day - ONE_DAY):
            result.append((day, new))
    return result


def status_q(status: str, day: dt.date, prefix: str = "") -> Q:
    """A filter on measures whose status on `day` is `status` (rules 1 and 2 in SQL).
    `prefix` reaches the measure through a relation (e.g. "measures__")."""
    suspended = Exists(
        MeasureSuspension.objects.filter(
            measure=OuterRef(f"{prefix}pk" if prefix else "pk"), starts_on__lte=day
        ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    )
    started = Q(**{f"{prefix}effective_from__lte": day})
    not_ended = Q(**{f"{prefix}effective_until__isnull": True}) | Q(
        **{f"{prefix}effective_until__gte": day}
    )
    if status == MeasureStatus.SCHEDULED:
        return ~started
    if status == MeasureStatus.ENDED:
        return Q(**{f"{prefix}effective_until__lt": day})
    if status == MeasureStatus.SUSPENDED:
        return started & not_ended & Q(suspended)
    if status == MeasureStatus.IN_FORCE:
        return started & not_ended & ~Q(suspended)
    raise ValueError(status)
