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

from core.admin import NoDeleteAdmin
from core.admin_services import ServiceFormAdmin, ServiceMoveAdmin, refusals
from core.errors import DomainError

from . import admin_fasttrack, admin_moves, selectors, services
from .admin_measures import MeasureAdmin
from .authorities import (
    authority_create,
    authority_update,
    calendar_day_delete,
    calendar_day_save,
    controlled_item_create,
    controlled_item_update,
)
from .documents import document_attach
from .fasttrack import (
    Figures,
    decision_edit,
    decision_effect,
    decision_figures,
    decision_log,
    decision_revoke,
    decision_state,
)
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
    Measure,
    UserProfile,
    WindowRule,
)
from .rules import rule_create, rule_retire, rule_update
from .users import user_deactivate

User = get_user_model()


class ScopedAdmin(admin.ModelAdmin):
    """Shows a user only the rows of the exporters it may see."""

    scope_field = "exporter"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.scope(super().get_queryset(request), request.user, self.scope_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "exporter":
            kwargs["queryset"] = selectors.exporter_list(user=request.user)
        elif db_field.name == "application":
            # a limited user attaches only to applications it may see
            kwargs["queryset"] = selectors.scope(
                LicenseApplication.objects.all(), request.user, "exporter"
            )
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
    """Saved through the calendar services by `AuthorityAdmin.save_formset`."""

    model = CalendarDay
    extra = 0


@admin.register(Authority)
class AuthorityAdmin(ServiceFormAdmin):
    service_validates_model = True
    list_display = [
        "code",
        "name",
        "country",
        "time_zone",
        "window_days",
        "window_unit",
        "clock_starts",
        "acceptance_window_days",
        "reply_window_days",
        "reply_window_unit",
        "amendment_window_days",
    ]
    list_filter = ["window_unit", "clock_starts", "country"]
    search_fields = ["code", "name"]
    inlines = [CalendarDayInline]

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return authority_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return authority_update(authority=stored, now=now, actor=request.user, **data)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The calendar days of the inline, each through the calendar services (the due
        dates, file-by deadlines and flags of the authority follow)."""
        now = timezone.now()
        with refusals():
            days = formset.save(commit=False)
            for day in formset.deleted_objects:
                calendar_day_delete(day=day, now=now, actor=request.user)
            for day in days:
                calendar_day_save(day=day, now=now, actor=request.user)


@admin.register(CalendarDay)
class CalendarDayAdmin(ServiceFormAdmin):
    service_validates_model = True
    deletable = True  # an added holiday or workday may go; the service recomputes due dates
    list_display = ["authority", "date", "kind", "name"]
    list_filter = ["authority", "kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    autocomplete_fields = ["authority"]

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return calendar_day_save(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return calendar_day_save(day=stored, now=now, actor=request.user, **data)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        calendar_day_delete(day=obj, now=timezone.now(), actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        now = timezone.now()
        for day in queryset.order_by("pk"):
            calendar_day_delete(day=day, now=now, actor=request.user)


@admin.register(ControlledItem)
class ControlledItemAdmin(NoDeleteAdmin, ServiceFormAdmin):
    list_display = ["code", "material", "description", "unit", "authority"]
    list_filter = ["authority", "unit"]
    search_fields = ["code", "material", "description"]
    autocomplete_fields = ["authority"]

    def service_create(
        self, request: HttpRequest, data: dict[str, Any], *, now: Any
    ) -> ControlledItem:
        return controlled_item_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> ControlledItem:
        return controlled_item_update(item=stored, now=now, actor=request.user, **data)


admin.site.register(Measure, MeasureAdmin)


@admin.register(Exporter)
class ExporterAdmin(ServiceFormAdmin, ScopedAdmin):
    service_validates_model = True
    scope_field = "id"
    list_display = ["name", "registration_number", "country", "contact_list"]
    list_filter = ["country"]
    search_fields = ["name", "registration_number"]

    @admin.display(description=_("compliance contacts"))
    def contact_list(self, obj: Exporter) -> str:
        return ", ".join(obj.contact_emails or [])

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Exporter:
        return services.exporter_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Exporter:
        return services.exporter_update(exporter=stored, now=now, actor=request.user, **data)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A user limited to some exporters cannot create exporters.
        if selectors.visible_exporter_ids(request.user) is not None:
            return False
        return super().has_add_permission(request)


@admin.register(LicenseApplication)
class LicenseApplicationAdmin(ServiceMoveAdmin, ServiceFormAdmin, ScopedAdmin):
    service_validates_model = True
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
        "amendment_quantity",
        "amendment_value",
        "amendment_valid_until",
        "amendment_requested_at",
        "pause_reason",
        "reply_due_at",
        "referral_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [EventInline]
    actions = ["submit_selected", "withdraw_selected"]

    move_permission = "licenses.move_licenseapplication"
    move_labels = {
        "submit": _("Submit"),
        "accept": _("Accept"),
        "request_info": _("Request information"),
        "provide_info": _("Information provided"),
        "approve": _("Approve"),
        "reject": _("Reject"),
        "withdraw": _("Withdraw"),
        "suspend": _("Suspend"),
        "reinstate": _("Reinstate"),
        "revoke": _("Revoke"),
        "surrender": _("Surrender"),
        "amend": _("Request an amendment"),
        "approve_amendment": _("Approve the amendment"),
        "refuse_amendment": _("Refuse the amendment"),
        "refer": _("Refer"),
        "return": _("Return without action"),
        "resubmit": _("Resubmit"),
    }
    move_forms = {
        "approve": admin_moves.ApproveForm,
        "reject": admin_moves.RejectForm,
        "accept": admin_moves.AcceptForm,
        "amend": admin_moves.AmendForm,
        "request_info": admin_moves.RequestInfoForm,
        "refer": admin_moves.ReferForm,
    }

    def legal_moves(self, obj: Any) -> list[str]:
        return services.legal_moves(obj)

    def perform_move(self, obj: Any, move: str, **kwargs: Any) -> Any:
        if move == "correct":
            return services.application_correct(application=obj, **kwargs)
        return getattr(services, f"application_{move}")(application=obj, **kwargs)

    def service_create(
        self, request: HttpRequest, data: dict[str, Any], *, now: Any
    ) -> LicenseApplication:
        items = list(data.pop("items", None) or [])
        return services.application_create(now=now, actor=request.user, items=items, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> LicenseApplication:
        items = list(data.pop("items", None) or [])
        return services.application_update(
            application=stored, now=now, actor=request.user, items=items, **data
        )

    def _bulk(self, request, queryset, move: str) -> None:
        done, refused = 0, []
        for app in queryset:
            try:
                self.perform_move(app, move, now=timezone.now(), actor=request.user)
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


@admin.register(WindowRule)
class WindowRuleAdmin(ServiceFormAdmin):
    """Managers and administrators create, change and retire rules through `licenses.rules`
    (each recomputes the pending applications it governs); rules are retired, not deleted."""

    form = admin_fasttrack.WindowRuleForm
    list_display = [
        "authority",
        "item",
        "destination",
        "license_type",
        "window_days",
        "created_at",
        "created_by",
        "retired_at",
    ]
    list_filter = ["authority", "license_type", ("retired_at", admin.EmptyFieldListFilter)]
    list_select_related = ["authority", "item", "created_by"]
    search_fields = ["item__code", "destination", "note"]
    autocomplete_fields = ["authority", "item"]
    readonly_fields = ["created_at", "created_by", "retired_at"]
    actions = ["retire_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "authority"] if obj is not None else fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.retired_at is not None:
            return False  # kept as it was for the record
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retired instead: due-date events point at the rules that set them

    RULE_FIELDS = ("item", "destination", "license_type", "window_days", "note")

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        fields: dict[str, Any] = {name: data.get(name) for name in self.RULE_FIELDS}
        return rule_create(authority=data["authority"], actor=request.user, now=now, **fields)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        fields: dict[str, Any] = {name: data.get(name) for name in self.RULE_FIELDS}
        return rule_update(rule=stored, actor=request.user, now=now, **fields)

    @admin.action(description=_("Retire the selected rules"), permissions=["change"])
    def retire_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for rule in queryset.filter(retired_at__isnull=True):
            try:
                rule_retire(rule=rule, actor=request.user, now=timezone.now())
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{rule}: {exc.message}", messages.ERROR)
        self.message_user(request, _("%(n)d rules retired.") % {"n": done}, messages.SUCCESS)


@admin.register(FastTrackDecision)
class FastTrackDecisionAdmin(ServiceFormAdmin):
    """The fast-track log. Managers log decisions (with a preview of their effect before
    saving) and revoke them; the window, period and scope of a logged decision are fixed
    (revoke and log anew), only its wording can be corrected. Never deleted."""

    change_form_template = "admin/licenses/fasttrackdecision/change_form.html"
    list_display = [
        "authority",
        "announced_on",
        "window_days",
        "effective_from",
        "effective_until",
        "state",
        "moved",
        "median",
        "created_by",
    ]
    list_filter = ["authority", "announced_on", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["source", "note"]
    autocomplete_fields = ["authority", "items", "exporters", "applications"]
    actions = ["revoke_selected"]
    ADD_FIELDSETS = [
        (
            None,
            {
                "fields": [
                    "authority",
                    "announced_on",
                    "source",
                    "window_days",
                    ("effective_from", "effective_until"),
                ]
            },
        ),
        (
            _("Scope — an empty list means any"),
            {"fields": ["destinations", "items", "exporters", "applications"]},
        ),
        (None, {"fields": ["note"]}),
    ]
    LOG_FIELDS = [
        "state",
        "created_by",
        "created_at",
        "progress",
        "revoked_at",
        "revoked_by",
        "revocation_note",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.decision_list(user=request.user)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # The figures of the page's decisions, as this user may see them (one query); the
        # rows are the same objects the list then renders.
        changelist = super().get_changelist_instance(request)
        shown = list(changelist.result_list)
        figures = decision_figures(decisions=shown, user=request.user)
        for decision in shown:
            decision.visible_figures = figures[decision.pk]
        return changelist

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.ADD_FIELDSETS
        return [*self.ADD_FIELDSETS, (_("Log"), {"fields": self.LOG_FIELDS})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        fixed = [
            "authority",
            "announced_on",
            "window_days",
            "effective_from",
            "effective_until",
            "destinations",
            "items",
            "exporters",
            "applications",
        ]
        return [*fixed, *self.LOG_FIELDS]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = (
            admin_fasttrack.DecisionChangeForm
            if obj is not None
            else admin_fasttrack.DecisionAddForm
        )
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "announced_on": today,
            "effective_from": today,
            **super().get_changeform_initial_data(request),
        }

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="licenses_fasttrackdecision_revoke",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request: HttpRequest, object_id: str):
        return admin_fasttrack.revoke_view(self, request, object_id)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None and request.method == "POST" and "_preview" in request.POST:
            return admin_fasttrack.preview_view(self, request, form_url, extra_context)
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is not None:
                extra_context = {
                    **(extra_context or {}),
                    "effect": decision_effect(obj, user=request.user, now=timezone.now()),
                    "can_revoke": obj.revoked_at is None
                    and request.user.has_perm("licenses.revoke_fasttrackdecision")
                    and selectors.decision_may_write(decision=obj, user=request.user),
                }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data, now = form.cleaned_data, timezone.now()
        if change:
            with refusals():
                decision_edit(
                    decision=type(obj).objects.get(pk=obj.pk),
                    actor=request.user,
                    now=now,
                    source=data["source"],
                    note=data["note"],
                )
            return
        with refusals():
            decision = self._log(request, data, now=now)
        obj.pk, obj.created_at, obj.created_by = decision.pk, decision.created_at, request.user
        obj._state.adding = False
        message: Any
        if decision.applied and decision.progress_finished_at is None:
            message = _(
                "Logged. %(n)d pending applications are being recomputed in the background; "
                "the decision's page shows the progress."
            ) % {"n": decision.progress_total}
        elif decision.applied:
            message = _("Logged and applied: %(n)d due dates moved.") % {
                "n": decision.affected_count
            }
        else:
            message = _("Logged; it is not in force today, so no due date moved now.")
        self.message_user(request, message, messages.INFO)

    def _log(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> FastTrackDecision:
        return decision_log(
            authority=data["authority"],
            announced_on=data["announced_on"],
            source=data["source"],
            window_days=data["window_days"],
            effective_from=data["effective_from"],
            effective_until=data.get("effective_until"),
            destinations=data.get("destinations") or [],
            items=data.get("items") or [],
            exporters=data.get("exporters") or [],
            applications=data.get("applications") or [],
            note=data.get("note") or "",
            actor=request.user,
            now=now,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A user limited to some exporters reads, but may not edit, a decision that could move
        # another exporter's due dates (`decision_edit` refuses it too).
        if obj is not None and not selectors.decision_may_write(decision=obj, user=request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions are revoked, never deleted

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("licenses.revoke_fasttrackdecision")

    @admin.action(description=_("Revoke the selected decisions"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done, now = 0, timezone.now()
        for decision in queryset.filter(revoked_at__isnull=True):
            try:
                decision_revoke(decision=decision, actor=request.user, now=now)
            except DomainError as exc:
                self.message_user(request, f"{decision}: {exc.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("%(n)d decisions revoked.") % {"n": done}, messages.SUCCESS)

    @admin.display(description=_("state"))
    def state(self, obj: FastTrackDecision) -> str:
        from .timeline import DECISION_STATES

        state = decision_state(obj, now=timezone.now())
        return str(DECISION_STATES.get(state, state))

    @admin.display(description=_("due dates moved"))
    def moved(self, obj: FastTrackDecision) -> Any:
        figures = self._figures(obj)
        return "—" if figures is None else figures.affected_count

    @admin.display(description=_("median change (days)"))
    def median(self, obj: FastTrackDecision) -> Any:
        figures = self._figures(obj)
        return "—" if figures is None else figures.median_change_days

    @staticmethod
    def _figures(obj: FastTrackDecision) -> Figures | None:
        # set on the change list's rows by `get_changelist_instance`: the stored figures
        # count every exporter's applications
        return getattr(obj, "visible_figures", None)

    @admin.display(description=_("progress"))
    def progress(self, obj: FastTrackDecision) -> str:
        if not obj.progress_total:
            return "—"
        what = _("applying") if obj.progress_kind == EventKind.FAST_TRACK_APPLIED else _("removing")
        done = _("done") if obj.progress_finished_at else _("running")
        return f"{what}: {obj.progress_done} / {obj.progress_total} ({done})"


@admin.register(Document)
class DocumentAdmin(ServiceFormAdmin, ScopedAdmin):
    """Documents are attached through `document_attach` (which checks the file and records
    the event) and kept as attached: their change page is read-only."""

    scope_field = "application__exporter"
    list_display = ["filename", "kind", "application", "size", "uploaded_at", "uploaded_by"]
    list_filter = ["kind"]
    search_fields = ["filename", "application__reference"]
    autocomplete_fields = ["application"]
    fields = ["application", "kind", "file"]
    readonly_fields = ["filename", "content_type", "size", "uploaded_at", "uploaded_by"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.fields
        return [*self.fields, *self.readonly_fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no service rewrites an attached document

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Document:
        return document_attach(
            application=data["application"],
            kind=data["kind"],
            upload=data["file"],
            actor=request.user,
            now=now,
        )


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
    # Its link in its chain (set by the database, never a form's field): shown, not edited.
    readonly_fields = ["seq", "prev_hash", "hash"]

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
    """Users are deactivated, never deleted: what they recorded keeps their name."""

    inlines = [UserProfileInline]
    actions = ["deactivate"]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Deactivate the selected users"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            count = user_deactivate(users=queryset, actor=request.user, now=timezone.now())
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, _("%d users deactivated.") % count, messages.SUCCESS)


admin.site.site_header = _("Export-license tracker")
admin.site.site_title = _("Export-license tracker")
admin.site.index_title = _("Back office")
