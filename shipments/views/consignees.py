"""The consignee pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy

from core.web import Column, ListPage, Page, ServiceFormPage

from .. import selectors, services
from ..forms import (
    ConsigneeFilter,
    ConsigneeForm,
)
from ..models import Consignee


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


class ConsigneeCreate(ServiceFormPage):
    permission_required = "shipments.add_consignee"
    form_class = ConsigneeForm
    form_takes_user = True
    service: Callable[..., Any] = services.consignee_create
    title = gettext_lazy("New consignee")
    success_message = gettext_lazy("Consignee %(name)s created.")
    detail_url = "consignee-detail"


class ConsigneeEdit(ConsigneeCreate):
    permission_required = "shipments.change_consignee"
    service = services.consignee_update
    object_arg = "consignee"
    title = gettext_lazy("Edit consignee %(name)s")
    success_message = gettext_lazy("Consignee %(name)s saved.")

    def get_object(self, pk: int) -> Consignee:
        return _consignee(self.request, pk)
