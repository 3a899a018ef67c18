"""Sign-in throttling (django-axes) for every sign-in made through a request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every sign-in from outside comes with a request (the sign-in page, the admin's, the API's
    token endpoint) and is counted and throttled. Code that calls `authenticate()` without a
    request (Django's test client `login()`, a shell) is not an attempt from outside: instead
    of failing with an error, this backend steps aside and lets ModelBackend answer.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
