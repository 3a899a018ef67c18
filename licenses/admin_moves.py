"""Moves and corrections from the back-office: a small form per move, through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class MoveForm(forms.Form):
    at = forms.DateTimeField(
        label=_("When it happened"),
        required=False,
        help_text=_(
            "Leave empty for now. Interpreted in the site's time zone (UTC) unless an "
            "offset is given."
        ),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApproveForm(MoveForm):
    license_number = forms.CharField(label=_("License number"))
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    approved_quantity = forms.DecimalField(label=_("Approved quantity"), required=False)
    approved_value = forms.DecimalField(label=_("Approved value"), required=False)


class RejectForm(MoveForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class AcceptForm(MoveForm):
    authority_reference = forms.CharField(label=_("Authority's case number"), required=False)


class CorrectForm(forms.Form):
    undo = forms.BooleanField(label=_("Undo the latest move"), required=False)
    at = forms.DateTimeField(
        label=_("New date of the latest move"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))


def run_move_view(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    object_id: str,
    move: str,
    *,
    permission: str,
    legal: Callable[[Any], list[str]],
    forms_by_move: dict[str, type[forms.Form]],
    perform: Callable[..., Any],
) -> HttpResponse:
    """Show the move's form; on POST run the service and report success or the refusal."""
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404
    if not request.user.has_perm(permission):
        raise PermissionDenied
    if move not in legal(obj) and move != "correct":
        messages.error(request, _("That move is not possible from the current state."))
        return HttpResponseRedirect(_change_url(obj))
    form_class = forms_by_move.get(move, MoveForm)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        if move == "correct":
            data.setdefault("undo", False)
            if not data["undo"]:
                data.pop("undo")
        try:
            perform(obj, move, now=timezone.now(), actor=request.user, **data)
        except DomainError as exc:
            for field, message in exc.fields.items():
                if field in form.fields:
                    form.add_error(field, message)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Done: %(move)s.") % {"move": move.replace("_", " ")})
            return HttpResponseRedirect(_change_url(obj))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": obj,
        "title": _("%(move)s %(obj)s") % {"move": move.replace("_", " ").capitalize(), "obj": obj},
        "form": form,
        "move": move,
        "change_url": _change_url(obj),
    }
    return TemplateResponse(request, "admin/move_form.html", context)


def _change_url(obj: Any) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
