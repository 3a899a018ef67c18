"""What a given user may see of consignees and shipments (see licenses.selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from licenses.selectors import item_matches, scope

from .models import Consignee, Shipment


def consignee_list(*, user: Any) -> QuerySet[Consignee]:
    return scope(Consignee.objects.select_related("exporter"), user)


def shipment_list(*, user: Any) -> QuerySet[Shipment]:
    return scope(
        Shipment.objects.select_related("exporter", "item", "consignee", "application", "deadline"),
        user,
    )


def shipment_matches(term: str) -> Q:
    """What a search term finds of shipments, on the page and in the API (core.search): the
    reference, the exporter's and consignee's names, the application's reference and case
    number, and the item's code, description or material (each one row: no duplicates)."""
    return (
        Q(reference__icontains=term)
        | Q(exporter__name__icontains=term)
        | Q(consignee__name__icontains=term)
        | Q(application__reference__icontains=term)
        | Q(application__authority_reference__icontains=term)
        | item_matches(term, prefix="item__")
    )
