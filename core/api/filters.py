"""Filter pieces shared by the resources' FilterSets."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .moments import offset_in_range


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object's id (a whole number)."""

    field_class = forms.IntegerField


class DateOrMomentField(forms.Field):
    default_error_messages = {
        "invalid": _("Give an ISO 8601 date (2026-12-03) or date-time with an offset."),
    }

    def to_python(self, value: Any) -> dt.date | dt.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed: dt.date | dt.datetime | None = parse_date(text) or parse_datetime(text)
        except ValueError:
            parsed = None
        if (
            parsed is None
            or (isinstance(parsed, dt.datetime) and parsed.tzinfo is None)
            or not offset_in_range(parsed)
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        if not dt.date(1900, 1, 1) <= day <= dt.date(9000, 1, 1):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


@extend_schema_field(
    {
        # Years from 1900 to 8999 (the pattern is written by core.api.schema.truthful_dates).
        "anyOf": [
            {"type": "string", "format": "date", "x-years": "1900-8999"},
            {"type": "string", "format": "date-time", "x-years": "1900-8999"},
        ],
        "description": "A day (ISO 8601), or a date-time with its offset.",
    }
)
class DueFilter(django_filters.Filter):
    """`due_before` / `due_after` (inclusive). A date-time compares with `due_at`; a date is a
    due date, which is local to each application's authority (`due_at` is the end of that day
    in the authority's time zone), so it is compared authority time zone by time zone."""

    field_class = DateOrMomentField

    def __init__(
        self,
        *,
        before: bool,
        time_zones: Any,
        tz_field: str = "authority__time_zone",
        **kwargs: Any,
    ) -> None:
        self.before = before
        self.time_zones = time_zones  # callable: the time zones in use
        self.tz_field = tz_field  # where each row's time zone is
        kwargs.setdefault("field_name", "due_at")
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value is None:
            return qs
        name = self.field_name
        if isinstance(value, dt.datetime):
            return qs.filter(**{f"{name}__{'lte' if self.before else 'gte'}": value})
        condition = Q(pk__in=[])
        for tz_name in self.time_zones():
            tz = zoneinfo.ZoneInfo(tz_name)
            if self.before:
                # Due on day D or earlier: due_at is at most the midnight that ends D.
                end = dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
                step = Q(**{f"{name}__lte": end})
            else:
                # Due on day D or later: due_at is after the midnight that starts D.
                start = dt.datetime.combine(value, dt.time.min, tzinfo=tz)
                step = Q(**{f"{name}__gt": start})
            condition |= Q(**{self.tz_field: tz_name}) & step
        return qs.filter(condition)
