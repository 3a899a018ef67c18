"""Filters of the shipments resources."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.api.filters import IdFilter
from shipments.models import Consignee, Flag, FlagKind, Shipment, ShipmentStatus


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
    destination = django_filters.CharFilter(help_text="ISO 3166 alpha-2.")
    flag = django_filters.ChoiceFilter(
        choices=FlagKind.choices,
        method="filter_flag",
        help_text="An open flag kind, on the shipment or on its application.",
    )
    ship_from = django_filters.DateFilter(
        field_name="planned_ship_date", lookup_expr="gte", help_text="Planned on or after."
    )
    ship_to = django_filters.DateFilter(
        field_name="planned_ship_date", lookup_expr="lte", help_text="Planned on or before."
    )

    class Meta:
        model = Shipment
        fields = ["status", "exporter", "application", "consignee", "item", "destination"]

    def filter_flag(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        open_flags = Flag.objects.filter(cleared_at__isnull=True, kind=value)
        own = open_flags.filter(shipment=OuterRef("pk"))
        its_application = open_flags.filter(application=OuterRef("application_id"))
        return qs.filter(Q(Exists(own)) | Q(Exists(its_application)))


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
