"""Sign-in throttling (django-axes) for every sign-in made through a request, and the
password-reset page that answers the same for every address."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
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


class UserBackend(ModelBackend):
    """Django's ModelBackend, reading less on every request: a signed-in user comes with what
    they may see (their profile) and their saved time zone and language (their alert
    settings) in the one query that reads the user, and their own and their groups'
    permissions come in one query (ModelBackend reads them in two). That was four queries a
    page before the page's own, and a fifth of a detail page's time.

    It signs users in as ModelBackend does, and a session records it. ModelBackend stays
    after it in AUTHENTICATION_BACKENDS: sessions begun before it was named there carry
    ModelBackend's name and keep working (reading as before)."""

    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            user = model._default_manager.select_related("profile", "alert_preference").get(
                pk=user_id
            )
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):  # ModelBackend's cache: it reads it too
            user_obj._perm_cache = permission_names(user_obj)
        return user_obj._perm_cache


def permission_names(user: Any) -> set[str]:
    """Every permission of an active user ("app_label.codename"): their own and their
    groups', or all of them for a superuser, in one query."""
    names = ("content_type__app_label", "codename")
    if user.is_superuser:
        rows = Permission.objects.values_list(*names)
    else:
        own = Permission.objects.filter(user=user).values_list(*names).order_by()
        rows = own.union(Permission.objects.filter(group__user=user).values_list(*names).order_by())
    return {f"{app_label}.{codename}" for app_label, codename in rows}


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
