"""The OpenAPI schema: drf-spectacular's, plus the error responses every operation can give,
each with the one error body."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.countries import CountryCodeValidator

from . import constraints
from .errors import ErrorSerializer

ERRORS = {
    400: "Invalid input: the body, a filter or a query parameter; `fields` names each culprit.",
    401: "Missing, invalid or revoked credentials.",
    403: "The caller's role does not allow this.",
    404: "No such object, or one the caller may not see.",
    406: "The `Accept` header asks for something other than JSON.",
    409: "An illegal move, or a change that lost a race with another one.",
    413: "The body is larger than the server accepts (`DATA_UPLOAD_MAX_MEMORY_SIZE`).",
    415: "The body is not JSON.",
    429: "Too many requests; `Retry-After` says when to try again.",
    500: "Something went wrong on the server; it is logged, and the body says no more.",
    503: "The database or the queue cannot be reached for a moment; `Retry-After` says when "
    "to try again.",
}


class ApiAutoSchema(AutoSchema):
    def _requires_auth(self) -> bool:
        permissions = self.view.get_permissions() if hasattr(self.view, "get_permissions") else []
        return not any(isinstance(p, AllowAny) for p in permissions)

    def error_codes(self) -> list[int]:
        codes = [400, 406, 429, 500, 503]
        if self._requires_auth():
            codes += [401, 403]
        if "{" in self.path:
            codes.append(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes += [413, 415]
            if getattr(self.view, "may_conflict", False):
                codes.append(409)
        return sorted(codes)

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        """The field's schema with the constraints its validation applies (see
        core.api.constraints): country codes, decimal strings, text."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict) or "$ref" in schema:
            return schema
        years = getattr(getattr(field, "parent", None), "schema_years", {}).get(
            getattr(field, "field_name", None)
        )
        if years:
            schema["x-years"] = years
        if any(isinstance(v, CountryCodeValidator) for v in getattr(field, "validators", [])):
            schema.pop("minLength", None)
            schema["enum"] = constraints.COUNTRY_CODES + (
                [""] if getattr(field, "allow_blank", False) else []
            )
        elif isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            pattern = constraints.decimal_pattern(
                field.max_digits, field.decimal_places, constraints.minimum_of(field)
            )
            if pattern:
                schema["pattern"] = pattern
        elif (
            direction == "request"
            and type(field) is serializers.CharField
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            blank = field.allow_blank or not field.trim_whitespace
            schema["pattern"] = constraints.ANY_TEXT if blank else constraints.SOME_TEXT
        return schema

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        """A serializer's rule across its fields that a schema can state (`schema_any_of`:
        at least one of three fields; `schema_one_of`: one or the other, not both) is stated
        on its request component."""
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        for name in ("any_of", "one_of"):
            branches = getattr(serializer, f"schema_{name}", None)
            if branches and direction == "request":
                # (as `anyOf`/`oneOf` once drf-spectacular has named the enums: truthful_dates)
                schema[f"x-{name.replace('_', '-')}"] = branches
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            key = str(code)
            if key not in responses:
                responses[key] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERRORS[code]),
                    key,
                    direction=direction,
                )
        return responses


def strict_requests(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: request bodies admit no property they do not name (unknown fields
    answer 400), which the schema says with `additionalProperties: false`."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


def _dated(node: Any, today: Any) -> None:
    if isinstance(node, dict):
        if "x-any-of" in node:
            node["anyOf"] = node.pop("x-any-of")
        if "x-one-of" in node:
            node["oneOf"] = node.pop("x-one-of")
        marker = node.pop("x-years", None)
        if marker is not None:
            first, last = constraints.day_bounds(marker, today)
            if node.get("format") == "date-time":
                node["pattern"] = constraints.moment_pattern(
                    first, last, offset_required=node.pop("x-offset-required", True)
                )
            else:
                node["pattern"] = constraints.day_pattern(first, last)
        for value in node.values():
            _dated(value, today)
    elif isinstance(node, list):
        for value in node:
            _dated(value, today)


def truthful_dates(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: days and moments the API bounds by today (a move is never in
    the future, a shipment is never planned in the past) get a pattern naming the days
    allowed, from today (UTC); a serializer's `schema_any_of` becomes `anyOf` (`oneOf`); free-text
    query parameters say they take no NUL character (answered 400)."""
    _dated(result, timezone.now().date())
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(
                    schema
                ):
                    schema["pattern"] = constraints.ANY_TEXT
    return result
