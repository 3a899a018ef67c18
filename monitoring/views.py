"""The dashboard, each user's alert settings, and the webhooks page for managers."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.errors import DomainError
from core.web import Page, add_errors
from licenses import roles
from licenses import selectors as license_selectors

from . import dashboard, preferences, webhooks
from .forms import AlertSettingsForm, WebhookForm
from .models import WebhookDelivery
from .selectors import webhook_list

# --- dashboard ---------------------------------------------------------------------------------


class Dashboard(Page):
    permission_required = ("shipments.view_shipment", "licenses.view_licenseapplication")

    def get(self, request: HttpRequest) -> HttpResponse:
        body = dashboard.cached_dashboard(user=request.user, now=timezone.now())
        return render(request, "monitoring/dashboard.html", {"body": body})


# --- alert settings ----------------------------------------------------------------------------

ROLE_LABELS = {
    roles.VIEWER: gettext_lazy("Viewer"),
    roles.OFFICER: gettext_lazy("Compliance officer"),
    roles.MANAGER: gettext_lazy("Compliance manager"),
    roles.ADMINISTRATOR: gettext_lazy("Administrator"),
}


class AlertSettings(LoginRequiredMixin, View):
    """Each signed-in user's alert settings: the exporters they watch (among those they may
    see), the flag kinds they get at once, the daily digest and its hour, their time zone and
    their language. Until they save, their role's defaults apply and fill the form."""

    def get(self, request: HttpRequest) -> HttpResponse:
        current = preferences.preference_settings(user=request.user)
        form = AlertSettingsForm(
            user=request.user,
            initial={
                "watch": "all" if current.watch_all else "chosen",
                "watched_exporters": sorted(current.watched_ids),
                "immediate_kinds": list(current.immediate_kinds),
                "digest": current.digest,
                "digest_hour": current.digest_hour,
                "time_zone": current.time_zone,
                "language": current.language
                if current.saved
                else translation.get_language() or settings.LANGUAGE_CODE,
            },
        )
        return self.page(form, current)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AlertSettingsForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                saved = preferences.preference_save(user=request.user, **form.service_kwargs())
            except DomainError as exc:
                add_errors(form, exc)
            else:
                # Say it, and show the next page, in the language just chosen.
                translation.activate(saved.language)
                messages.success(request, _("Your alert settings are saved."))
                response = redirect("alert-settings")
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    saved.language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite="Lax",
                )
                return response
        return self.page(form, preferences.preference_settings(user=request.user))

    def page(self, form: AlertSettingsForm, current: preferences.Settings) -> HttpResponse:
        user = self.request.user
        role = roles.role_of(user)
        return render(
            self.request,
            "monitoring/alert_settings.html",
            {
                "form": form,
                "saved": current.saved,
                "role": ROLE_LABELS.get(role or "", ""),
                "email": getattr(user, "email", ""),
                "limited": license_selectors.visible_exporter_ids(user) is not None,
            },
        )


# --- webhooks ----------------------------------------------------------------------------------

RECENT_DELIVERIES = 10


class Webhooks(Page):
    """A manager's webhooks (an administrator's: everyone's), each with its recent deliveries,
    and a form to add one. The API (`/api/v1/webhooks/`) does the rest."""

    permission_required = "monitoring.view_webhook"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(WebhookForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("monitoring.add_webhook"):
            raise PermissionDenied
        form = WebhookForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                webhooks.webhook_create(
                    owner=request.user,
                    url=data["url"],
                    secret=data["secret"],
                    events=data["events"],
                    exporters=list(data["exporters"]),
                    now=timezone.now(),
                )
            messages.success(
                request, _("The webhook is added. Keep its secret: it is not shown again.")
            )
            return redirect("webhooks")
        return self.page(form)

    def page(self, form: WebhookForm) -> HttpResponse:
        hooks = list(webhook_list(user=self.request.user).prefetch_related("exporters"))
        for hook in hooks:
            hook.recent = list(  # type: ignore[attr-defined]
                WebhookDelivery.objects.filter(webhook=hook)
                .prefetch_related("attempt_log")
                .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
            )
            for delivery in hook.recent:  # type: ignore[attr-defined]
                tries = list(delivery.attempt_log.all())
                delivery.tries, delivery.last_try = len(tries), tries[-1] if tries else None
        return render(
            self.request,
            "monitoring/webhooks.html",
            {
                "form": form,
                "webhooks": hooks,
                "may_add": self.request.user.has_perm("monitoring.add_webhook"),
            },
        )
