"""Back-office for flags, the alert outbox, digests, alert preferences, the scan's settings, and
webhooks with their deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import NoDeleteAdmin, ReadOnlyInline
from core.admin_services import ServiceFormAdmin
from licenses.admin import ScopedAdmin

from .alerts import alert_retry
from .models import (
    Alert,
    AlertAttempt,
    AlertPreference,
    Digest,
    Flag,
    PasswordResetRequest,
    ScanSettings,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from .preferences import preference_save
from .selectors import webhook_list
from .webhooks import (
    SECRET_MAX,
    SECRET_MIN,
    new_secret,
    redeliver,
    validate_url,
    webhook_create,
    webhook_delete,
    webhook_update,
)


@admin.register(Flag)
class FlagAdmin(ScopedAdmin):
    list_display = [
        "kind",
        "application",
        "shipment",
        "exporter",
        "raised_at",
        "cleared_at",
        "notified_at",
    ]
    list_filter = ["kind", "cleared_at"]
    list_select_related = ["application", "shipment", "exporter"]
    search_fields = ["application__reference", "shipment__reference"]
    readonly_fields = [
        "application",
        "shipment",
        "exporter",
        "kind",
        "raised_at",
        "cleared_at",
        "notified_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the scan raises flags

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UnfinishedAttemptFilter(admin.SimpleListFilter):
    """Alerts with an attempt that started and never finished: one in its SMTP exchange right
    now, or one whose worker died there (the outcome is unknown; the alert is sent again under
    the same Message-ID once its claim runs out)."""

    title = _("outcome of an attempt")
    parameter_name = "unfinished"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("1", _("started, not finished: outcome unknown"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "1":
            return queryset.filter(
                pk__in=AlertAttempt.objects.filter(
                    alert__isnull=False, state=AlertAttempt.State.STARTED
                ).values("alert_id")
            )
        return queryset


class AlertAttemptInline(ReadOnlyInline):
    model = AlertAttempt
    fk_name = "alert"
    fields = ("at", "state", "resend", "error")
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(NoDeleteAdmin, ScopedAdmin):
    scope_field = "flag__exporter"
    list_display = [
        "flag",
        "recipient",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_attempt",
    ]
    # "not sent: cleared first" (skipped) is one of the states: its flag cleared, or lost its
    # cause, before the alert could be sent; the attempt below says when and why.
    list_filter = ["state", "flag__kind", UnfinishedAttemptFilter]
    list_select_related = ["flag__application", "flag__shipment"]
    search_fields = ["recipient", "flag__application__reference", "flag__shipment__reference"]
    actions = ["retry_now"]
    readonly_fields = [
        "flag",
        "recipient",
        "user",
        "state",
        "created_at",
        "sent_at",
        "attempts",
        "next_attempt_at",
        "message_id",
    ]
    inlines = [AlertAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(last_attempt_at=Max("attempt_log__at"))

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, obj: Alert) -> Any:
        return getattr(obj, "last_attempt_at", None)

    @admin.action(description=_("Send again at the next sweep (unsent alerts only)"))
    def retry_now(self, request: HttpRequest, queryset: Any) -> None:
        result = alert_retry(alerts=queryset, now=timezone.now())
        if result.due:
            self.message_user(
                request, _("%(count)d alert(s) will be sent again.") % {"count": result.due}
            )
        if result.sent:
            self.message_user(
                request,
                _("%(count)d alert(s) were already sent and are not sent again.")
                % {"count": result.sent},
                messages.ERROR,
            )
        if result.skipped:
            self.message_user(
                request,
                _(
                    "%(count)d alert(s) were not sent because their flag cleared first, and are "
                    "never sent."
                )
                % {"count": result.skipped},
                messages.ERROR,
            )


class DigestAttemptInline(ReadOnlyInline):
    model = AlertAttempt
    fk_name = "digest"
    fields = ("at", "state", "resend", "error")
    readonly_fields = fields


@admin.register(Digest)
class DigestAdmin(NoDeleteAdmin):
    list_display = ["user", "local_date", "sent_at", "attempts"]
    list_filter = ["local_date"]
    readonly_fields = ["user", "local_date", "created_at", "sent_at", "attempts", "message_id"]
    inlines = [DigestAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PasswordResetRequest)
class PasswordResetRequestAdmin(NoDeleteAdmin):
    """What became of each address typed on the password-reset page (sent, no account with it,
    too many in an hour, failed with its error), for an administrator answering "I never got
    the e-mail". Read-only: the worker writes these."""

    list_display = ["email", "requested_at", "state", "attempts", "handled_at"]
    list_filter = ["state"]
    search_fields = ["email"]
    readonly_fields = [
        "email",
        "language",
        "requested_at",
        "state",
        "attempts",
        "next_attempt_at",
        "handled_at",
        "error",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AlertPreference)
