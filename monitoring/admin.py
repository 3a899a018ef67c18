"""Back-office for flags, the alert outbox, digests, alert preferences and the scan's settings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyInline
from licenses.admin import ScopedAdmin

from .models import Alert, AlertAttempt, AlertPreference, Digest, Flag, ScanSettings


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


class AlertAttemptInline(ReadOnlyInline):
    model = AlertAttempt
    fk_name = "alert"
    fields = ("at", "ok", "error")
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(ScopedAdmin):
    scope_field = "flag__exporter"
    list_display = [
        "flag",
        "recipient",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "flag__kind"]
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

    @admin.action(description=_("Send again at the next sweep (unsent alerts only)"))
    def retry_now(self, request: HttpRequest, queryset: Any) -> None:
        # Never a sent alert: delivery does not repeat what is recorded as sent.
        count = queryset.exclude(state=Alert.State.SENT).update(
            state=Alert.State.PENDING, next_attempt_at=timezone.now()
        )
        self.message_user(request, _("%(count)d alert(s) will be sent again.") % {"count": count})


class DigestAttemptInline(ReadOnlyInline):
    model = AlertAttempt
    fk_name = "digest"
    fields = ("at", "ok", "error")
    readonly_fields = fields


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["user", "local_date", "sent_at", "attempts"]
    list_filter = ["local_date"]
    readonly_fields = ["user", "local_date", "created_at", "sent_at", "attempts", "message_id"]
    inlines = [DigestAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "watch_all", "digest", "digest_hour", "time_zone", "language"]
    filter_horizontal = ["watched_exporters"]


@admin.register(ScanSettings)
class ScanSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "due_soon_working_days", "expiring_within_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ScanSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
