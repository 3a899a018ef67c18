"""Sign-in throttling (django-axes) for every sign-in made through a request, and the
password-reset page that answers the same for every address."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone, translation


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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, except that the request only records the address and queues the
    e-mail (`monitoring.password_reset`): the same work, and the same answer, whether an
    account has the address or not. Looking the account up and sending happen in the worker."""

    def form_valid(self, form: Any) -> HttpResponse:
        from monitoring.password_reset import password_reset_request

        password_reset_request(
            email=form.cleaned_data["email"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            now=timezone.now(),
        )
        return HttpResponseRedirect(self.get_success_url())
