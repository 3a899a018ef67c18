"""The shipment list, detail, create/edit, move and correction pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.web import Column, ListPage, MovePage, Page, ServiceFormPage
from licenses import flags, tallies
from licenses import selectors as license_selectors
from licenses.forms import CorrectForm
from licenses.timeline import local_due_date, timeline

from .. import selectors, services
from ..forms import (
    ShipForm,
    ShipmentFilter,
    ShipmentForm,
    ShipmentMoveForm,
)
from ..models import Shipment, ShipmentStatus, status_phrase
from ..services.moves import MOVE_LABELS, not_legal_message
from ..services.requirements import IN_SCOPE, shipment_measures

MOVE_BUTTONS = MOVE_LABELS

MOVE_HELP = {
    "ship": gettext_lazy("The goods left under the license."),
    "deliver": gettext_lazy("The goods arrived at the consignee."),
    "hold": gettext_lazy("Stop the shipment for now; it keeps its license."),
    "release": gettext_lazy("Take it off hold: it returns to what its license allows."),
    "cancel": gettext_lazy("It will not ship; a general license gets its quantity back."),
}

MOVE_SERVICES: dict[str, Callable[..., Shipment]] = {
    "ship": services.shipment_ship,
    "deliver": services.shipment_deliver,
    "hold": services.shipment_hold,
    "release": services.shipment_release,
    "cancel": services.shipment_cancel,
}

MOVE_PERMISSION = "shipments.move_shipment"


def move_form(shipment: Shipment, name: str, data: Any = None, **kwargs: Any) -> Any:
    """The form of a move: shipping asks what left, the others when and why."""
    if name == "ship":
        return ShipForm(data, shipment=shipment, **kwargs)
    return ShipmentMoveForm(data, **kwargs)


def shipment_flags(shipment: Shipment) -> list[Any]:
    """Its own open flags and its application's (prefetched as `open_flags`)."""
    own = list(getattr(shipment, "open_flags", []))
    if shipment.application_id and shipment.application is not None:
        own += list(getattr(shipment.application, "open_flags", []))
    return own


