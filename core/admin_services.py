"""Change forms, moves and corrections that go through the services (one write path).

An admin built on `ServiceFormAdmin` never saves a model itself: `save_model` hands the
form's cleaned data to the service (`service_create` on add, `service_update` on change, the
latter given the row as stored, not the form's already-modified copy). When the service
refuses, the refusal leaves the admin's transaction, which rolls everything back, and the
change form is run again on the same POST with the refusal's messages put on its fields (the
same `add_errors` the web forms use), so the admin answers 200 with the form and its errors
and nothing is saved.

An admin built on `ServiceMoveAdmin` also offers the object's moves (and the correction of
its latest move) on its change page, each a small form whose POST calls the service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.web import add_errors

_REFUSAL = "_admin_service_refusal"


class ServiceRefusal(Exception):
    """A service refused the admin's write; raised out of the admin's transaction."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """Turn a service's refusal into a `ServiceRefusal` (for `save_model` overrides)."""
    try:
        yield
    except DomainError as exc:
        raise ServiceRefusal(exc) from exc


class ServiceFormAdmin(admin.ModelAdmin):
    """A ModelAdmin whose add and change forms save through services (see module doc).

    `service_validates_model`: the service runs the model's validation itself (`full_clean`
    after its own checks), so the form leaves it to the service."""

    service_validates_model = False
    # Deleting bypasses the services (and the event log), and most records are kept for
    # the record (closed, withdrawn, retired, revoked or deactivated instead): no delete
    # button or action unless an admin routes deletion through a service and says so.
    deletable = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Model:
        raise NotImplementedError

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Model:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        now = timezone.now()
        data = dict(form.cleaned_data)
        with refusals():
            if change:
                stored = type(obj)._default_manager.get(pk=obj.pk)
                saved = self.service_update(request, stored, data, now=now)
            else:
                saved = self.service_create(request, data, now=now)
        obj.pk = saved.pk
        obj._state.adding = False
        for field in obj._meta.concrete_fields:  # what the service stored, for the response
            setattr(obj, field.attname, getattr(saved, field.attname))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service stored the form's many-to-many fields; only inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefusal as refusal:
            # Rolled back. Validate the same POST again, this time with the refusal.
            setattr(request, _REFUSAL, refusal.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if self.service_validates_model:
            form = type(form.__name__, (form,), {"_post_clean": _leave_to_the_service})
        return with_refusal(form, getattr(request, _REFUSAL, None))


def _leave_to_the_service(form: Any) -> None:
    """The form checks its fields; the model's rules (constraints, `clean`) are the
    service's to check, with its own messages (a ModelForm would answer a conditional unique
    constraint with "Constraint … is violated.")."""


def with_refusal(form: Any, refusal: DomainError | None) -> Any:
    """The form class, made to fail validation with `refusal` (if any) on its fields."""
    if refusal is None:
        return form

    def clean(self: Any) -> Any:
        data = form.clean(self)
        add_errors(self, refusal)
        if refusal.message not in self.non_field_errors():
            self.add_error(None, refusal.message)  # what was refused, above the fields
        return data

    return type(form.__name__, (form,), {"clean": clean})


# --- moves ---------------------------------------------------------------------------------


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


class CorrectForm(forms.Form):
    undo = forms.BooleanField(label=_("Undo the latest move"), required=False)
    at = forms.DateTimeField(
        label=_("New date of the latest move"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))


CORRECT = "correct"


class ServiceMoveAdmin(admin.ModelAdmin):
    """A ModelAdmin whose change page links the object's legal moves (`move_labels`, for users
    with `move_permission`) and the correction of its latest move, each at
    `<pk>/move/<move>/` (URL name `<app>_<model>_move`): a form (`move_forms`, else a date
    and a note; `CorrectForm` for the correction) whose POST calls `perform_move`, reporting
    success or the refusal."""

    move_permission = ""
    move_labels: dict[str, Any] = {}
    move_forms: dict[str, type[forms.Form]] = {}

    def legal_moves(self, obj: Any) -> list[str]:
        raise NotImplementedError

    def perform_move(self, obj: Any, move: str, **kwargs: Any) -> Any:
        """Make `move` (or, for "correct", the correction) through the service."""
        raise NotImplementedError

    def get_urls(self) -> list[Any]:
        meta = self.model._meta
        custom = [
            path(
                "<path:object_id>/move/<str:move>/",
                self.admin_site.admin_view(self.move_view),
                name=f"{meta.app_label}_{meta.model_name}_move",
            )
        ]
        return custom + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        obj = self.get_object(request, object_id)
        can_move = request.user.has_perm(self.move_permission)
        legal = (
            [(m, self.move_labels[m]) for m in self.legal_moves(obj)]
            if obj is not None and can_move
            else []
        )
        extra_context = {**(extra_context or {}), "legal_moves": legal, "can_move": can_move}
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request: HttpRequest, object_id: str, move: str) -> HttpResponse:
        """Show the move's form; on POST run the service and report success or the refusal."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not request.user.has_perm(self.move_permission):
            raise PermissionDenied
        if move not in self.legal_moves(obj) and move != CORRECT:
            messages.error(request, _("That move is not possible from the current state."))
            return HttpResponseRedirect(_change_url(obj))
        default = CorrectForm if move == CORRECT else MoveForm
        form = self.move_forms.get(move, default)(
            request.POST if request.method == "POST" else None
        )
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            if move == CORRECT:
                data.setdefault("undo", False)
                if not data["undo"]:
                    data.pop("undo")
            try:
                self.perform_move(obj, move, now=timezone.now(), actor=request.user, **data)
            except DomainError as exc:
                for field, message in exc.fields.items():
                    if field in form.fields:
                        form.add_error(field, message)
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Done: %(move)s.") % {"move": move.replace("_", " ")})
                return HttpResponseRedirect(_change_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": _("%(move)s %(obj)s")
            % {"move": move.replace("_", " ").capitalize(), "obj": obj},
            "form": form,
            "move": move,
            "change_url": _change_url(obj),
        }
        return TemplateResponse(request, "admin/move_form.html", context)


def _change_url(obj: Any) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
