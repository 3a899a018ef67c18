"""The OpenAPI schema: drf-spectacular's, plus the error responses every operation can give,
each with the one error body, and the headers of retries and concurrency: `Idempotency-Key`
on POSTs, `If-Match` on writes to an object, `If-None-Match` and `ETag` on its reads."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
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
    409: "An illegal move, or a change that lost a race with another one; or "
    "(`idempotency_in_progress`) a request with the same `Idempotency-Key` is still being "
    "processed: nothing changed, retry later with the same key.",
    413: "The body is larger than the server accepts (`DATA_UPLOAD_MAX_MEMORY_SIZE`).",
    412: "`precondition_failed`: the object has changed since the ETag sent in `If-Match` "
    "was read; nothing changed.",
    415: "The body is not JSON.",
    422: "`idempotency_mismatch`: this `Idempotency-Key` was used with a different request "
    "(method, path or body); nothing changed.",
    429: "Too many requests; `Retry-After` says when to try again.",
    500: "Something went wrong on the server; it is logged, and the body says no more.",
    503: "The database or the queue cannot be reached for a moment; `Retry-After` says when "
    "to try again.",
}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    # Printable ASCII; HTTP drops spaces around a header's value, so none are at its ends.
    pattern=r"^[!-~]([ -~]{0,253}[!-~])?$",
    description=(
        "Makes a retry safe: the first request with a key is processed; a repeat by the same "
        "user with the same key within 24 hours answers the first response again (with "
        "`Idempotent-Replayed: true`) and changes nothing; the same key with a different "
        "request answers 422 `idempotency_mismatch`, and while the first is still being "
        "processed 409 `idempotency_in_progress`."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The object's `ETag` as last read (or `*`): when it has changed since, the write "
        "answers 412 `precondition_failed` and changes nothing."
    ),
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The object's `ETag` as last read: 304 with no body while it is unchanged.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The object's version as shown here; send it back in `If-Match`.",
)


class ApiAutoSchema(AutoSchema):
    def _requires_auth(self) -> bool:
        permissions = self.view.get_permissions() if hasattr(self.view, "get_permissions") else []
        return not any(isinstance(p, AllowAny) for p in permissions)

    def _takes_idempotency_key(self) -> bool:
        return self.method == "POST" and getattr(self.view, "idempotent", False)

    def _takes_if_match(self) -> bool:
        return self.method in ("PUT", "PATCH", "POST") and bool(getattr(self.view, "detail", False))

    def _is_retrieve(self) -> bool:
        return getattr(self.view, "action", None) == "retrieve"

    def _answers_the_object(self) -> bool:
        """Whether the 200/201 body is the view's object (so it carries its `ETag`), as
        `core.api.etags.shows_the_object` decides for a real answer."""
        action = getattr(self.view, "action", None)
        if action in ("retrieve", "create", "update", "partial_update"):
            return True
        if not (self.method == "POST" and getattr(self.view, "detail", False)):
            return False
        own = getattr(self.view, "serializer_class", None)
        shown = self.get_response_serializers()
        if isinstance(shown, dict):
            shown = shown.get(200, shown.get(201))
        shown = getattr(shown, "response", shown)  # an OpenApiResponse's serializer
        return own is not None and (shown is own or isinstance(shown, own))

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._takes_idempotency_key():
            parameters.append(IDEMPOTENCY_KEY)
        if self._takes_if_match():
            parameters.append(IF_MATCH)
        if self._is_retrieve():
            parameters.append(IF_NONE_MATCH)
        if self._answers_the_object():
            parameters.append(ETAG)
        return parameters

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
        if self._takes_idempotency_key():
            codes += [409, 422]
        if self._takes_if_match():
            codes.append(412)
        return sorted(set(codes))

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
        if self._is_retrieve() and "304" not in responses:
            responses["304"] = {
                "description": "Not modified: `If-None-Match` names the current `ETag`."
            }
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
