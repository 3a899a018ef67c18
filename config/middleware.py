"""Small middleware of our own: the health check, the user's time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

HEALTH_PATHS = frozenset({"/healthz", "/healthz/"})


class HealthzMiddleware:
    """Answer `/healthz` with 200 "ok" before anything else runs.

    It sits first in MIDDLEWARE so that the container's HEALTHCHECK (which asks for
    127.0.0.1, a host production's ALLOWED_HOSTS need not list) gets its answer before the
    host check, HTTPS redirects, sessions or the database are involved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in HEALTH_PATHS and request.method in ("GET", "HEAD"):
            return HttpResponse("ok", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def saved_settings(user) -> tuple[str, str]:
    """(time zone, language) a signed-in user saved in their settings, or ("", ""). Read with
    the user by `config.auth.UserBackend`; else one query, whose answer (none included) Django
    keeps on the user object, which lives as long as the request."""
    if user is None or not user.is_authenticated:
        return ("", "")
    try:
        saved = user.alert_preference
    except ObjectDoesNotExist:
        return ("", "")
    return (saved.time_zone or "", saved.language or "")


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The time zone a signed-in user chose in their alert settings, else UTC."""
    name = saved_settings(user)[0] or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class UserTimeZoneMiddleware:
    """Show and read dates and times in the signed-in user's time zone for this request.

    Runs after AuthenticationMiddleware. API requests authenticated by token are anonymous
    here and stay in UTC, which is what the API speaks anyway.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz = user_time_zone(getattr(request, "user", None))
        request.time_zone = tz  # type: ignore[attr-defined]
        with timezone.override(tz):
            return self.get_response(request)


class UserLanguageMiddleware:
    """Speak the language a signed-in user chose (their stored setting).

    Runs after LocaleMiddleware and AuthenticationMiddleware. Anonymous visitors, and users
    who never chose, keep what LocaleMiddleware found: the language cookie the header's
    switch sets, else the browser's Accept-Language. LocaleMiddleware then names the language
    in Content-Language and varies the response on it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = saved_settings(getattr(request, "user", None))[1]
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
