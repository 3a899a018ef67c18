"""Pages for exporters, license applications and fast-track decisions.

Reads go through `licenses.selectors`, writes through `licenses.services`; a refused write
(`DomainError`) becomes a message and field errors and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.errors import DomainError
from core.web import (
    Column,
    ListPage,
    MovePage,
    Page,
    ServiceFormPage,
    add_errors,
    limit_uploads,
    megabytes,
    show_date,
)

from . import documents, events, fasttrack, flags, selectors, services
from .forms import (
    MOVE_FORMS,
    ApplicationFilter,
    ApplicationForm,
    CorrectForm,
    DecisionForm,
    DocumentForm,
    ExporterFilter,
    ExporterForm,
    RevokeForm,
)
from .models import ControlledItem, EventKind, Exporter, LicenseApplication, LicenseType
from .timeline import DECISION_STATES, local_due_date, timeline

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
DOCUMENT_PERMISSION = "licenses.add_document"


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


class ExporterCreate(ServiceFormPage):
    permission_required = "licenses.add_exporter"
    form_class = ExporterForm
    service = services.exporter_create
    title = gettext_lazy("New exporter")
    success_message = gettext_lazy("Exporter %(name)s created.")
    detail_url = "exporter-detail"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not may_create_exporter(request.user):
            raise PermissionDenied(_("Users limited to some exporters cannot create exporters."))
        return super().dispatch(request, *args, **kwargs)


class ExporterEdit(ServiceFormPage):
    permission_required = "licenses.change_exporter"
    form_class = ExporterForm
    service = services.exporter_update
    object_arg = "exporter"
    title = gettext_lazy("Edit exporter %(name)s")
    success_message = gettext_lazy("Exporter %(name)s saved.")
    detail_url = "exporter-detail"

    def get_object(self, pk: int) -> Exporter:
        return get_object_or_404(selectors.exporter_list(user=self.request.user), pk=pk)


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
            flags.open_prefetch(),
            Prefetch("items", queryset=ControlledItem.objects.order_by("code")),
        )


def _application(request: HttpRequest, pk: int) -> LicenseApplication:
    return get_object_or_404(selectors.application_list(user=request.user), pk=pk)


def _correctable(application: LicenseApplication) -> Any:
    """The latest move, if an officer made it and it is still the application's state."""
    latest, _previous = services.latest_move(application)
    if latest is None:
        return None
    move = services.MOVES.get(events.payload(latest).get("move", ""))
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
        "flags": selectors.scope(flags.open_flags_of(application), user),
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
        "document_form": DocumentForm(auto_id="document-%s")
        if user.has_perm(DOCUMENT_PERMISSION)
        else None,
    }


class ApplicationCreate(ServiceFormPage):
    permission_required = "licenses.add_licenseapplication"
    form_class = ApplicationForm
    form_takes_user = True
    service: Callable[..., Any] = services.application_create
    title = gettext_lazy("New license application")
    success_message = gettext_lazy("Application %(ref)s created as a draft.")
    detail_url = "application-detail"

    def service_kwargs(self, form: Any) -> dict[str, Any]:
        return {"items": list(form.cleaned_data["items"]), **form.service_fields()}


class ApplicationEdit(ApplicationCreate):
    permission_required = "licenses.change_licenseapplication"
    service = services.application_update
    object_arg = "application"
    title = gettext_lazy("Edit application %(ref)s")
    success_message = gettext_lazy("Application %(ref)s saved.")

    def get_object(self, pk: int) -> LicenseApplication:
        return _application(self.request, pk)


class ApplicationMove(MovePage):
    """One move of an application: GET shows its form, POST makes it through the service."""

    permission_required = MOVE_PERMISSION
    template_name = "licenses/application_move.html"
    object_arg = "application"
    detail_url = "application-detail"

    def get_object(self, pk: int) -> LicenseApplication:
        return _application(self.request, pk)

    def move_name(self, move: str | None) -> str:
        return MOVE_SLUGS[move or ""]

    def is_legal(self, obj: LicenseApplication, name: Any) -> bool:
        return name in services.legal_moves(obj)

    def illegal_message(self, obj: LicenseApplication, name: Any) -> str:
        return _("Cannot %(move)s an application that is %(status)s.") % {
            "move": str(MOVE_BUTTONS[name]).lower(),
            "status": obj.get_status_display(),
        }

    def get_form(self, obj: LicenseApplication, name: Any, data: Any = None) -> Any:
        return MOVE_FORMS[name](data, application=obj)

    def service(self, name: Any) -> Callable[..., Any]:
        return MOVE_SERVICES[name]

    def success_message(self, obj: LicenseApplication, name: Any) -> str:
        obj.refresh_from_db()
        return _("%(move)s recorded: %(ref)s is now %(status)s.") % {
            "move": MOVE_BUTTONS[name],
            "ref": obj,
            "status": obj.get_status_display(),
        }

    def context(self, obj: LicenseApplication, name: Any) -> dict[str, Any]:
        move = {
            "name": name,
            "slug": name.replace("_", "-"),
            "label": MOVE_BUTTONS[name],
            "help": MOVE_HELP[name],
        }
        return {"move": move, "legal": self.is_legal(obj, name)}


