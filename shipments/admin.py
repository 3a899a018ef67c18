"""Back-office for consignees, shipments, flags and the alert outbox."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.admin import ScopedAdmin
from licenses.errors import DomainError
from licenses.models import Event

from . import services
from .models import (
    Alert,
    AlertAttempt,
    AlertPreference,
    Consignee,
    Digest,
    Flag,
    ScanSettings,
    Shipment,
)


class AdminRefusal(Exception):
    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShipmentEventInline(ReadOnlyInline):
    model = Event
    fk_name = "shipment"
    ordering = ["occurred_at", "id"]
    fields = (
        "occurred_at",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "recorded_at",
        "note",
    )
    readonly_fields = fields


@admin.register(Consignee)
class ConsigneeAdmin(ScopedAdmin):
    list_display = ["name", "exporter", "country", "end_use"]
    list_filter = ["country"]
    list_select_related = ["exporter"]
    search_fields = ["name", "exporter__name"]
    autocomplete_fields = ["exporter"]


@admin.register(Shipment)
class ShipmentAdmin(ScopedAdmin):
    list_display = [
        "reference",
        "exporter",
        "destination",
        "item",
        "quantity",
        "unit",
        "planned_ship_date",
        "status",
        "application",
    ]
    list_filter = ["status", "destination", "item__authority"]
    list_select_related = ["exporter", "item", "application"]
    search_fields = ["reference", "exporter__name", "consignee__name", "application__reference"]
    autocomplete_fields = ["exporter", "item", "consignee", "application"]
    date_hierarchy = "planned_ship_date"
    readonly_fields = ["status", "unit", "shipped_at", "delivered_at", "created_at", "updated_at"]
    inlines = [ShipmentEventInline]

    MOVE_LABELS = {
        "ship": _("Ship"),
        "deliver": _("Deliver"),
        "hold": _("Hold"),
        "release": _("Release"),
        "cancel": _("Cancel"),
    }

    def get_urls(self):
        from django.urls import path

        custom = [
            path(
                "<path:object_id>/move/<str:move>/",
                self.admin_site.admin_view(self.move_view),
                name="shipments_shipment_move",
            )
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        can_move = request.user.has_perm("shipments.move_shipment")
        legal = (
            [(m, self.MOVE_LABELS[m]) for m in services.legal_shipment_moves(obj)]
            if obj is not None and can_move
            else []
        )
        extra_context = {**(extra_context or {}), "legal_moves": legal, "can_move": can_move}
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request, object_id, move):
        from licenses import admin_moves

        return admin_moves.run_move_view(
            self,
            request,
            object_id,
            move,
            permission="shipments.move_shipment",
            legal=services.legal_shipment_moves,
            forms_by_move={"correct": admin_moves.CorrectForm},
            perform=_perform_shipment_move,
        )

    def save_model(self, request, obj, form, change):
        # Creation and edits go through the services: state, drawdown and events.
        now = timezone.now()
        try:
            if not change:
                fields = {f: form.cleaned_data[f] for f in form.cleaned_data}
                created = services.shipment_create(now=now, actor=request.user, **fields)
                obj.pk, obj.status = created.pk, created.status
            else:
                original = Shipment.objects.get(pk=obj.pk)
                fields = {f: form.cleaned_data[f] for f in form.changed_data}
                services.shipment_update(shipment=original, now=now, actor=request.user, **fields)
        except DomainError as exc:
            raise AdminRefusal(exc) from exc

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AdminRefusal as refusal:
            # The transaction was rolled back: nothing was saved. Say why, stay on the form.
            error = refusal.error
            details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
            messages.error(request, f"{error.message} {details}".strip())
            return HttpResponseRedirect(request.get_full_path())


def _perform_shipment_move(shipment: Shipment, move: str, **kwargs: Any) -> Shipment:
    if move == "correct":
        return services.shipment_correct(shipment=shipment, **kwargs)
    return getattr(services, f"shipment_{move}")(shipment=shipment, **kwargs)


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
