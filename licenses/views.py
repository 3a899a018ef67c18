"""Pages for exporters, license applications and fast-track decisions.

Reads go through `licenses.selectors`, writes through `licenses.services`; a refused write
(`DomainError`) becomes a message and field errors and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import selectors, services
from .errors import DomainError
from .forms import (
    MOVE_FORMS,
    ApplicationFilter,
    ApplicationForm,
    CorrectForm,
    ExporterFilter,
    ExporterForm,
)
from .models import ControlledItem, EventKind, Exporter, LicenseApplication, LicenseType
from .web import Column, ListPage, Page, add_errors, local_due_date, show_date, timeline

# URL slug → service move name, in the order of the moves table.
MOVE_SLUGS = {name.replace("_", "-"): name for name in MOVE_FORMS}
MOVE_BUTTONS = {
    "submit": gettext_lazy("Submit"),
    "accept": gettext_lazy("Accept"),
    "request_info": gettext_lazy("Request information"),
    "provide_info": gettext_lazy("Provide information"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "withdraw": gettext_lazy("Withdraw"),
}
MOVE_HELP = {
    "submit": gettext_lazy("The application was filed with the authority."),
    "accept": gettext_lazy("The authority accepted the application for review."),
    "request_info": gettext_lazy("The authority asked us for information: the clock stops."),
    "provide_info": gettext_lazy("We gave the information: the clock runs again."),
    "approve": gettext_lazy("The authority granted the license."),
    "reject": gettext_lazy("The authority refused the license."),
    "withdraw": gettext_lazy("We withdrew the application."),
}
MOVE_SERVICES: dict[str, Callable[..., LicenseApplication]] = {
    "submit": services.application_submit,
    "accept": services.application_accept,
    "request_info": services.application_request_info,
    "provide_info": services.application_provide_info,
    "approve": services.application_approve,
    "reject": services.application_reject,
    "withdraw": services.application_withdraw,
}
MOVE_PERMISSION = "licenses.move_licenseapplication"


def _open_flags_prefetch() -> Prefetch:
    # The flag model lives in the shipments app, which this app does not import.
    flag_model = apps.get_model("shipments", "Flag")
    return Prefetch(
        "flags",
        queryset=flag_model._default_manager.filter(cleared_at__isnull=True).order_by("kind"),
        to_attr="open_flags",
    )


# --- exporters ---------------------------------------------------------------------------------


def may_create_exporter(user: Any) -> bool:
    """Officers may create exporters, unless they are limited to some exporters."""
    return user.has_perm("licenses.add_exporter") and selectors.visible_exporter_ids(user) is None


class ExporterList(ListPage):
    permission_required = "licenses.view_exporter"
    template_name = "licenses/exporter_list.html"
    filterset_class = ExporterFilter
    sorts = {
        "name": ("name",),
        "registration": ("registration_number",),
        "country": ("country", "name"),
    }
    default_sort = "name"
    csv_filename = "exporters.csv"
    csv_columns = (
        Column("id", lambda e: e.pk),
        Column("name", lambda e: e.name),
        Column("registration_number", lambda e: e.registration_number),
        Column("country", lambda e: e.country),
        Column("address", lambda e: e.address),
        Column("contact_emails", lambda e: " ".join(e.contact_emails or [])),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.exporter_list(user=self.request.user)

    def extra_context(self) -> dict[str, Any]:
        return {"may_create": may_create_exporter(self.request.user)}


class ExporterDetail(Page):
    permission_required = "licenses.view_exporter"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        exporter = get_object_or_404(selectors.exporter_list(user=request.user), pk=pk)
        applications = selectors.application_list(user=request.user).filter(exporter=exporter)
        return render(
            request,
            "licenses/exporter_detail.html",
            {
                "exporter": exporter,
                "application_count": applications.count(),
                "pending_count": applications.filter(status__in=services.PENDING_STATUSES).count(),
                "consignees": selectors.scope(exporter.consignees.all(), request.user),
            },
        )


class ExporterCreate(Page):
    permission_required = "licenses.add_exporter"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not may_create_exporter(request.user):
            raise PermissionDenied(_("Users limited to some exporters cannot create exporters."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(ExporterForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ExporterForm(request.POST)
        if form.is_valid():
            try:
                exporter = services.exporter_create(
                    now=timezone.now(), actor=request.user, **form.cleaned_data
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Exporter %(name)s created.") % {"name": exporter})
                return redirect("exporter-detail", pk=exporter.pk)
        return self.page(form)

    def page(self, form: ExporterForm) -> HttpResponse:
        return render(self.request, "form_page.html", {"form": form, "title": _("New exporter")})


class ExporterEdit(Page):
    permission_required = "licenses.change_exporter"

    def get_exporter(self, pk: int) -> Exporter:
        return get_object_or_404(selectors.exporter_list(user=self.request.user), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        exporter = self.get_exporter(pk)
        return self.page(ExporterForm(instance=exporter), exporter)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        exporter = self.get_exporter(pk)
        form = ExporterForm(request.POST, instance=self.get_exporter(pk))
        if form.is_valid():
            try:
                services.exporter_update(
                    exporter=exporter, now=timezone.now(), actor=request.user, **form.cleaned_data
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Exporter %(name)s saved.") % {"name": exporter})
                return redirect("exporter-detail", pk=exporter.pk)
        return self.page(form, exporter)

    def page(self, form: ExporterForm, exporter: Exporter) -> HttpResponse:
        return render(
            self.request,
            "form_page.html",
            {
                "form": form,
                "title": _("Edit exporter %(name)s") % {"name": exporter},
                "cancel_url": reverse("exporter-detail", args=[exporter.pk]),
            },
        )


# --- applications ------------------------------------------------------------------------------


def _flags(app: LicenseApplication) -> str:
    return " ".join(f.kind for f in getattr(app, "open_flags", []))


class ApplicationList(ListPage):
    permission_required = "licenses.view_licenseapplication"
    template_name = "licenses/application_list.html"
    filterset_class = ApplicationFilter
    sorts = {
        "reference": ("reference",),
        "exporter": ("exporter__name", "reference"),
        "authority": ("authority__code", "reference"),
        "destination": ("destination", "reference"),
        "status": ("status", "reference"),
        "submitted": ("submitted_at",),
        "due": ("due_at",),
        "decided": ("decided_at",),
    }
    default_sort = "-submitted"
    csv_filename = "applications.csv"
    csv_columns = (
        Column("id", lambda a: a.pk),
        Column("reference", lambda a: a.reference),
        Column("exporter", lambda a: a.exporter.name),
        Column("authority", lambda a: a.authority.code),
        Column("authority_reference", lambda a: a.authority_reference),
        Column("license_type", lambda a: a.license_type),
        Column("items", lambda a: " ".join(i.code for i in a.items.all())),
        Column("destination", lambda a: a.destination),
        Column("quantity", lambda a: a.quantity),
        Column("value", lambda a: a.value),
        Column("currency", lambda a: a.currency),
        Column("status", lambda a: a.status),
        Column("submitted_at", lambda a: a.submitted_at),
        Column("due_date", lambda a: local_due_date(a)),
        Column("due_at", lambda a: a.due_at),
        Column("decided_at", lambda a: a.decided_at),
        Column("license_number", lambda a: a.license_number),
        Column("valid_until", lambda a: a.valid_until),
        Column("flags", _flags),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.application_list(user=self.request.user)

    def for_display(self, qs: QuerySet) -> QuerySet:
        return qs.prefetch_related(
            _open_flags_prefetch(),
            Prefetch("items", queryset=ControlledItem.objects.order_by("code")),
        )


def _application(request: HttpRequest, pk: int) -> LicenseApplication:
    return get_object_or_404(selectors.application_list(user=request.user), pk=pk)


def _correctable(application: LicenseApplication) -> Any:
    """The latest move, if an officer made it and it is still the application's state."""
    latest, _previous = services.latest_move(application)
    if latest is None:
        return None
    move = services.MOVES.get(latest.data.get("move", ""))
    if move is None or not move.by_officer or latest.to_status != application.status:
        return None
    return latest


