"""The application list, detail and create/edit pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core.web import (
    Column,
    ListPage,
    Page,
    ServiceFormPage,
)

from .. import events, flags, ledger, selectors, services, tallies
from ..forms import (
    MOVE_FORMS,
    ApplicationFilter,
    ApplicationForm,
    CorrectForm,
    DocumentForm,
)
from ..models import ControlledItem, EventKind, LicenseApplication, LicenseType, Status
from ..timeline import local_due_date, local_reply_due_date, timeline

# URL slug → service move name, in the order of the moves table.
MOVE_SLUGS = {name.replace("_", "-"): name for name in MOVE_FORMS}

MOVE_BUTTONS = services.MOVE_LABELS

MOVE_HELP = {
    "submit": gettext_lazy("The application was filed with the authority."),
    "accept": gettext_lazy("The authority accepted the application for review."),
    "request_info": gettext_lazy(
        "The authority stopped the clock: it asked us for information, or the case is with "
        "experts, inspected on site, or the item being identified."
    ),
    "provide_info": gettext_lazy("We gave the information: the clock runs again."),
    "approve": gettext_lazy("The authority granted the license."),
    "reject": gettext_lazy("The authority refused the license."),
    "withdraw": gettext_lazy("We withdrew the application."),
    "suspend": gettext_lazy(
        "The authority suspended the license: shipments not yet shipped cannot ship."
    ),
    "reinstate": gettext_lazy(
        "The authority lifted the suspension: the license can be used again."
    ),
    "revoke": gettext_lazy(
        "The authority revoked the license (final): shipments not yet shipped go back to "
        "planned and give back what they reserved."
    ),
    "surrender": gettext_lazy(
        "We gave the license back (final): shipments not yet shipped go back to planned and "
        "give back what they reserved."
    ),
    "amend": gettext_lazy(
        "We asked the authority to change the quantity, value or validity; the license stays "
        "usable while it decides."
    ),
    "approve_amendment": gettext_lazy(
        "The authority granted the amendment: its values become the license's."
    ),
    "refuse_amendment": gettext_lazy(
        "The authority refused the amendment: the license stays as it was."
    ),
    "refer": gettext_lazy(
        "The authority referred the case (State Council, watch list, interagency review): "
        "it stays pending with no time limit."
    ),
    "return": gettext_lazy(
        "The authority returned the application without action: it is no longer pending and "
        "its shipments go back to planned."
    ),
    "resubmit": gettext_lazy(
        "We filed the returned application again: the clock starts afresh on this day."
    ),
}

MOVE_SERVICES: dict[str, Callable[..., LicenseApplication]] = {
    "submit": services.application_submit,
    "accept": services.application_accept,
    "request_info": services.application_request_info,
    "provide_info": services.application_provide_info,
    "approve": services.application_approve,
    "reject": services.application_reject,
    "withdraw": services.application_withdraw,
    "suspend": services.application_suspend,
    "reinstate": services.application_reinstate,
    "revoke": services.application_revoke,
    "surrender": services.application_surrender,
    "amend": services.application_amend,
    "approve_amendment": services.application_approve_amendment,
    "refuse_amendment": services.application_refuse_amendment,
    "refer": services.application_refer,
    "return": services.application_return,
    "resubmit": services.application_resubmit,
}

MOVE_PERMISSION = "licenses.move_licenseapplication"

DOCUMENT_PERMISSION = "licenses.add_document"


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
        "likely": ("forecast_p50",),
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
        Column("pause_reason", lambda a: a.pause_reason or ""),
        Column("reply_due_at", lambda a: a.reply_due_at),
        Column("forecast_p50", lambda a: a.forecast_p50),
        Column("forecast_p90", lambda a: a.forecast_p90),
        Column("forecast_level", lambda a: a.forecast_level),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.application_list(user=self.request.user)

    def known_count(self, params: dict[str, str]) -> int | None:
        """Unfiltered, or filtered by one state only: from the status tallies."""
        return tallies.known_count(
            tallies.APPLICATION, params, Status.values, user=self.request.user
        )

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


def _forecast(application: LicenseApplication) -> dict[str, Any] | None:
    """What the page says of the stored forecast: its dates and the history it came from
    (the first item, lowest id, keys the history)."""
    if not application.forecast_level:
        return None
    first_item = min(application.items.all(), key=lambda i: i.pk, default=None)
    return {
        "p50": application.forecast_p50,
        "p90": application.forecast_p90,
        "level": application.forecast_level,
        "decided": application.forecast_decided,
        "item": first_item.code if first_item else "",
        "destination": application.destination,
        "authority": application.authority.code,
    }


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
    remaining_quantity, remaining_value = ledger.remaining(application)
    return {
        "application": application,
        "items": application.items.all(),
        "due_date": local_due_date(application),
        "reply_due_date": local_reply_due_date(application),
        "forecast": _forecast(application),
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
        "remaining_quantity": remaining_quantity,
        "remaining_value": remaining_value,
        "ledger": ledger.ledger(application),
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
