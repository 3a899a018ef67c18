"""What a given user may see of consignees and shipments (see licenses.selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from licenses.selectors import scope

from .models import Consignee, Shipment


def consignee_list(*, user: Any) -> QuerySet[Consignee]:
    return scope(Consignee.objects.select_related("exporter"), user)


def shipment_list(*, user: Any) -> QuerySet[Shipment]:
    return scope(
        Shipment.objects.select_related("exporter", "item", "consignee", "application"), user
    )
