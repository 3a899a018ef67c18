"""One error body for every API error: `{"code": …, "detail": …, "fields": {…}}`.

`code` is a stable machine-readable word, `detail` a sentence for a person and `fields` names
each bad field with what is wrong with it (empty when no field is to blame).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

NON_FIELD_KEYS = ("non_field_errors", "__all__")


def error_body(code: str, detail: str, fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "detail": str(detail),
        "fields": {str(k): str(v) for k, v in (fields or {}).items()},
    }


def _messages(value: Any) -> list[str]:
    """Every message in a (possibly nested) DRF error detail, nested positions named."""
    if isinstance(value, Mapping):
        out = []
        for key, inner in value.items():
            for message in _messages(inner):
                out.append(f"{key}: {message}" if isinstance(key, int) else message)
        return out
    if isinstance(value, list | tuple):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def _validation_body(detail: Any) -> dict[str, Any]:
    fields: dict[str, str] = {}
    general: list[str] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in NON_FIELD_KEYS:
                general += _messages(value)
            else:
                fields[str(key)] = " ".join(_messages(value))
    else:
        general += _messages(detail)
    if general:
        message = " ".join(general)
    elif len(fields) == 1:
        name, text = next(iter(fields.items()))
        message = f"{name}: {text}"
    else:
        message = _("Invalid input: %(fields)s.") % {"fields": ", ".join(sorted(fields))}
    return error_body("invalid", message, fields)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (it keeps `WWW-Authenticate` and `Retry-After`), reshaped; domain errors
    (the only errors services raise) are mapped first."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.http_status)
    if isinstance(exc, IntegrityError):
        # Validation ran first, so a constraint that still fails lost a race with another write.
        return Response(
            error_body(
                "conflict", _("The change clashes with one made meanwhile; reload and try again.")
            ),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        if not isinstance(code, str):
            code = exc.default_code
        response.data = error_body(code, " ".join(_messages(exc.detail)))
    return response


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any URL under /api/ that names no endpoint (note that every endpoint ends in a slash)."""
    return JsonResponse(
        error_body("not_found", _("No such endpoint. API URLs end with a slash.")), status=404
    )


class ErrorSerializer(serializers.Serializer):
    """The error body, for the schema."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # `fields` is a property of every serializer, so the field is declared here.
        return {
            "code": serializers.CharField(help_text="A stable word, e.g. `illegal_move`."),
            "detail": serializers.CharField(help_text="What went wrong, for a person."),
            "fields": serializers.DictField(
                child=serializers.CharField(),
                help_text="Each bad field with what is wrong with it; empty when none is.",
            ),
        }
