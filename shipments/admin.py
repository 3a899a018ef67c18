"""Back-office for consignees and shipments."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyInline
from core.admin_services import ServiceFormAdmin
from licenses.admin import ScopedAdmin
from licenses.models import Event

from . import services
from .models import Consignee, Shipment


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
class ShipmentAdmin(ServiceFormAdmin, ScopedAdmin):
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
    list_filter = ["status", "destination", "item__authority"]
    list_select_related = ["exporter", "item", "application"]
    search_fields = ["reference", "exporter__name", "consignee__name", "application__reference"]
    autocomplete_fields = ["exporter", "item", "consignee", "application"]
    date_hierarchy = "planned_ship_date"
    readonly_fields = [
        "status",
        "unit",
        "file_by_date",
        "shipped_at",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
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

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Any:
        return services.shipment_create(now=now, actor=request.user, **data)

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Any:
        return services.shipment_update(shipment=stored, now=now, actor=request.user, **data)


def _perform_shipment_move(shipment: Shipment, move: str, **kwargs: Any) -> Shipment:
    if move == "correct":
        return services.shipment_correct(shipment=shipment, **kwargs)
    return getattr(services, f"shipment_{move}")(shipment=shipment, **kwargs)