class ApplicationDetail(Page):
    permission_required = "licenses.view_licenseapplication"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        return render(
            request, "licenses/application_detail.html", detail_context(request, application)
        )


def detail_context(request: HttpRequest, application: LicenseApplication) -> dict[str, Any]:
    user = request.user
    events = (
        selectors.event_list(user=user)
        .filter(application=application)
        .filter(
            Q(shipment__isnull=True)
            | Q(kind__in=[EventKind.DRAWDOWN, EventKind.DRAWDOWN_RELEASED, EventKind.ASSIGNED])
        )
        .select_related("shipment")
        .order_by("occurred_at", "id")
    )
    moves = []
    correctable = None
    if user.has_perm(MOVE_PERMISSION):
        for name in services.legal_moves(application):
            slug = name.replace("_", "-")
            moves.append(
                {
                    "name": name,
                    "slug": slug,
                    "label": MOVE_BUTTONS[name],
                    "help": MOVE_HELP[name],
                    # Several forms on one page: each needs its own field ids.
                    "form": MOVE_FORMS[name](application=application, auto_id=f"{slug}-%s"),
                    "action": reverse("application-move", args=[application.pk, slug]),
                }
            )
        correctable = _correctable(application)
    shipments = selectors.scope(application.shipments.all(), user).select_related("item")
    return {
        "application": application,
        "items": application.items.all(),
        "due_date": local_due_date(application),
        "flags": selectors.scope(
            application.flags.filter(cleared_at__isnull=True).order_by("kind"), user
        ),
        "shipments": shipments,
        "documents": selectors.document_list(user=user)
        .filter(application=application)
        .select_related("uploaded_by"),
        "timeline": timeline(events, window_unit=application.authority.get_window_unit_display()),
        "moves": moves,
        "correctable": correctable,
        "correct_form": CorrectForm(auto_id="correct-%s") if correctable else None,
        "may_edit": user.has_perm("licenses.change_licenseapplication"),
        "is_general": application.license_type == LicenseType.GENERAL,
    }


