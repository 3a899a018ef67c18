"""Keyset ("cursor") pagination over a fixed set of orderings, each ending in a unique field.

A view names its orderings, e.g. `{"-id": ("-id",), "due_at": ("due_at", "id")}`; `?ordering=`
picks one (the first is the default). A page is the `page_size` rows that come after (or,
going back, before) the row a cursor names. The cursor holds that row's values of the ordering
fields, so a page costs one indexed query whatever its depth, and rows inserted meanwhile
neither repeat nor vanish.

Nulls sort as the greatest value (PostgreSQL's default): ascending puts them last, descending
first. Every comparison below follows that rule, so nullable fields (`due_at`) page correctly.

Lists answer `{"next": url|null, "previous": url|null, "results": [...]}`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Key:
    name: str
    descending: bool

    @classmethod
    def parse(cls, spec: str) -> Key:
        return cls(spec.lstrip("-"), spec.startswith("-"))


def _after(key: Key, value: Any, *, forward: bool) -> Q | None:
    """Rows strictly after `value` on one key (before it when not `forward`); None: no row."""
    greater = forward != key.descending  # do we want bigger values?
    if value is None:
        # Null is the greatest value: nothing is bigger, every non-null is smaller.
        return None if greater else Q(**{f"{key.name}__isnull": False})
    if greater:
        return Q(**{f"{key.name}__gt": value}) | Q(**{f"{key.name}__isnull": True})
    return Q(**{f"{key.name}__lt": value})


def _equal(key: Key, value: Any) -> Q:
    if value is None:
        return Q(**{f"{key.name}__isnull": True})
    return Q(**{key.name: value})


def position_filter(keys: Sequence[Key], values: Sequence[Any], *, forward: bool) -> Q:
    """Lexicographic "after (or before) this row" over several keys."""
    condition = Q(pk__in=[])
    for i, key in enumerate(keys):
        step = _after(key, values[i], forward=forward)
        if step is None:
            continue
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            step &= _equal(earlier, value)
        condition |= step
    return condition


def order_by(keys: Sequence[Key], *, forward: bool) -> list[Any]:
    out = []
    for key in keys:
        descending = key.descending == forward
        field = F(key.name)
        out.append(field.desc(nulls_first=True) if descending else field.asc(nulls_last=True))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


class KeysetPagination(BasePagination):
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"

    def __init__(self) -> None:
        self.next_url: str | None = None
        self.previous_url: str | None = None

    # --- reading the request -------------------------------------------------------------

    @staticmethod
    def orderings(view: Any) -> dict[str, tuple[str, ...]]:
        return getattr(view, "orderings", None) or {"-id": ("-id",)}

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError(
                {"page_size": _("Give a whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}}
            )
        return size

    def _ordering(self, request: Request, view: Any) -> str:
        choices = self.orderings(view)
        name = request.query_params.get(self.ordering_query_param) or next(iter(choices))
        if name not in choices:
            raise exceptions.ValidationError(
                {"ordering": _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}}
            )
        return name

    def _cursor(self, request: Request, ordering: str, model: type[Model], keys: list[Key]):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        invalid = exceptions.ValidationError({"cursor": _("Invalid cursor.")})
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=="))
            if not isinstance(data, dict) or data.get("o") != ordering:
                raise invalid
            raw_values = data["v"]
            if not isinstance(raw_values, list) or len(raw_values) != len(keys):
                raise invalid
            values = []
            for key, value in zip(keys, raw_values, strict=True):
                field: Any = model._meta.get_field(key.name)
                values.append(None if value is None else field.to_python(value))
            return values, bool(data.get("r"))
        except (ValueError, KeyError, TypeError, binascii.Error, DjangoValidationError) as exc:
            raise invalid from exc

    def _encode(self, ordering: str, keys: list[Key], row: Model, *, reverse: bool) -> str:
        values = [_jsonable(getattr(row, key.name)) for key in keys]
        raw = json.dumps({"o": ordering, "v": values, "r": reverse}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    # --- paging ---------------------------------------------------------------------------

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None):
        self.request = request
        size = self._page_size(request)
        ordering = self._ordering(request, view)
        keys = [Key.parse(spec) for spec in self.orderings(view)[ordering]]
        cursor = self._cursor(request, ordering, queryset.model, keys)
        backwards = cursor is not None and cursor[1]
        qs = queryset.order_by(*order_by(keys, forward=not backwards))
        if cursor is not None:
            qs = qs.filter(position_filter(keys, cursor[0], forward=not backwards))
        rows = list(qs[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next = (not backwards and more) or backwards
        has_previous = (backwards and more) or (not backwards and cursor is not None)
        url = request.build_absolute_uri()
        self.next_url = self.previous_url = None
        if rows and has_next:
            self.next_url = replace_query_param(
                url, self.cursor_query_param, self._encode(ordering, keys, rows[-1], reverse=False)
            )
        if rows and has_previous:
            self.previous_url = replace_query_param(
                url, self.cursor_query_param, self._encode(ordering, keys, rows[0], reverse=True)
            )
        elif not rows and cursor is not None:
            # Past the end (or the start): offer the way back to the first page.
            self.previous_url = remove_query_param(url, self.cursor_query_param)
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.next_url, "previous": self.previous_url, "results": data})

    # --- schema -----------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null on the last."},
                "previous": {**link, "description": "The previous page, or null on the first."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        choices = list(self.orderings(view))
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
            {
                "name": self.ordering_query_param,
                "in": "query",
                "required": False,
                "description": "Sort order; `-` means descending. Ties are broken by id.",
                "schema": {"type": "string", "enum": choices, "default": choices[0]},
            },
        ]
