"""Small middleware of our own: the health check and the user's time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

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


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The time zone a signed-in user chose in their alert settings, else UTC."""
    name = "UTC"
    if user is not None and user.is_authenticated:
        from shipments.models import AlertPreference

        chosen = (
            AlertPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
        )
        name = chosen or "UTC"
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
