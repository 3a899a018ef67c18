"""Serializer pieces every resource uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.countries import COUNTRY_CODES


class StrictMixin:
    """Fields the API does not know answer 400, each named; read-only ones are ignored."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: _("Unknown field.") for key in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the objects the requesting user may see (through a selector): another
    exporter's object answers 400 naming the field, as if it did not exist."""

    def __init__(self, selector: Callable[..., QuerySet], **kwargs: Any) -> None:
        self.selector = selector
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", selector(user=None))
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.selector(user=getattr(request, "user", None))


@extend_schema_field({"type": "string", "enum": COUNTRY_CODES})
class CountryCodeField(serializers.CharField):
    """A country code the service checks (its own message): the schema gives the codes."""
