"""The base of every API view: strict JSON in, JSON out, permissions by action, keyset pages,
filters and search, NUL characters refused, writes in one transaction each, `Idempotency-Key`
on POSTs and `ETag`/`If-Match` on objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpResponseBase
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
from . import etags, idempotency
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

    # Whether a POST may carry `Idempotency-Key` (core.api.idempotency).
    idempotent = True

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """DRF's dispatch, with the handler run through `guarded`."""
        # The API speaks UTC whoever asks (pages show a signed-in user's own time zone).
        with timezone.override(dt.UTC):
            self.args = args
            self.kwargs = kwargs
            request = self.initialize_request(request, *args, **kwargs)
            self.request = request
            self.headers = self.default_response_headers
            try:
                self.initial(request, *args, **kwargs)
                handler = getattr(self, (request.method or "").lower())
                response = self.guarded(handler, request, *args, **kwargs)
            except Exception as exc:
                response = self.handle_exception(exc)
            response = self.finalize_response(request, response, *args, **kwargs)
            self.response = response  # type: ignore[assignment]
            return response

    def guarded(self, handler: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        """The handler, and when the request carries `Idempotency-Key` (a POST) or `If-Match`
        (a write to one object), the handler in one transaction with the key's row and the
        precondition's row lock (see core.api.idempotency and core.api.etags)."""
        key = None
        if request.method == "POST" and self.idempotent and request.user.is_authenticated:
            key = idempotency.key_of(request)
        wanted = etags.if_match(request, self)
        if key is None and wanted is None:
            return handler(request, *args, **kwargs)
        fingerprint = idempotency.fingerprint(request) if key is not None else ""
        with transaction.atomic():
            row = None
            if key is not None:
                claimed = idempotency.claim(
                    user=request.user, key=key, fingerprint=fingerprint, now=self.now
                )
                if isinstance(claimed, HttpResponseBase):
                    return claimed
                row = claimed
            try:
                with transaction.atomic():
                    if wanted is not None:
                        etags.check(self, wanted)
                    response = handler(request, *args, **kwargs)
            except Exception as exc:
                # Its savepoint is rolled back: a refusal changes nothing. An exception that
                # is no API error goes on up, and the key goes with the rollback.
                response = self.handle_exception(exc)
            if row is not None:
                if not idempotency.keeps(response):  # 409, 412, 5xx: the key is released
                    transaction.set_rollback(True)
                    return response
                response = self.finalize_response(request, response, *args, **kwargs)
                if hasattr(response, "render"):
                    response.render()
                idempotency.store(row, response)
            return response

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """DRF's, then the object's ETag (core.api.etags): possibly a 304 for a GET."""
        response = super().finalize_response(request, response, *args, **kwargs)
        return etags.tag(self, request, response)

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
