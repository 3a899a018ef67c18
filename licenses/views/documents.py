"""Uploading and downloading an application's documents."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.errors import DomainError
from core.web import (
    Page,
    add_errors,
    limit_uploads,
    megabytes,
)

from .. import documents, selectors
from ..forms import (
    DocumentForm,
)
from ..models import LicenseApplication
from .applications import DOCUMENT_PERMISSION, _application, detail_context


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
