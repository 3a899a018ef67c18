"""Filters of the flags list."""

from __future__ import annotations

import django_filters

from core.api.filters import IdFilter
from monitoring.models import Flag, FlagKind


class FlagFilter(django_filters.FilterSet):
    application = IdFilter(field_name="application_id")
    shipment = IdFilter(field_name="shipment_id")
    exporter = IdFilter(field_name="exporter_id")
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices)
    open = django_filters.BooleanFilter(
        field_name="cleared_at", lookup_expr="isnull", help_text="Open (not cleared) or not."
    )

    class Meta:
        model = Flag
        fields = ["application", "shipment", "exporter", "kind", "open"]
