"""The CSV import of shipments: the form, its report by row and column, and the template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.web import Page, limit_uploads, megabytes

from .. import imports, selectors
from ..forms import (
    ImportForm,
)

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
    return _(
        "At most %(rows)s rows and %(size)s per file, UTF-8 or GB18030 (GBK) encoded, "
        "separated by commas, semicolons or tabs."
    ) % {
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
    """The CSV template: the columns the import reads and one example row, valid on the demo."""

    permission_required = "shipments.add_shipment"

    def get(self, request: HttpRequest) -> HttpResponse:
        template = imports.template_csv(today=timezone.localdate())
        response = HttpResponse(template, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="shipments-template.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
