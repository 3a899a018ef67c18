"""The base of every API view: strict JSON in, JSON out, permissions by action, keyset pages,
filters and search, NUL characters refused, and writes in one transaction each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.filters import SearchFilter
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..search import every
from .pagination import KeysetPagination
from .parsers import NUL, StrictJSONParser
from .permissions import ActionPermission
from .schema import ApiAutoSchema


class Search(SearchFilter):
    """`?search=`: every term must match. A view with `search_matches` (term → Q, the same
    function its web list uses: core.search) decides what a term finds; others search their
    `search_fields`."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        condition = getattr(view, "search_matches", None)
        if condition is None:
            return super().filter_queryset(request, queryset, view)
        search_terms = [term for term in self.get_search_terms(request) if term]
        return queryset.filter(every(search_terms, condition)) if search_terms else queryset


class ApiMixin(APIView):
    """For any API view (viewset or plain APIView)."""

    parser_classes: Sequence[type[BaseParser]] = [StrictJSONParser]
    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    schema: Any = ApiAutoSchema()
    now: Any

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The API speaks UTC whoever asks (pages show a signed-in user's own time zone).
        with timezone.override(dt.UTC):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            # Before permissions: a method no role may use is not allowed, not forbidden.
            raise exceptions.MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)
        for name, values in request.query_params.lists():
            if NUL in name or any(NUL in v for v in values):
                raise exceptions.ValidationError(
                    {name.replace(NUL, ""): _("NUL characters are not allowed.")}
                )
        if any(NUL in str(v) for v in kwargs.values()):
            raise exceptions.NotFound()
        # The one clock reading of the request: services take `now` from here.
        self.now = timezone.now()


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    """Read (list, retrieve) and, where the view allows, create and edit; never delete."""

    permission_classes = [ActionPermission]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend, Search]
    http_method_names = ["get", "head"]
    lookup_value_regex = "[0-9]+"
    required_perms: dict[str, str] = {}

    def get_serializer_context(self) -> dict[str, Any]:
        # Serializers that write hand the request's one clock reading to the services.
        return {**super().get_serializer_context(), "now": getattr(self, "now", None)}

    # Orderings offered to `?ordering=` (the first is the default), each ending in a unique key.
    orderings: dict[str, tuple[str, ...]] = {"-id": ("-id",), "id": ("id",)}
    # Whether writes can answer 409 (illegal moves, lost races): documented in the schema.
    may_conflict = False

    def reload(self, instance: Model) -> Model:
        """The object as a read shows it (with its prefetches), after a write."""
        return self.get_queryset().get(pk=instance.pk)

    def respond(self, instance: Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.reload(instance)).data, status=code)


class ReadOnlyApiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pass


class WritableApiViewSet(ReadOnlyApiViewSet):
    """Create (201 with the object) and edit (PUT, PATCH) in one transaction each."""

    http_method_names = ["get", "head", "post", "put", "patch"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = serializer.save()
        return self.respond(instance, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = serializer.save()
        return self.respond(instance)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