class ApplicationCreate(Page):
    permission_required = "licenses.add_licenseapplication"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(ApplicationForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApplicationForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                application = services.application_create(
                    now=timezone.now(),
                    actor=request.user,
                    items=list(form.cleaned_data["items"]),
                    **form.service_fields(),
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request, _("Application %(ref)s created as a draft.") % {"ref": application}
                )
                return redirect("application-detail", pk=application.pk)
        return self.page(form)

    def page(self, form: ApplicationForm) -> HttpResponse:
        return render(
            self.request,
            "form_page.html",
            {"form": form, "title": _("New license application")},
        )


class ApplicationEdit(Page):
    permission_required = "licenses.change_licenseapplication"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        return self.page(ApplicationForm(instance=application, user=request.user), application)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        # The form validates its own copy; the service compares against the stored one.
        form = ApplicationForm(request.POST, instance=_application(request, pk), user=request.user)
        if form.is_valid():
            try:
                services.application_update(
                    application=application,
                    now=timezone.now(),
                    actor=request.user,
                    items=list(form.cleaned_data["items"]),
                    **form.service_fields(),
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Application %(ref)s saved.") % {"ref": application})
                return redirect("application-detail", pk=application.pk)
        return self.page(form, application)

    def page(self, form: ApplicationForm, application: LicenseApplication) -> HttpResponse:
        return render(
            self.request,
            "form_page.html",
            {
                "form": form,
                "title": _("Edit application %(ref)s") % {"ref": application},
                "cancel_url": reverse("application-detail", args=[application.pk]),
            },
        )


class ApplicationMove(Page):
    """One move of an application: GET shows its form, POST makes it through the service."""

    permission_required = MOVE_PERMISSION

    def setup_move(self, request: HttpRequest, pk: int, move: str) -> tuple[Any, str]:
        application = _application(request, pk)
        return application, MOVE_SLUGS[move]

    def get(self, request: HttpRequest, pk: int, move: str) -> HttpResponse:
        application, name = self.setup_move(request, pk, move)
        if name not in services.legal_moves(application):
            messages.error(request, self.illegal(application, name))
            return redirect("application-detail", pk=application.pk)
        return self.page(application, name, MOVE_FORMS[name](application=application))

    def post(self, request: HttpRequest, pk: int, move: str) -> HttpResponse:
        application, name = self.setup_move(request, pk, move)
        form = MOVE_FORMS[name](request.POST, application=application)
        if form.is_valid():
            try:
                MOVE_SERVICES[name](
                    application=application,
                    now=timezone.now(),
                    actor=request.user,
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                add_errors(form, exc, summary=False)
                messages.error(request, exc.message)
            else:
                application.refresh_from_db()
                messages.success(
                    request,
                    _("%(move)s recorded: %(ref)s is now %(status)s.")
                    % {
                        "move": MOVE_BUTTONS[name],
                        "ref": application,
                        "status": application.get_status_display(),
                    },
                )
                return redirect("application-detail", pk=application.pk)
        return self.page(application, name, form)

    def illegal(self, application: LicenseApplication, name: str) -> str:
        return _("Cannot %(move)s an application that is %(status)s.") % {
            "move": str(MOVE_BUTTONS[name]).lower(),
            "status": application.get_status_display(),
        }

    def page(self, application: LicenseApplication, name: str, form: Any) -> HttpResponse:
        return render(
            self.request,
            "licenses/application_move.html",
            {
                "application": application,
                "move": {
                    "name": name,
                    "slug": name.replace("_", "-"),
                    "label": MOVE_BUTTONS[name],
                    "help": MOVE_HELP[name],
                },
                "form": form,
                "legal": name in services.legal_moves(application),
            },
        )


class ApplicationCorrect(Page):
    """Re-date or undo the latest move, with a note; the correction is a new event."""

    permission_required = MOVE_PERMISSION

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        return self.page(application, CorrectForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        form = CorrectForm(request.POST)
        if form.is_valid():
            try:
                services.application_correct(
                    application=application,
                    now=timezone.now(),
                    actor=request.user,
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                add_errors(form, exc, summary=False)
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Correction recorded: %(ref)s is %(status)s.")
                    % {"ref": application, "status": application.get_status_display()},
                )
                return redirect("application-detail", pk=application.pk)
        return self.page(application, form)

    def page(self, application: LicenseApplication, form: CorrectForm) -> HttpResponse:
        return render(
            self.request,
            "licenses/application_correct.html",
            {"application": application, "form": form, "latest": _correctable(application)},
        )


# --- fast-track decisions ----------------------------------------------------------------------


class FastTrackList(Page):
    """The log of fast-track decisions with their scope and effect (read-only for now)."""

    permission_required = "licenses.view_fasttrackdecision"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        decisions = list(
            selectors.decision_list(user=user).prefetch_related(
                "items",
                Prefetch("exporters", queryset=selectors.exporter_list(user=user)),
                Prefetch("applications", queryset=selectors.application_list(user=user)),
            )
        )
        limited = selectors.visible_exporter_ids(user) is not None
        effects = decision_effects(user, [d.pk for d in decisions]) if limited else {}
        rows = []
        today = timezone.localdate()
        for d in decisions:
            if limited:
                affected, median = effects.get(d.pk, (0, None))
            else:
                affected, median = d.affected_count, d.median_change_days
            in_force = (
                d.revoked_at is None
                and d.effective_from <= today
                and (d.effective_until is None or today <= d.effective_until)
            )
            rows.append(
                {
                    "decision": d,
                    "affected": affected,
                    "median_change": median,
                    "in_force": in_force,
                    "period": _("%(from)s to %(until)s")
                    % {
                        "from": show_date(d.effective_from),
                        "until": show_date(d.effective_until)
                        if d.effective_until
                        else _("open-ended"),
                    },
                }
            )
        return render(request, "licenses/fast_track_list.html", {"rows": rows, "limited": limited})


def decision_effects(user: Any, decision_ids: list[int]) -> dict[int, tuple[int, Any]]:
    """What each decision did to the applications this user may see: how many it moved and
    the median change in days (computed from the visible events only)."""
    from statistics import median

    rows = (
        selectors.event_list(user=user)
        .filter(decision_id__in=decision_ids, kind=EventKind.FAST_TRACK_APPLIED)
        .exclude(application__isnull=True)
        .values_list("decision_id", "application_id", "data")
    )
    apps: dict[int, set[int]] = {}
    changes: dict[int, list[float]] = {}
    for decision_id, application_id, data in rows:
        apps.setdefault(decision_id, set()).add(application_id)
        change = (data or {}).get("change_days")
        if isinstance(change, int | float):
            changes.setdefault(decision_id, []).append(change)
    return {
        d: (len(ids), median(changes[d]) if changes.get(d) else None) for d, ids in apps.items()
    }
