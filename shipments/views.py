"""Pages for the dashboard, shipments and consignees.

Reads go through the selectors, writes through the services; a refused write (`DomainError`,
or a model `ValidationError` from a service's `full_clean`) becomes a message and field errors
and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.errors import DomainError
from core.web import Column, ListPage, Page, add_errors, limit_uploads, megabytes
from licenses import flags
from licenses import selectors as license_selectors
from licenses.forms import CorrectForm
from licenses.timeline import local_due_date, timeline

from . import imports, selectors, services
from .forms import (
    ConsigneeFilter,
    ConsigneeForm,
    ImportForm,
    ShipmentFilter,
    ShipmentForm,
    ShipmentMoveForm,
)
from .models import Consignee, Shipment

MOVE_BUTTONS = {
    "ship": gettext_lazy("Ship"),
    "deliver": gettext_lazy("Deliver"),
    "hold": gettext_lazy("Hold"),
    "release": gettext_lazy("Release"),
    "cancel": gettext_lazy("Cancel shipment"),
}
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


# --- shipments ---------------------------------------------------------------------------------


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
        Column("status", lambda s: s.status),
        Column("flags", lambda s: " ".join(f.kind for f in shipment_flags(s))),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.shipment_list(user=self.request.user).select_related(
            "application__authority"
        )

    def for_display(self, qs: QuerySet) -> QuerySet:
        return qs.prefetch_related(
            flags.open_prefetch(),
            flags.open_prefetch(through="application__"),
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
                "form": ShipmentMoveForm(auto_id=f"{name}-%s"),
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
    }


class ShipmentCreate(Page):
    permission_required = "shipments.add_shipment"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {}
        application_id = request.GET.get("application")
        if application_id and application_id.isdigit():
            application = (
                license_selectors.application_list(user=request.user)
                .filter(pk=application_id)
                .first()
            )
            if application is not None:
                initial = {
                    "application": application,
                    "exporter": application.exporter,
                    "destination": application.destination,
                    "currency": application.currency,
                }
        return self.page(ShipmentForm(user=request.user, initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ShipmentForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                shipment = services.shipment_create(
                    now=timezone.now(), actor=request.user, **form.service_fields()
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Shipment %(ref)s created.") % {"ref": shipment})
                return redirect("shipment-detail", pk=shipment.pk)
        return self.page(form)

    def page(self, form: ShipmentForm) -> HttpResponse:
        return render(self.request, "form_page.html", {"form": form, "title": _("New shipment")})


class ShipmentEdit(Page):
    permission_required = "shipments.change_shipment"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        return self.page(ShipmentForm(instance=shipment, user=request.user), shipment)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        # The form validates its own copy; the service compares against the stored one.
        form = ShipmentForm(request.POST, instance=_shipment(request, pk), user=request.user)
        if form.is_valid():
            try:
                services.shipment_update(
                    shipment=shipment,
                    now=timezone.now(),
                    actor=request.user,
                    **form.service_fields(),
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Shipment %(ref)s saved.") % {"ref": shipment})
                return redirect("shipment-detail", pk=shipment.pk)
        return self.page(form, shipment)

    def page(self, form: ShipmentForm, shipment: Shipment) -> HttpResponse:
        return render(
            self.request,
            "form_page.html",
            {
                "form": form,
                "title": _("Edit shipment %(ref)s") % {"ref": shipment},
                "cancel_url": reverse("shipment-detail", args=[shipment.pk]),
            },
        )


class ShipmentMove(Page):
    """One move of a shipment: GET shows its form, POST makes it through the service."""

    permission_required = MOVE_PERMISSION

    def get(self, request: HttpRequest, pk: int, move: str) -> HttpResponse:
        shipment = _shipment(request, pk)
        if move not in services.legal_shipment_moves(shipment):
            messages.error(request, self.illegal(shipment, move))
            return redirect("shipment-detail", pk=shipment.pk)
        return self.page(shipment, move, ShipmentMoveForm())

    def post(self, request: HttpRequest, pk: int, move: str) -> HttpResponse:
        shipment = _shipment(request, pk)
        form = ShipmentMoveForm(request.POST)
        if form.is_valid():
            try:
                MOVE_SERVICES[move](
                    shipment=shipment,
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
                    _("%(move)s recorded: %(ref)s is now %(status)s.")
                    % {
                        "move": MOVE_BUTTONS[move],
                        "ref": shipment,
                        "status": shipment.get_status_display(),
                    },
                )
                return redirect("shipment-detail", pk=shipment.pk)
        return self.page(shipment, move, form)

    def illegal(self, shipment: Shipment, move: str) -> str:
        return _("Cannot %(move)s a shipment that is %(status)s.") % {
            "move": str(MOVE_BUTTONS[move]).lower(),
            "status": shipment.get_status_display(),
        }

    def page(self, shipment: Shipment, move: str, form: ShipmentMoveForm) -> HttpResponse:
        return render(
            self.request,
            "shipments/shipment_move.html",
            {
                "shipment": shipment,
                "move": {
                    "name": move,
                    "slug": move,
                    "label": MOVE_BUTTONS[move],
                    "help": MOVE_HELP[move],
                },
                "form": form,
                "legal": move in services.legal_shipment_moves(shipment),
            },
        )


class ShipmentCorrect(Page):
    """Re-date or undo the latest officer move, with a note; the correction is a new event."""

    permission_required = MOVE_PERMISSION

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        return self.page(shipment, CorrectForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = _shipment(request, pk)
        form = CorrectForm(request.POST)
        if form.is_valid():
            try:
                services.shipment_correct(
                    shipment=shipment,
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
                    % {"ref": shipment, "status": shipment.get_status_display()},
                )
                return redirect("shipment-detail", pk=shipment.pk)
        return self.page(shipment, form)

    def page(self, shipment: Shipment, form: CorrectForm) -> HttpResponse:
        return render(
            self.request,
            "shipments/shipment_correct.html",
            {
                "shipment": shipment,
                "form": form,
                "latest": services.shipment_correctable(shipment),
            },
        )


# --- consignees --------------------------------------------------------------------------------


class ConsigneeList(ListPage):
    permission_required = "shipments.view_consignee"
    template_name = "shipments/consignee_list.html"
    filterset_class = ConsigneeFilter
    sorts = {
        "name": ("name",),
        "exporter": ("exporter__name", "name"),
        "country": ("country", "name"),
    }
    default_sort = "name"
    csv_filename = "consignees.csv"
    csv_columns = (
        Column("id", lambda c: c.pk),
        Column("exporter", lambda c: c.exporter.name),
        Column("name", lambda c: c.name),
        Column("country", lambda c: c.country),
        Column("address", lambda c: c.address),
        Column("end_use", lambda c: c.end_use),
    )

    def base_queryset(self) -> QuerySet:
        return selectors.consignee_list(user=self.request.user)


def _consignee(request: HttpRequest, pk: int) -> Consignee:
    return get_object_or_404(selectors.consignee_list(user=request.user), pk=pk)


class ConsigneeDetail(Page):
    permission_required = "shipments.view_consignee"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        consignee = _consignee(request, pk)
        shipments = (
            selectors.shipment_list(user=request.user)
            .filter(consignee=consignee)
            .order_by("-planned_ship_date")[:50]
        )
        return render(
            request,
            "shipments/consignee_detail.html",
            {"consignee": consignee, "shipments": shipments},
        )


class ConsigneeCreate(Page):
    permission_required = "shipments.add_consignee"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(ConsigneeForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ConsigneeForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                consignee = services.consignee_create(
                    now=timezone.now(), actor=request.user, **form.cleaned_data
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Consignee %(name)s created.") % {"name": consignee})
                return redirect("consignee-detail", pk=consignee.pk)
        return self.page(form)

    def page(self, form: ConsigneeForm) -> HttpResponse:
        return render(self.request, "form_page.html", {"form": form, "title": _("New consignee")})


class ConsigneeEdit(Page):
    permission_required = "shipments.change_consignee"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        consignee = _consignee(request, pk)
        return self.page(ConsigneeForm(instance=consignee, user=request.user), consignee)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        consignee = _consignee(request, pk)
        form = ConsigneeForm(request.POST, instance=_consignee(request, pk), user=request.user)
        if form.is_valid():
            try:
                services.consignee_update(
                    consignee=consignee,
                    now=timezone.now(),
                    actor=request.user,
                    **form.cleaned_data,
                )
            except (DomainError, ValidationError) as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Consignee %(name)s saved.") % {"name": consignee})
                return redirect("consignee-detail", pk=consignee.pk)
        return self.page(form, consignee)

    def page(self, form: ConsigneeForm, consignee: Consignee) -> HttpResponse:
        return render(
            self.request,
            "form_page.html",
            {
                "form": form,
                "title": _("Edit consignee %(name)s") % {"name": consignee},
                "cancel_url": reverse("consignee-detail", args=[consignee.pk]),
            },
        )


# --- CSV import --------------------------------------------------------------------------------

IMPORT_COLUMNS = {
    "reference": gettext_lazy("Our reference for the shipment, unique per exporter."),
    "exporter_registration_number": gettext_lazy(
        "The exporter's registration number (an exporter you may see)."
    ),
    "authority": gettext_lazy("The authority's code, e.g. MOFCOM, BIS, ECJU."),
    "item_code": gettext_lazy("The controlled item's code on that authority's list."),
    "quantity": gettext_lazy("In the item's unit (kg for the minerals); up to 3 decimals."),
    "value": gettext_lazy("Up to 2 decimals."),
    "currency": gettext_lazy("Three-letter code, e.g. USD."),
    "destination": gettext_lazy("Two-letter country code, e.g. DE."),
    "consignee": gettext_lazy("Optional: the name of one of the exporter's consignees."),
    "planned_ship_date": gettext_lazy("YYYY-MM-DD."),
    "application_reference": gettext_lazy(
        "Optional: the reference of the exporter's application that covers it."
    ),
}


def import_limits() -> str:
    return _("At most %(rows)s rows and %(size)s per file, UTF-8 encoded.") % {
        "rows": imports.max_rows(),
        "size": megabytes(imports.max_bytes()),
    }


@method_decorator(csrf_exempt, name="dispatch")
class ShipmentImport(Page):
    """Upload a CSV file of shipments: every row is checked and every error reported by row
    and column; nothing is imported unless every row is good.

    As for documents, the size limit is an upload handler installed before the body is read,
    so CSRF is checked here rather than by the middleware."""

    permission_required = "shipments.add_shipment"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.limit = limit_uploads(request, imports.max_bytes())
        return csrf_protect(super().dispatch)(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(ImportForm(help_text=import_limits()))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES, help_text=import_limits())
        if "file" in self.limit.too_large:
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error(
                "file",
                _("Larger than %(size)s: nothing was imported.")
                % {"size": megabytes(imports.max_bytes())},
            )
            return self.page(form)
        if not form.is_valid():
            return self.page(form)
        upload = form.cleaned_data["file"]
        result = imports.import_shipments(data=upload.read(), user=request.user, now=timezone.now())
        if not result.ok:
            messages.error(
                request,
                ngettext(
                    "Nothing was imported: the file has %(n)d error. Correct it and upload "
                    "the whole file again.",
                    "Nothing was imported: the file has %(n)d errors. Correct them and upload "
                    "the whole file again.",
                    len(result.errors),
                )
                % {"n": len(result.errors)},
            )
            return self.page(
                ImportForm(help_text=import_limits()),
                errors=result.errors,
                filename=upload.name,
            )
        messages.success(
            request,
            ngettext("%(n)d shipment imported.", "%(n)d shipments imported.", len(result.created))
            % {"n": len(result.created)},
        )
        created = (
            selectors.shipment_list(user=request.user)
            .filter(pk__in=[s.pk for s in result.created])
            .select_related("item", "application")
            .order_by("pk")
        )
        return self.page(
            ImportForm(help_text=import_limits()), created=created, filename=upload.name
        )

    def page(self, form: ImportForm, **context: Any) -> HttpResponse:
        return render(
            self.request,
            "shipments/shipment_import.html",
            {
                "form": form,
                "limits": import_limits(),
                "columns": [
                    (name, name in imports.REQUIRED, IMPORT_COLUMNS.get(name, ""))
                    for name in imports.COLUMNS
                ],
                **context,
            },
        )


class ShipmentImportTemplate(Page):
    """The CSV template: the columns the import reads and one example row."""

    permission_required = "shipments.add_shipment"

    def get(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="shipments-template.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
