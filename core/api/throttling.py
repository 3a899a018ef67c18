"""Throttles whose rates are read from settings at request time (DRF reads them at import),
so that `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` can change under test and per deployment."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)


class _FromSettings:
    scope: str | None

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope or "")


class AnonThrottle(_FromSettings, AnonRateThrottle):
    pass


class UserThrottle(_FromSettings, UserRateThrottle):
    pass


class LoginThrottle(_FromSettings, ScopedRateThrottle):
    """Sign-in attempts per client address (`throttle_scope = "login"` on the view)."""


class BadTokenThrottle(_FromSettings, SimpleRateThrottle):
    """Requests with a wrong API token, per client address (`ThrottledTokenAuthentication`).

    Unlike the others it is asked by the authentication, before any view, and counts only what
    `record` is told: `exceeded` looks at the failures so far and counts nothing, since a right
    token must not use up the quota."""

    scope = "bad_token"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def throttle_success(self) -> bool:
        return True

    def exceeded(self, request: Any) -> bool:
        """Whether the address has used up its failures (`wait` then says for how long)."""
        return not self.allow_request(request, None)  # type: ignore[arg-type]  # no view yet

    def record(self) -> None:
        """Count one failure (after `exceeded`, which read the failures so far)."""
        if self.rate is not None:
            SimpleRateThrottle.throttle_success(self)