class ApplicationCorrect(MovePage):
    """Re-date or undo the latest move, with a note; the correction is a new event."""

    permission_required = MOVE_PERMISSION
    template_name = "licenses/application_correct.html"
    object_arg = "application"
    detail_url = "application-detail"

    def get_object(self, pk: int) -> LicenseApplication:
        return _application(self.request, pk)

    def get_form(self, obj: LicenseApplication, name: Any, data: Any = None) -> Any:
        return CorrectForm(data)

    def service(self, name: Any) -> Callable[..., Any]:
        return services.application_correct

    def success_message(self, obj: LicenseApplication, name: Any) -> str:
        return _("Correction recorded: %(ref)s is %(status)s.") % {
            "ref": obj,
            "status": obj.get_status_display(),
        }

    def context(self, obj: LicenseApplication, name: Any) -> dict[str, Any]:
        return {"latest": _correctable(obj)}


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
        figures = fasttrack.decision_figures(decisions=decisions, user=user)
        rows = []
        now = timezone.now()
        for d in decisions:
            state = fasttrack.decision_state(d, now=now)
            rows.append(
                {
                    "decision": d,
                    "affected": figures[d.pk].affected_count,
                    "median_change": figures[d.pk].median_change_days,
                    "in_force": state == "in force",
                    "state": DECISION_STATES.get(state, state),
                    "state_css": DECISION_STATE_CSS.get(state, "draft"),
                    "period": _("%(from)s to %(until)s")
                    % {
                        "from": show_date(d.effective_from),
                        "until": show_date(d.effective_until)
                        if d.effective_until
                        else _("open-ended"),
                    },
                }
            )
        return render(
            request,
            "licenses/fast_track_list.html",
            {
                "rows": rows,
                "limited": limited,
                "may_log": user.has_perm("licenses.add_fasttrackdecision"),
            },
        )


