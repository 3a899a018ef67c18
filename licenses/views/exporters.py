"""The exporter pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.web import (
    Column,
    ListPage,
    Page,
    ServiceFormPage,
)

from .. import audit, selectors, services
from ..forms import (
    AuditExportForm,
    ExporterFilter,
    ExporterForm,
)
from ..models import PENDING_STATUSES, Exporter


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
                "pending_count": applications.filter(status__in=PENDING_STATUSES).count(),
                "consignees": selectors.scope(exporter.consignees.all(), request.user),
            },
        )


class ExporterAudit(Page):
    """The audit export of an exporter's events for a period (`licenses.audit`): a form, and
    the file once the form is filled in (a GET: the same query as the API's)."""

    permission_required = ("licenses.view_exporter", "licenses.export_event")

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        exporter = get_object_or_404(selectors.exporter_list(user=request.user), pk=pk)
        now = timezone.now()
        asked = any(name in request.GET for name in ("from", "to", "format"))
        today = now.astimezone(dt.UTC).date()
        form = AuditExportForm(
            request.GET if asked else None, initial={"from": today.replace(day=1), "to": today}
        )
        if asked and form.is_valid():
            period = audit.Period(form.cleaned_data["from"], form.cleaned_data["to"])
            return audit.export_response(exporter, period, form.cleaned_data["format"], now=now)
        return render(request, "licenses/exporter_audit.html", {"exporter": exporter, "form": form})


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
