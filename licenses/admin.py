"""The back-office. Every list is scoped through the selectors, state fields are read-only and
the event log can be read but never added to, changed or deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import events, selectors, services
from .errors import DomainError
from .models import (
    Authority,
    CalendarDay,
    ControlledItem,
    Document,
    Event,
    EventKind,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    UserProfile,
    WindowRule,
)

User = get_user_model()


class ScopedAdmin(admin.ModelAdmin):
    """Shows a user only the rows of the exporters it may see."""

    scope_field = "exporter"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.scope(super().get_queryset(request), request.user, self.scope_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "exporter":
            kwargs["queryset"] = selectors.exporter_list(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EventInline(admin.TabularInline):
    model = Event
    fk_name = "application"
    extra = 0
    can_delete = False
    ordering = ["occurred_at", "id"]
    fields = (
        "occurred_at",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "recorded_at",
        "note",
        "data",
        "corrects",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "country",
        "time_zone",
        "window_days",
        "window_unit",
        "clock_starts",
        "acceptance_window_days",
    ]
    list_filter = ["window_unit", "clock_starts", "country"]
    search_fields = ["code", "name"]
    inlines = [CalendarDayInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["authority", "date", "kind", "name"]
    list_filter = ["authority", "kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    autocomplete_fields = ["authority"]


@admin.register(ControlledItem)
class ControlledItemAdmin(admin.ModelAdmin):
    list_display = ["code", "material", "description", "unit", "authority"]
    list_filter = ["authority", "unit"]
    search_fields = ["code", "material", "description"]
    autocomplete_fields = ["authority"]


@admin.register(Exporter)
class ExporterAdmin(ScopedAdmin):
    scope_field = "id"
    list_display = ["name", "registration_number", "country", "contact_list"]
    list_filter = ["country"]
    search_fields = ["name", "registration_number"]

    @admin.display(description=_("compliance contacts"))
    def contact_list(self, obj: Exporter) -> str:
        return ", ".join(obj.contact_emails or [])

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A user limited to some exporters cannot create exporters.
        if selectors.visible_exporter_ids(request.user) is not None:
            return False
        return super().has_add_permission(request)


@admin.register(LicenseApplication)
class LicenseApplicationAdmin(ScopedAdmin):
    list_display = [
        "reference",
        "exporter",
        "authority",
        "destination",
        "license_type",
        "status",
        "due_at",
        "authority_reference",
        "submitted_at",
        "decided_at",
    ]
    list_filter = ["status", "authority", "license_type", "destination"]
    list_select_related = ["exporter", "authority"]
    search_fields = ["reference", "authority_reference", "exporter__name", "license_number"]
    autocomplete_fields = ["exporter", "authority", "items"]
    date_hierarchy = "due_at"
    readonly_fields = [
        "status",
        "submitted_at",
        "accepted_at",
        "due_at",
        "window_days",
        "window_source",
        "decided_at",
        "license_number",
        "valid_until",
        "approved_quantity",
        "approved_value",
        "rejection_reason",
        "drawn_quantity",
        "drawn_value",
        "created_at",
        "updated_at",
    ]
    inlines = [EventInline]
    actions = ["submit_selected", "withdraw_selected"]

    MOVE_LABELS = {
        "submit": _("Submit"),
        "accept": _("Accept"),
        "request_info": _("Request information"),
        "provide_info": _("Information provided"),
        "approve": _("Approve"),
        "reject": _("Reject"),
        "withdraw": _("Withdraw"),
    }

    def get_urls(self):
        from django.urls import path

        custom = [
            path(
                "<path:object_id>/move/<str:move>/",
                self.admin_site.admin_view(self.move_view),
                name="licenses_licenseapplication_move",
            )
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        can_move = request.user.has_perm("licenses.move_licenseapplication")
        extra_context = {
            **(extra_context or {}),
            "can_move": can_move,
            "legal_moves": (
                [(m, self.MOVE_LABELS[m]) for m in services.legal_moves(obj)]
                if obj is not None and can_move
                else []
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request, object_id, move):
        from . import admin_moves

        return admin_moves.run_move_view(
            self,
            request,
            object_id,
            move,
            permission="licenses.move_licenseapplication",
            legal=services.legal_moves,
            forms_by_move={
                "approve": admin_moves.ApproveForm,
                "reject": admin_moves.RejectForm,
                "accept": admin_moves.AcceptForm,
                "correct": admin_moves.CorrectForm,
            },
            perform=_perform_application_move,
        )

    def save_model(self, request, obj, form, change):
        obj.full_clean(exclude=["items"])
        obj.save()

    def save_related(self, request, form, formsets, change):
        # Creation and edits go through the services' bookkeeping: events and due dates.
        before = set(form.instance.items.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        app = form.instance
        now = timezone.now()
        if not change:
            events.created(application=app, now=now, actor=request.user, status=app.status)
        elif form.changed_data or before != set(app.items.values_list("pk", flat=True)):
            Event.objects.create(
                kind=EventKind.EDITED,
                application=app,
                occurred_at=now,
                recorded_at=now,
                actor=request.user,
                data={"edited": sorted(form.changed_data)},
            )
        services.recompute_due_dates(now=now, applications=[app], actor=request.user)

    def _bulk(self, request, queryset, move: str) -> None:
        done, refused = 0, []
        for app in queryset:
            try:
                _perform_application_move(app, move, now=timezone.now(), actor=request.user)
                done += 1
            except DomainError as exc:
                refused.append(f"{app}: {exc.message}")
        if done:
            self.message_user(
                request, _("%(n)d applications moved.") % {"n": done}, messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Submit the selected drafts now"), permissions=["move"])
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description=_("Withdraw the selected applications now"), permissions=["move"])
    def withdraw_selected(self, request, queryset):
        self._bulk(request, queryset, "withdraw")

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm("licenses.move_licenseapplication")


def _perform_application_move(app, move: str, **kwargs: Any):
    if move == "correct":
        return services.application_correct(application=app, **kwargs)
    return getattr(services, f"application_{move}")(application=app, **kwargs)


@admin.register(WindowRule)
class WindowRuleAdmin(admin.ModelAdmin):
    list_display = [
        "authority",
        "item",
        "destination",
        "license_type",
        "window_days",
        "created_at",
        "retired_at",
    ]
    list_filter = ["authority", "license_type", "retired_at"]
    search_fields = ["item__code", "destination", "note"]
    autocomplete_fields = ["authority", "item"]
    readonly_fields = ["created_at", "created_by", "retired_at"]


@admin.register(FastTrackDecision)
class FastTrackDecisionAdmin(admin.ModelAdmin):
    list_display = [
        "authority",
        "announced_on",
        "window_days",
        "effective_from",
        "effective_until",
        "revoked_at",
        "affected_count",
        "median_change_days",
        "created_by",
    ]
    list_filter = ["authority", "announced_on"]
    search_fields = ["source", "note"]
    autocomplete_fields = ["authority", "items", "exporters", "applications"]
    readonly_fields = [
        "created_at",
        "created_by",
        "revoked_at",
        "revoked_by",
        "revocation_note",
        "applied",
        "affected_count",
        "median_change_days",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.decision_list(user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are revoked, never deleted


@admin.register(Document)
class DocumentAdmin(ScopedAdmin):
    scope_field = "application__exporter"
    list_display = ["filename", "kind", "application", "size", "uploaded_at", "uploaded_by"]
    list_filter = ["kind"]
    search_fields = ["filename", "application__reference"]
    autocomplete_fields = ["application"]
    readonly_fields = ["content_type", "size", "uploaded_at", "uploaded_by"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "application",
        "shipment",
        "from_status",
        "to_status",
        "actor",
        "recorded_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["application", "shipment", "actor"]
    search_fields = ["application__reference", "shipment__reference", "note"]
    date_hierarchy = "occurred_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.event_list(user=request.user).select_related("application", "shipment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    filter_horizontal = ["exporters"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserProfileInline]
    actions = ["deactivate"]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]

    @admin.action(description=_("Deactivate the selected users"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, _("%d users deactivated.") % count, messages.SUCCESS)


admin.site.site_header = _("Export-license tracker")
admin.site.site_title = _("Export-license tracker")
admin.site.index_title = _("Back office")