class ShipmentList(ListPage):
    permission_required = "shipments.view_shipment"
    template_name = "shipments/shipment_list.html"
    filterset_class = ShipmentFilter
    sorts = {
        "reference": ("reference",),
        "exporter": ("exporter__name", "reference"),
        "destination": ("destination", "reference"),
        "ship_date": ("planned_ship_date",),
        "status": ("status", "planned_ship_date"),
        "due": ("application__due_at",),
        "file_by": ("deadline__file_by_date",),
        "quantity": ("quantity",),
    }
    default_sort = "ship_date"
    csv_filename = "shipments.csv"
    csv_columns = (
        Column("id", lambda s: s.pk),
        Column("reference", lambda s: s.reference),
        Column("exporter", lambda s: s.exporter.name),
        Column("item", lambda s: s.item.code),
        Column("quantity", lambda s: s.quantity),
        Column("unit", lambda s: s.unit),
        Column("value", lambda s: s.value),
        Column("currency", lambda s: s.currency),
        Column("destination", lambda s: s.destination),
        Column("consignee", lambda s: s.consignee.name if s.consignee else ""),
        Column("planned_ship_date", lambda s: s.planned_ship_date),
        Column("application", lambda s: s.application.reference if s.application else ""),
        Column("application_status", lambda s: s.application.status if s.application else ""),
        Column(
            "license_due_date",
            lambda s: local_due_date(s.application) if s.application else None,
        ),
        Column("file_by_date", lambda s: s.file_by_date),
        Column("status", lambda s: s.status),
        Column("license_required", lambda s: "true" if s.license_required else "false"),
        Column("flags", lambda s: " ".join(f.kind for f in shipment_flags(s))),
        Column("shipped_at", lambda s: s.shipped_at),
        Column("shipped_quantity", lambda s: s.shipped_quantity),
        Column("transport_document", lambda s: s.transport_document),
        Column("customs_declaration", lambda s: s.customs_declaration),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.shipment_list(user=self.request.user)  # joined in `for_display`

    def known_count(self, params: dict[str, str]) -> int | None:
        """Unfiltered, or filtered by one state only: from the status tallies."""
        return tallies.known_count(
            tallies.SHIPMENT, params, ShipmentStatus.values, user=self.request.user
        )

    def for_display(self, qs: QuerySet) -> QuerySet:
        """The rows joined to their application (with its authority) and deadline; their
        exporters, items and consignees, a few rows of small tables, read by id afterwards.
        Joining those too, PostgreSQL spent about 5 ms choosing an order for the joins of a
        query it then ran in half a millisecond (a page of 50 at 1,000,000 shipments)."""
        return (
            qs.select_related(None)
            .select_related("application__authority", "deadline")
            .prefetch_related(
                "exporter",
                "item",
                "consignee",
                flags.open_prefetch(),
                flags.open_prefetch(through="application__"),
            )
        )


def _shipment(request: HttpRequest, pk: int) -> Shipment:
    return get_object_or_404(
        selectors.shipment_list(user=request.user).select_related("application__authority"),
        pk=pk,
    )


class ShipmentDetail(Page):
    permission_required = "shipments.view_shipment"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        return render(
            request, "shipments/shipment_detail.html", shipment_context(request, shipment)
        )


def shipment_context(request: HttpRequest, shipment: Shipment) -> dict[str, Any]:
    user = request.user
    events = (
        license_selectors.event_list(user=user)
        .filter(shipment=shipment)
        .select_related("application")
        .order_by("occurred_at", "id")
    )
    moves = []
    correctable = None
    if user.has_perm(MOVE_PERMISSION):
        correctable = services.shipment_correctable(shipment)
        moves = [
            {
                "name": name,
                "slug": name,
                "label": MOVE_BUTTONS[name],
                "help": MOVE_HELP[name],
                "form": move_form(shipment, name, auto_id=f"{name}-%s"),
                "action": reverse("shipment-move", args=[shipment.pk, name]),
            }
            for name in services.legal_shipment_moves(shipment)
        ]
    documents = license_selectors.document_list(user=user).none()
    if shipment.application_id:
        documents = license_selectors.document_list(user=user).filter(
            application_id=shipment.application_id
        )
    return {
        "shipment": shipment,
        "application": shipment.application,
        "due_date": local_due_date(shipment.application) if shipment.application else None,
        "flags": license_selectors.scope(flags.open_flags_of(shipment), user),
        "documents": documents.select_related("uploaded_by"),
        "timeline": timeline(events),
        "moves": moves,
        "correctable": correctable,
        "correct_form": CorrectForm(auto_id="correct-%s") if correctable else None,
        "may_edit": user.has_perm("shipments.change_shipment")
        and shipment.status in services.EDITABLE_STATUSES,
        "may_file": user.has_perm(FILE_PERMISSION) and services.may_file_application(shipment),
        "measures": shipment_measures([shipment])[shipment.pk],
        # before shipping, today's need for a license differs from the ship date's
        "control_change": shipment.status in IN_SCOPE
        and shipment.license_required != shipment.license_required_today,
    }


FILE_PERMISSION = "licenses.add_licenseapplication"


class ShipmentFileApplication(Page):
    """POST: file a draft application from the shipment's facts and assign the shipment to
    it (`shipments.services.shipment_file_application`), then show the draft. A refusal
    (the shipment already has an application in force, or is not planned) goes back to the
    shipment with the reason."""

    permission_required = FILE_PERMISSION
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        try:
            application = services.shipment_file_application(
                shipment=shipment, now=timezone.now(), actor=request.user
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("shipment-detail", pk=shipment.pk)
        messages.success(
            request,
            _(
                "Draft application %(app)s filed for shipment %(ref)s from its facts. "
                "Check it, attach its documents and submit it."
            )
            % {"app": application.reference, "ref": shipment.reference},
        )
        return redirect("application-detail", pk=application.pk)


class ShipmentCreate(ServiceFormPage):
    permission_required = "shipments.add_shipment"
    form_class = ShipmentForm
    form_takes_user = True
    service: Callable[..., Any] = services.shipment_create
    title = gettext_lazy("New shipment")
    success_message = gettext_lazy("Shipment %(ref)s created.")
    detail_url = "shipment-detail"

    def initial(self) -> dict[str, Any]:
        """From `?application=<pk>`: the application's exporter, destination and currency."""
        application_id = self.request.GET.get("application")
        if not (application_id and application_id.isdigit()):
            return {}
        application = (
            license_selectors.application_list(user=self.request.user)
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            return {}
        return {
            "application": application,
            "exporter": application.exporter,
            "destination": application.destination,
            "currency": application.currency,
        }

    def service_kwargs(self, form: Any) -> dict[str, Any]:
        return form.service_fields()


class ShipmentEdit(ShipmentCreate):
    permission_required = "shipments.change_shipment"
    service = services.shipment_update
    object_arg = "shipment"
    title = gettext_lazy("Edit shipment %(ref)s")
    success_message = gettext_lazy("Shipment %(ref)s saved.")

    def get_object(self, pk: int) -> Shipment:
        return _shipment(self.request, pk)


class ShipmentMove(MovePage):
    """One move of a shipment: GET shows its form, POST makes it through the service."""

    permission_required = MOVE_PERMISSION
    template_name = "shipments/shipment_move.html"
    object_arg = "shipment"
    detail_url = "shipment-detail"

    def get_object(self, pk: int) -> Shipment:
        return _shipment(self.request, pk)

    def is_legal(self, obj: Shipment, name: Any) -> bool:
        return name in services.legal_shipment_moves(obj)

    def illegal_message(self, obj: Shipment, name: Any) -> str:
        return not_legal_message(name, obj.status)

    def get_form(self, obj: Shipment, name: Any, data: Any = None) -> Any:
        return move_form(obj, name, data)

    def service(self, name: Any) -> Callable[..., Any]:
        return MOVE_SERVICES[name]

    def success_message(self, obj: Shipment, name: Any) -> str:
        return _("%(move)s recorded: %(ref)s is now %(state)s.") % {
            "move": MOVE_BUTTONS[name],
            "ref": obj,
            "state": ShipmentStatus(obj.status).label,
        }

    def context(self, obj: Shipment, name: Any) -> dict[str, Any]:
        move = {"name": name, "slug": name, "label": MOVE_BUTTONS[name], "help": MOVE_HELP[name]}
        return {"move": move, "legal": self.is_legal(obj, name)}


class ShipmentCorrect(MovePage):
    """Re-date or undo the latest officer move, with a note; the correction is a new event."""

    permission_required = MOVE_PERMISSION
    template_name = "shipments/shipment_correct.html"
    object_arg = "shipment"
    detail_url = "shipment-detail"

    def get_object(self, pk: int) -> Shipment:
        return _shipment(self.request, pk)

    def get_form(self, obj: Shipment, name: Any, data: Any = None) -> Any:
        return CorrectForm(data)

    def service(self, name: Any) -> Callable[..., Any]:
        return services.shipment_correct

    def success_message(self, obj: Shipment, name: Any) -> str:
        return _("Correction recorded: %(ref)s is %(state)s.") % {
            "ref": obj,
            "state": status_phrase(obj.status),
        }

    def context(self, obj: Shipment, name: Any) -> dict[str, Any]:
        return {"latest": services.shipment_correctable(obj)}
