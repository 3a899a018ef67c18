"""What a request answers when it fails outside a view's own handling: under `/api/` the SPEC's
error body `{"code", "detail", "fields"}`, elsewhere a page in the visitor's language.

Django calls these (config/urls.py names them) for what nothing else turned into a response:

- `bad_request`: 400, or 413 (`too_large`) for a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` or
  with too many fields or files;
- `permission_denied` (403), `page_not_found` (404), and `csrf_failure` (403, a form that
  expired or came from elsewhere);
- `server_error`: an outage, the database or the broker out of reach (`OUTAGES`), answers 503
  (`unavailable`) with `Retry-After`; anything else 500 (`server_error`). Django has logged the
  exception with its traceback by then; the answer never shows it.

The 500 and 503 pages are standalone templates rendered without the request's context
processors (no user, no session, no messages), so they render with the database down. The
other pages extend the site's base, which reads the user: should that fail too, Django hands
the failure to `server_error`.
"""

from __future__ import annotations

import sys

import kombu.exceptions
import redis.exceptions
from django import db
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from .api.errors import error_body

# config/urls.py mounts the API here.
API_PREFIX = "/api/"

# An outage: the request needed a server that did not answer. It may pass in a moment, so the
# answer is 503 with a Retry-After, not a 500 that says we have a bug.
OUTAGES: tuple[type[BaseException], ...] = (
    db.OperationalError,  # PostgreSQL down, refusing connections, a lock or statement timeout
    db.InterfaceError,  # the connection was closed under us
    kombu.exceptions.OperationalError,  # the broker, when publishing a task
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
RETRY_AFTER_SECONDS = 30

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def language_of(request: HttpRequest) -> str:
    """The language the request speaks: what LocaleMiddleware (and the user's stored choice)
    found, or, for a failure before they ran, the cookie or Accept-Language (no query)."""
    return getattr(request, "LANGUAGE_CODE", "") or translation.get_language_from_request(request)


def _json(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(code, detail), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    too_large = isinstance(exception, TOO_LARGE)
    status = 413 if too_large else 400
    with translation.override(language_of(request)):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if is_api(request):
            if too_large:
                detail = _(
                    "The request is too large: send at most %(limit)s of data, "
                    "or fewer fields, at a time."
                ) % {"limit": limit}
                return _json(status, "too_large", detail)
            return _json(status, "bad_request", _("The request could not be understood."))
        return render(request, "400.html", {"too_large": too_large, "limit": limit}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    with translation.override(language_of(request)):
        if is_api(request):
            return _json(
                403, "permission_denied", _("You do not have permission to perform this action.")
            )
        message = str(exception) if exception is not None and exception.args else ""
        return render(request, "403.html", {"exception": message}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its valid CSRF token: usually a page left open across a sign-out or
    for very long. (API calls check CSRF in DRF and answer in the error body.)"""
    with translation.override(language_of(request)):
        return render(request, "403.html", {"csrf": True}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    with translation.override(language_of(request)):
        if is_api(request):
            return _json(404, "not_found", _("No such endpoint. API URLs end with a slash."))
        return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Called by Django while it handles the exception (within its `except` block), which is
    how the exception itself is known here."""
    outage = isinstance(sys.exc_info()[1], OUTAGES)
    status = 503 if outage else 500
    with translation.override(language_of(request)):
        if is_api(request):
            if outage:
                response: HttpResponse = _json(
                    status,
                    "unavailable",
                    _(
                        "The service is unavailable for a moment: a database or queue it needs "
                        "cannot be reached. Try again shortly."
                    ),
                )
            else:
                response = _json(
                    status,
                    "server_error",
                    _(
                        "Something went wrong on our side and it has been logged. Try again, "
                        "and tell an administrator if it keeps happening."
                    ),
                )
        else:
            # No request: the context processors (the user, the session) would ask the database.
            html = loader.render_to_string(
                "503.html" if outage else "500.html", {"retry_after": RETRY_AFTER_SECONDS}
            )
            response = HttpResponse(html, status=status)
    if outage:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
