"""The flags resource: read-only, through the selectors."""

from __future__ import annotations

from django.db.models import QuerySet

from core.api.views import ReadOnlyApiViewSet
from monitoring import selectors

from . import filters
from .serializers import FlagSerializer


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
