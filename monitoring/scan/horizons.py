"""Each authority's horizons at a moment: its local date, and the deadline at or before which
a pending application is due soon and the day on or before which a license is expiring — the
thresholds every condition of what is due compares with, computed from the scan settings and
the authority's calendar (never by walking days)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from licenses.calendars import WORKING, add_days
from licenses.clock import calendar_for, end_of_day, local_date
from licenses.models import Authority, CalendarDay

from ..models import ScanSettings


@dataclass(frozen=True)
class AuthorityDay:
    """One authority's view of `now`: its local date and the deadlines derived from it."""

    authority: Authority
    today: dt.date
    due_soon_until: dt.datetime  # a pending application due at or before this is due soon
    expiring_until: dt.date  # an approved license valid until this day or earlier is expiring


@dataclass(frozen=True)
class Thresholds:
    now: dt.datetime
    due_soon_working_days: int
    expiring_within_days: int
    authorities: tuple[AuthorityDay, ...]


@dataclass(frozen=True)
class ThresholdInputs:
    """What the thresholds are computed from (three queries): the scan settings (with the
    previous scan's moment), the authorities and the days administrators added."""

    settings: ScanSettings
    authorities: list[Authority]
    added: dict[int, list[CalendarDay]]

    @classmethod
    def read(cls) -> ThresholdInputs:
        settings_row = ScanSettings.objects.filter(pk=1).first() or ScanSettings()
        authorities = list(Authority.objects.order_by("pk"))
        added: dict[int, list[CalendarDay]] = defaultdict(list)
        for day in CalendarDay.objects.filter(authority__in=authorities):
            added[day.authority_id].append(day)
        return cls(settings_row, authorities, added)


def thresholds(*, now: dt.datetime, inputs: ThresholdInputs | None = None) -> Thresholds:
    """Compute each authority's thresholds (reading their inputs unless given)."""
    inputs = inputs or ThresholdInputs.read()
    settings_row, authorities, added = inputs.settings, inputs.authorities, inputs.added
    rows = []
    for authority in authorities:
        tz = authority.tz
        today = local_date(now, tz)
        calendar = calendar_for(authority, added[authority.pk])
        soon = add_days(
            calendar=calendar, start=today, n=settings_row.due_soon_working_days, unit=WORKING
        )
        assert soon is not None  # no pauses given
        rows.append(
            AuthorityDay(
                authority=authority,
                today=today,
                due_soon_until=end_of_day(soon, tz),
                expiring_until=today + dt.timedelta(days=settings_row.expiring_within_days),
            )
        )
    return Thresholds(
        now=now,
        due_soon_working_days=settings_row.due_soon_working_days,
        expiring_within_days=settings_row.expiring_within_days,
        authorities=tuple(rows),
    )
