"""Filters of the shipments resources."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from core.api.filters import IdFilter
from core.countries import CountryFilter
from licenses import flags
from licenses.api.serializers import FLAG_KINDS
from shipments.models import Consignee, Shipment, ShipmentStatus


class ConsigneeFilter(django_filters.FilterSet):
    exporter = IdFilter(field_name="exporter_id")

    class Meta:
        model = Consignee
        fields = ["exporter", "country"]


class ShipmentFilter(django_filters.FilterSet):
    # A column of the row itself: no join can repeat a row, so no DISTINCT (django-filter's
    # default for this filter), which makes PostgreSQL sort every match before the page.
    status = django_filters.MultipleChoiceFilter(choices=ShipmentStatus.choices, distinct=False)
    exporter = IdFilter(field_name="exporter_id")
    application = IdFilter(field_name="application_id")
    consignee = IdFilter(field_name="consignee_id")
    item = IdFilter(field_name="item_id")
    authority = django_filters.CharFilter(
        field_name="item__authority__code", help_text="The code of its item's authority."
    )
    destination = CountryFilter(help_text="ISO 3166 alpha-2 (an unknown code answers 400).")
    flag = django_filters.ChoiceFilter(
        choices=[(k, k) for k in FLAG_KINDS],
        method="filter_flag",
        help_text="An open flag kind, on the shipment or on its application.",
    )
    ship_from = django_filters.DateFilter(
        field_name="planned_ship_date", lookup_expr="gte", help_text="Planned on or after."
    )
    ship_to = django_filters.DateFilter(
        field_name="planned_ship_date", lookup_expr="lte", help_text="Planned on or before."
    )
    license_required = django_filters.BooleanFilter(
        help_text="Whether it needs a license on its planned ship date."
    )

    class Meta:
        model = Shipment
        fields = ["status", "exporter", "application", "consignee", "item", "destination"]

    def filter_flag(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(flags.shipment_or_application_exists(Shipment, value))
