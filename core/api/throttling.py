"""Throttles whose rates are read from settings at request time (DRF reads them at import),
so that `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` can change under test and per deployment."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


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
