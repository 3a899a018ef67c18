"""The language switch in every page's header."""

from __future__ import annotations

from contextlib import suppress

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from core.errors import DomainError


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's `set_language` (the cookie, and back to a safe `next`), and for a signed-in
    user also their stored setting, which e-mails follow and which wins on every device."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated:
        from monitoring.preferences import preference_set_language

        # An unknown language changes nothing, as in Django's view.
        with suppress(DomainError):
            preference_set_language(user=request.user, language=language)
    return response
