"""The flags resource (read-only, through the selectors) and the webhooks."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.permissions import model_perms
from core.api.views import ReadOnlyApiViewSet, WritableApiViewSet
from monitoring import selectors, webhooks
from monitoring.models import Webhook, WebhookDelivery

from . import filters
from .serializers import FlagSerializer, WebhookDeliverySerializer, WebhookSerializer


class FlagViewSet(ReadOnlyApiViewSet):
    """What needs attention: raised once, cleared when its cause goes away."""

    serializer_class = FlagSerializer
    filterset_class = filters.FlagFilter
    required_perms = {"read": "monitoring.view_flag"}
    search_fields = ["application__reference", "shipment__reference"]
    orderings = {
        "-raised_at": ("-raised_at", "-id"),
        "raised_at": ("raised_at", "id"),
        "-id": ("-id",),
        "id": ("id",),
    }

    def get_queryset(self) -> QuerySet:
        return selectors.flag_list(user=self.request.user)


class WebhookViewSet(mixins.DestroyModelMixin, WritableApiViewSet):
    """Webhooks, for managers (their own) and administrators (everyone's); other roles 403.
    Every event of the chosen types on the chosen exporters is POSTed to `url`, signed with
    `secret` (see the README, *Webhooks*)."""

    serializer_class = WebhookSerializer
    http_method_names = ["get", "head", "post", "put", "patch", "delete"]
    required_perms = {
        **model_perms("monitoring.webhook"),
        "destroy": "monitoring.delete_webhook",
        "deliveries": "monitoring.view_webhook",
        "redeliver": "monitoring.change_webhook",
    }
    search_fields = ["url"]
    filterset_class = None

    @property
    def orderings(self) -> dict[str, tuple[str, ...]]:  # type: ignore[override]
        if getattr(self, "action", None) == "deliveries":
            return {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}
        return {"-id": ("-id",), "id": ("id",)}

    def get_queryset(self) -> QuerySet:
        return selectors.webhook_list(user=self.request.user).prefetch_related("exporters")

    def perform_destroy(self, instance: Webhook) -> None:
        with transaction.atomic():
            webhooks.webhook_delete(webhook=instance)

    @extend_schema(
        responses={200: WebhookDeliverySerializer(many=True)},
        filters=False,
        description="Every delivery of this webhook, newest first, each with all its attempts.",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        webhook: Webhook = self.get_object()
        deliveries = webhook.deliveries.prefetch_related("attempt_log")
        page = self.paginate_queryset(deliveries)
        serializer = WebhookDeliverySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        description=(
            "Send a delivery again by hand, whatever its state: the same delivery id and body, "
            "a new attempt (`manual`), sent by the worker shortly after this answer."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9a-fA-F-]{36})/redeliver",
        filter_backends=[],
    )
    def redeliver(self, request: Request, pk: str | None = None, delivery_id: str = "") -> Response:
        webhook: Webhook = self.get_object()
        try:
            delivery = webhook.deliveries.get(pk=uuid.UUID(delivery_id))
        except (ValueError, WebhookDelivery.DoesNotExist) as exc:
            raise exceptions.NotFound() from exc
        with transaction.atomic():
            delivery = webhooks.redeliver(delivery, now=self.now)
        delivery = webhook.deliveries.prefetch_related("attempt_log").get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
