"""Back-office for consignees and shipments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyInline
from core.admin_services import MoveForm, ServiceFormAdmin, ServiceMoveAdmin
from licenses.admin import ScopedAdmin
from licenses.models import Event

from . import services
from .models import Consignee, Shipment


class ShipForm(MoveForm):
    """The ship move's form: what left, besides when (empty quantity: the planned one)."""

    shipped_quantity = forms.DecimalField(label=_("Shipped quantity"), required=False)
    transport_document = forms.CharField(label=_("Transport document"), required=False)
    customs_declaration = forms.CharField(label=_("Customs declaration (MRN)"), required=False)


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
class ConsigneeAdmin(ServiceFormAdmin, ScopedAdmin):
    service_validates_model = True
    list_display = ["name", "exporter", "country", "end_use"]
    list_filter = ["country"]
    list_select_related = ["exporter"]
    search_fields = ["name", "exporter__name"]
    autocomplete_fields = ["exporter"]

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return services.consignee_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return services.consignee_update(consignee=stored, now=now, actor=request.user, **data)


@admin.register(Shipment)
class ShipmentAdmin(ServiceMoveAdmin, ServiceFormAdmin, ScopedAdmin):
    service_validates_model = True
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
    list_filter = ["status", "license_required", "destination", "item__authority"]
    list_select_related = ["exporter", "item", "application"]
    search_fields = ["reference", "exporter__name", "consignee__name", "application__reference"]
    autocomplete_fields = ["exporter", "item", "consignee", "application"]
    date_hierarchy = "planned_ship_date"
    readonly_fields = [
        "status",
        "unit",
        "license_required",
        "file_by_date",
        "shipped_at",
        "shipped_quantity",
        "transport_document",
        "customs_declaration",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    inlines = [ShipmentEventInline]

    move_permission = "shipments.move_shipment"
    move_labels = {
        "ship": _("Ship"),
        "deliver": _("Deliver"),
        "hold": _("Hold"),
        "release": _("Release"),
        "cancel": _("Cancel"),
    }

    move_forms = {"ship": ShipForm}

    def legal_moves(self, obj: Any) -> list[str]:
        return services.legal_shipment_moves(obj)

    def perform_move(self, obj: Any, move: str, **kwargs: Any) -> Any:
        if move == "correct":
            return services.shipment_correct(shipment=obj, **kwargs)
        return getattr(services, f"shipment_{move}")(shipment=obj, **kwargs)

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return services.shipment_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return services.shipment_update(shipment=stored, now=now, actor=request.user, **data)
