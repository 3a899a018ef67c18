"""Change forms that save through the services (one write path).

An admin built on `ServiceFormAdmin` never saves a model itself: `save_model` hands the
form's cleaned data to the service (`service_create` on add, `service_update` on change, the
latter given the row as stored, not the form's already-modified copy). When the service
refuses, the refusal leaves the admin's transaction, which rolls everything back, and the
change form is run again on the same POST with the refusal's messages put on its fields (the
same `add_errors` the web forms use), so the admin answers 200 with the form and its errors
and nothing is saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

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
