"""Viewsets of the shipments resources: reads through the selectors, writes and moves through
the services."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.moments import resolve_moment
from core.api.permissions import model_perms
from core.api.views import WritableApiViewSet
from licenses import flags
from licenses.api.serializers import MoveSerializer
from shipments import selectors, services
from shipments.models import Shipment

from . import filters
from .serializers import ConsigneeSerializer, ShipmentSerializer

MOVE = "shipments.move_shipment"


class ConsigneeViewSet(WritableApiViewSet):
    """Exporters' customers."""

    serializer_class = ConsigneeSerializer
    filterset_class = filters.ConsigneeFilter
    required_perms = model_perms("shipments.consignee")
    orderings = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}
    search_fields = ["name", "end_use"]

    def get_queryset(self) -> QuerySet:
        return selectors.consignee_list(user=self.request.user)


def _move_schema(description: str) -> Any:
    return extend_schema(
        request=MoveSerializer, responses={200: ShipmentSerializer}, description=description
    )


class ShipmentViewSet(WritableApiViewSet):
    """Goods to send, the application that covers them, and the officer's moves."""

    serializer_class = ShipmentSerializer
    filterset_class = filters.ShipmentFilter
    required_perms = model_perms("shipments.shipment") | {
        name: MOVE for name in ("ship", "deliver", "hold", "release", "cancel")
    }
    orderings = {
        "-id": ("-id",),
        "id": ("id",),
        "planned_ship_date": ("planned_ship_date", "id"),
        "-planned_ship_date": ("-planned_ship_date", "-id"),
        "reference": ("reference", "id"),
        "-reference": ("-reference", "-id"),
    }
    search_fields = ["reference", "consignee__name", "exporter__name", "application__reference"]
    may_conflict = True

    def get_queryset(self) -> QuerySet:
        return (
            selectors.shipment_list(user=self.request.user)
            .select_related("item__authority", "application__authority")
            .prefetch_related(flags.open_prefetch(), flags.open_prefetch(through="application__"))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": getattr(self, "now", None)}

    def _move(self, request: Request, move: str) -> Response:
        shipment: Shipment = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        authority = (shipment.application or shipment.item).authority
        at = resolve_moment(
            data.pop("at", None), tz=authority.tz, now=self.now, not_before=shipment.last_moved_at
        )
        service = getattr(services, f"shipment_{move}")
        with transaction.atomic():
            service(shipment=shipment, at=at, now=self.now, actor=request.user, **data)
        return self.respond(shipment)

    @_move_schema("The cleared shipment left.")
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "ship")

    @_move_schema("The shipment arrived.")
    @action(detail=True, methods=["post"])
    def deliver(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "deliver")

    @_move_schema("Hold the shipment before it ships.")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "hold")

    @_move_schema("Release a held shipment: it takes the state its application gives it.")
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "release")

    @_move_schema("Cancel the shipment before it ships (its drawdown is released).")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "cancel")