class AlertPreferenceAdmin(ServiceFormAdmin):
    """Saved through `preference_save`, as on the user's own settings page: a user watches
    only exporters it may see, in a known time zone and language."""

    list_display = ["user", "watch_all", "digest", "digest_hour", "time_zone", "language"]
    filter_horizontal = ["watched_exporters"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user"] if obj is not None else []

    def _save(self, user: Any, data: dict[str, Any]) -> Any:
        return preference_save(
            user=user,
            watch_all=data["watch_all"],
            watched=data.get("watched_exporters") or [],
            immediate_kinds=data.get("immediate_kinds") or [],
            digest=data["digest"],
            digest_hour=data["digest_hour"],
            time_zone=data["time_zone"],
            language=data["language"],
        )

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return self._save(data["user"], data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return self._save(stored.user, data)


@admin.register(ScanSettings)
class ScanSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "due_soon_working_days", "expiring_within_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ScanSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WebhookAdminForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every type."),
    )
    secret = forms.CharField(
        label=_("secret"),
        min_length=SECRET_MIN,
        max_length=SECRET_MAX,
        initial=new_secret,
        help_text=_("Copy it now: it is never shown again."),
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "exporters", "secret", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        validate_url(url)
        return url


@admin.register(Webhook)
class WebhookAdmin(ServiceFormAdmin):
    """Saved through the webhook services; a manager sees only their own, an administrator
    everyone's. The secret is asked for once, when the webhook is added."""

    form = WebhookAdminForm
    deletable = True
    list_display = ["url", "owner", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__username"]
    filter_horizontal = ["exporters"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return webhook_list(user=request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["url", "events", "exporters", "secret", "active"]
        return ["owner", "url", "events", "exporters", "active", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["owner", "created_at"] if obj is not None else []

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        exporters = form.base_fields.get("exporters")
        if exporters is not None:
            from licenses.selectors import exporter_list

            exporters.queryset = exporter_list(user=request.user)  # type: ignore[attr-defined]
        return form

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return webhook_create(
            owner=request.user,
            url=data["url"],
            secret=data["secret"],
            events=data.get("events") or [],
            exporters=list(data.get("exporters") or []),
            active=data["active"],
            now=now,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        webhook_delete(webhook=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for webhook in queryset:
            webhook_delete(webhook=webhook)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return webhook_update(
            webhook=stored,
            url=data["url"],
            events=data.get("events") or [],
            exporters=list(data.get("exporters") or []),
            active=data["active"],
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("at", "ok", "status_code", "error", "duration_ms", "manual")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NoDeleteAdmin):
    """The webhook outbox: read-only, every attempt inline; an action sends again by hand."""

    list_display = ["id", "webhook", "type", "state", "occurred_at", "next_attempt_at"]
    list_filter = ["state", "type"]
    list_select_related = ["webhook"]
    search_fields = ["id", "webhook__url"]
    actions = ["send_again"]
    readonly_fields = [
        "id",
        "webhook",
        "type",
        "event",
        "measure_change",
        "state",
        "occurred_at",
        "created_at",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "body",
    ]
    inlines = [WebhookAttemptInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(webhook__in=webhook_list(user=request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("monitoring.view_webhook")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send again (the same delivery id, a new attempt)"))
    def send_again(self, request: HttpRequest, queryset: Any) -> None:
        if not request.user.has_perm("monitoring.change_webhook"):
            raise PermissionDenied
        now = timezone.now()
        with transaction.atomic():
            for delivery in queryset:
                redeliver(delivery, now=now)
        self.message_user(
            request,
            _("%(count)d delivery(ies) will be sent again.") % {"count": queryset.count()},
        )
