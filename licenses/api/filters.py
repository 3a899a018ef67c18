"""Filters of the licenses resources (`?status=`, `?exporter=`, `?due_before=`…)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from core.api.filters import DueFilter, IdFilter
from core.countries import CountryFilter
from licenses.models import (
    Authority,
    ControlledItem,
    Event,
    EventKind,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    LicenseType,
    Measure,
    MeasureKind,
    MeasureStatus,
    Status,
)

from .. import flags, selectors
from .serializers import FLAG_KINDS


def _time_zones() -> list[str]:
    return sorted(set(Authority.objects.values_list("time_zone", flat=True)))


class AuthorityFilter(django_filters.FilterSet):
    class Meta:
        model = Authority
        fields = ["country", "window_unit", "clock_starts"]


class ControlledItemFilter(django_filters.FilterSet):
    authority = django_filters.CharFilter(field_name="authority__code", help_text="Its code.")

    class Meta:
        model = ControlledItem
        fields = ["authority", "unit"]


class ExporterFilter(django_filters.FilterSet):
    class Meta:
        model = Exporter
        fields = ["country"]


class ApplicationFilter(django_filters.FilterSet):
    # A column of the row itself: no join can repeat a row, so no DISTINCT (django-filter's
    # default for this filter), which makes PostgreSQL sort every match before the page.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    exporter = IdFilter(field_name="exporter_id")
    authority = django_filters.CharFilter(field_name="authority__code", help_text="Its code.")
    destination = CountryFilter(help_text="ISO 3166 alpha-2 (an unknown code answers 400).")
    license_type = django_filters.ChoiceFilter(choices=LicenseType.choices)
    flag = django_filters.ChoiceFilter(
        choices=[(k, k) for k in FLAG_KINDS], method="filter_flag", help_text="An open flag kind."
    )
    due_before = DueFilter(
        before=True,
        time_zones=_time_zones,
        help_text="Due on or before: a date (the authority's local due date) or a date-time.",
    )
    due_after = DueFilter(
        before=False,
        time_zones=_time_zones,
        help_text="Due on or after: a date (the authority's local due date) or a date-time.",
    )

    forecast_before = django_filters.DateFilter(
        field_name="forecast_p50",
        lookup_expr="lte",
        help_text="Likely decided (forecast p50) on or before this day.",
    )
    forecast_after = django_filters.DateFilter(
        field_name="forecast_p50",
        lookup_expr="gte",
        help_text="Likely decided (forecast p50) on or after this day.",
    )

    class Meta:
        model = LicenseApplication
        fields = ["status", "exporter", "authority", "destination", "license_type"]

    def filter_flag(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(flags.open_exists(LicenseApplication, value))


class FastTrackDecisionFilter(django_filters.FilterSet):
    authority = django_filters.CharFilter(field_name="authority__code", help_text="Its code.")
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, help_text="Revoked or not."
    )

    class Meta:
        model = FastTrackDecision
        fields = ["authority", "revoked"]


class EventFilter(django_filters.FilterSet):
    application = IdFilter(field_name="application_id")
    shipment = IdFilter(field_name="shipment_id")
    decision = IdFilter(field_name="decision_id")
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    after_id = IdFilter(
        field_name="id",
        lookup_expr="gt",
        help_text="Only events recorded after this one (for polling: the last id you saw).",
    )

    class Meta:
        model = Event
        fields = ["application", "shipment", "decision", "kind", "after_id"]


class MeasureFilter(django_filters.FilterSet):
    authority = django_filters.CharFilter(field_name="authority__code", help_text="Its code.")
    item = IdFilter(field_name="items", help_text="Measures naming this controlled item (id).")
    kind = django_filters.ChoiceFilter(choices=MeasureKind.choices)
    status = django_filters.ChoiceFilter(
        choices=MeasureStatus.choices,
        method="filter_status",
        help_text="Today's status, on each measure's authority's date.",
    )

    class Meta:
        model = Measure
        fields = ["authority", "item", "kind", "status"]

    def filter_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.measures_with_status(qs, value, timezone.now())
