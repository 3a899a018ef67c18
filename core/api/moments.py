"""A move's `at`, as the API contract states it.

- A date-time with an offset is that instant.
- A date-time without an offset is read in the authority's time zone.
- A bare date is that day in the authority's time zone, at the start of the day; but today
  means now (the move is being recorded as it happens), and a day that already holds the
  previous move means the moment of that move (so "same day" is never refused as earlier).
- Omitted (or null), it means now.

The services then refuse a moment in the future or before the previous move, naming `at`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Calendars are known from 2000 on (licenses.clock.CALENDAR_YEARS): an earlier date would
# silently count days without holidays, so it is refused as a typing mistake.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(9000, 1, 1)
# UTC offsets as the world has them (UTC-12 to UTC+14); PostgreSQL stores no more than 15:59.
MAX_OFFSET = dt.timedelta(hours=14)


def offset_in_range(value: dt.date | dt.datetime) -> bool:
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    return offset is None or abs(offset) <= MAX_OFFSET


@extend_schema_field(
    {
        # From the year 2000 (EARLIEST) to this year: the pattern is written when the schema
        # is served (core.api.schema.truthful_dates).
        "anyOf": [
            {"type": "string", "format": "date-time", "x-years": "2000-today"},
            {"type": "string", "format": "date", "x-years": "2000-today"},
        ],
        "description": (
            "When it happened: a date-time (with an offset; without one, in the authority's time "
            "zone) or a date (that day in the authority's time zone: its start, or now for "
            "today). Omitted, now. From 1 January 2000 on; never in the future (400 naming "
            "`at`) nor before the previous move of the same object (400 naming `at`)."
        ),
    }
)
class MomentField(serializers.Field):
    """Parses `at` into an aware or naive datetime, or a date; `resolve_moment` finishes it."""

    default_error_messages = {
        "invalid": _("Give an ISO 8601 date-time (e.g. 2026-09-24T10:00:00+08:00) or date."),
        "out_of_range": _("Give a moment from the year 2000 on."),
    }

    def to_internal_value(self, data: Any) -> dt.datetime | dt.date:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        try:
            # A date first: Python reads a bare date as a date-time at midnight too.
            value: dt.datetime | dt.date | None = parse_date(text)
            if value is None:
                value = parse_datetime(text)
        except ValueError:
            value = None
        if value is None or not offset_in_range(value):
            self.fail("invalid")
        assert value is not None
        day = value.date() if isinstance(value, dt.datetime) else value
        # The far end of the calendar would overflow in time-zone arithmetic.
        if not EARLIEST <= day <= LATEST:
            self.fail("out_of_range")
        return value

    def to_representation(self, value: Any) -> Any:
        return value.isoformat()


def resolve_moment(
    value: dt.datetime | dt.date | None,
    *,
    tz: zoneinfo.ZoneInfo,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> dt.datetime | None:
    """The instant a parsed `at` names (None stays None: the services read it as now)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=tz)
        return value
    if value == now.astimezone(tz).date():
        return now
    start = dt.datetime.combine(value, dt.time.min, tzinfo=tz)
    if not_before is not None and start < not_before and not_before.astimezone(tz).date() == value:
        return not_before
    return start