# --- documents ---------------------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class DocumentUpload(Page):
    """POST a document to an application (its page shows the form).

    The size limit is installed as an upload handler before the body is read, so a file over
    the limit is dropped as it streams in instead of landing in memory or on disk; CSRF is
    therefore checked here, after the handler is in place, rather than by the middleware
    (which would read the body first)."""

    permission_required = DOCUMENT_PERMISSION
    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.limit = limit_uploads(request, documents.max_bytes())
        return csrf_protect(super().dispatch)(request, *args, **kwargs)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        return redirect(documents_anchor(application))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _application(request, pk)
        form = DocumentForm(request.POST, request.FILES, auto_id="document-%s")
        if "file" in self.limit.too_large:
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error(
                "file",
                _("Larger than %(size)s: not accepted.")
                % {"size": megabytes(documents.max_bytes())},
            )
        elif form.is_valid():
            try:
                document = documents.document_attach(
                    application=application,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except DomainError as exc:
                add_errors(form, exc, summary=False)
            else:
                messages.success(
                    request,
                    _("%(name)s attached to %(ref)s.")
                    % {"name": document.filename, "ref": application},
                )
                return redirect(documents_anchor(application))
        messages.error(request, _("The document was not attached; see below."))
        context = detail_context(request, application)
        context["document_form"] = form
        return render(request, "licenses/application_detail.html", context)


def documents_anchor(application: LicenseApplication) -> str:
    return reverse("application-detail", args=[application.pk]) + "#documents-h"


class DocumentDownload(Page):
    """A document, as an attachment, for users who may see its application (else 404)."""

    permission_required = "licenses.view_document"

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        document = get_object_or_404(selectors.document_list(user=request.user), pk=pk)
        return documents.document_response(document)


# --- fast-track decisions: log with a preview, the decision's page, revocation ----------------

DECISION_STATE_CSS = {
    "scheduled": "draft",
    "applying": "submitted",
    "in force": "approved",
    "ended": "expired",
    "revoked": "rejected",
    "removing": "submitted",
}
EVENT_LIMIT = 200


def authority_day(moment: Any, tz: Any) -> Any:
    """A due instant as its authority states the day (the day whose end it is)."""
    import datetime as dt

    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return (moment.astimezone(tz) - dt.timedelta(microseconds=1)).date()


def change_text(days: Any) -> str:
    """A change of due date in words: "12 days earlier", "3 days later", "no change"."""
    if days is None:
        return ""
    days = float(days)
    shown = int(days) if days.is_integer() else days
    if days < 0:
        return _("%(n)s days earlier") % {"n": -shown}
    if days > 0:
        return _("%(n)s days later") % {"n": shown}
    return _("no change")


class FastTrackCreate(Page):
    """Log a decision in two steps: the form previews what it would do (how many pending
    applications it would move and by how much, computed without writing), then logs it —
    only as previewed: a form changed after its preview is previewed again."""

    permission_required = "licenses.add_fasttrackdecision"

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        form = DecisionForm(
            user=request.user, initial={"announced_on": today, "effective_from": today}
        )
        return self.page(form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DecisionForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.page(form)
        now = timezone.now()
        data = form.cleaned_data
        facts = form.service_kwargs()
        try:
            fasttrack.decision_check(
                **facts,
                announced_on=data["announced_on"],
                source=data["source"],
                actor=request.user,
                now=now,
                require_announcement=True,
            )
            preview = fasttrack.decision_preview(
                **facts, announced_on=data["announced_on"], actor=request.user, now=now
            )
        except DomainError as exc:
            add_errors(form, exc)
            return self.page(form)
        fingerprint = form.fingerprint()
        if request.POST.get("action") == "log":
            if request.POST.get("previewed") != fingerprint:
                messages.warning(
                    request,
                    _("The form changed after its preview: check this preview, then log it."),
                )
            else:
                try:
                    decision = fasttrack.decision_log(
                        **facts,
                        announced_on=data["announced_on"],
                        source=data["source"],
                        note=data.get("note") or "",
                        actor=request.user,
                        now=now,
                    )
                except DomainError as exc:
                    add_errors(form, exc)
                    return self.page(form)
                messages.success(request, logged_message(decision))
                return redirect("fast-track-detail", pk=decision.pk)
        return self.page(form, preview=preview, previewed=fingerprint, authority=data["authority"])

    def page(self, form: DecisionForm, **context: Any) -> HttpResponse:
        preview = context.get("preview")
        if preview is not None:
            tz = context["authority"].tz
            context["rows"] = [
                {
                    "application": row.application,
                    "exporter": row.exporter_name,
                    "old": authority_day(row.old_due_at, tz),
                    "new": authority_day(row.new_due_at, tz),
                    "change": change_text(row.change_days),
                }
                for row in preview.sample
            ]
            context["median"] = change_text(preview.median_change_days)
            context["range"] = (
                (change_text(preview.min_change_days), change_text(preview.max_change_days))
                if preview.min_change_days is not None
                else None
            )
        return render(self.request, "licenses/fast_track_form.html", {"form": form, **context})


def logged_message(decision: Any) -> str:
    if decision.progress_total and decision.progress_finished_at is None:
        return _("Fast-track decision logged; its due dates are being recomputed.")
    if decision.applied:
        n = decision.affected_count
        return ngettext(
            "Fast-track decision logged: it moved the due date of %(n)d pending application.",
            "Fast-track decision logged: it moved the due dates of %(n)d pending applications.",
            n,
        ) % {"n": n}
    return _("Fast-track decision logged; it is not in force today.")


def _decision(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(selectors.decision_list(user=request.user), pk=pk)


def _writable_decision(request: HttpRequest, pk: int) -> Any:
    """A decision this user may revoke (else 404, as if it did not exist for writing)."""
    return get_object_or_404(selectors.decision_writable_list(user=request.user), pk=pk)


class FastTrackDetail(Page):
    """A decision: its facts and scope, its state, what it did to the due dates (of the
    applications this user may see), and for managers the form that revokes it."""

    permission_required = "licenses.view_fasttrackdecision"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return decision_page(request, _decision(request, pk), RevokeForm())


def decision_page(request: HttpRequest, decision: Any, revoke_form: RevokeForm) -> HttpResponse:
    user = request.user
    effect = fasttrack.decision_effect(decision, user=user, now=timezone.now())
    tz = decision.authority.tz
    events = (
        selectors.event_list(user=user)
        .filter(
            decision=decision,
            kind__in=[EventKind.FAST_TRACK_APPLIED, EventKind.FAST_TRACK_REMOVED],
            application__isnull=False,
        )
        .select_related("application__exporter")
        .order_by("-recorded_at", "-id")
    )
    total = events.count()
    moves = [
        {
            "event": e,
            "application": e.application,
            "old": authority_day((e.data or {}).get("from"), tz),
            "new": authority_day((e.data or {}).get("to"), tz),
            "change": change_text((e.data or {}).get("change_days")),
        }
        for e in events[:EVENT_LIMIT]
    ]
    may_revoke = (
        user.has_perm("licenses.revoke_fasttrackdecision")
        and decision.revoked_at is None
        and selectors.decision_may_write(decision=decision, user=user)
    )
    return render(
        request,
        "licenses/fast_track_detail.html",
        {
            "decision": decision,
            "effect": effect,
            "state": DECISION_STATES.get(effect.state, effect.state),
            "state_css": DECISION_STATE_CSS.get(effect.state, "draft"),
            "median": change_text(effect.median_change_days),
            "moves": moves,
            "more": max(total - EVENT_LIMIT, 0),
            "limited": selectors.visible_exporter_ids(user) is not None,
            "revoke_form": revoke_form if may_revoke else None,
        },
    )


class FastTrackRevoke(Page):
    permission_required = "licenses.revoke_fasttrackdecision"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("fast-track-detail", pk=_decision(request, pk).pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        decision = _writable_decision(request, pk)
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                decision = fasttrack.decision_revoke(
                    decision=decision,
                    actor=request.user,
                    now=timezone.now(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("The decision is revoked; the due dates it moved are recomputed.")
                )
                return redirect("fast-track-detail", pk=decision.pk)
        return decision_page(request, decision, form)
