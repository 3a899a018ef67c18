"""The OpenAPI schema: drf-spectacular's, plus the error responses every operation can give,
each with the one error body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

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
