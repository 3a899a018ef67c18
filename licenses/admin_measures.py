"""The measures registry in the back-office: a measure with its suspensions (an editable
inline) and its history (read-only), saved through `services.measure_create` and
`measure_update` together, never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin_services import ServiceFormAdmin

from . import selectors, services
from .models import Measure, MeasureChange, MeasureSuspension
from .services.measures import PLAIN_FIELDS

_FORMSETS = "_measure_formsets"


class DestinationsField(forms.CharField):
    """ISO codes typed as "US, JP" (empty: any destination); the service checks each."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class MeasureForm(forms.ModelForm):
    destinations = DestinationsField(
        label=_("destinations"),
        required=False,
        help_text=_("ISO 3166 alpha-2 codes separated by commas, e.g. US, JP; empty: any."),
    )
    change_note = forms.CharField(
        label=_("Why it changes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the measure's history."),
    )

    class Meta:
        model = Measure
        fields = [
            "authority",
            "reference",
            "title",
            "kind",
            "announced_on",
            "effective_from",
            "effective_until",
            "items",
            "destinations",
            "source",
            "note",
        ]


class MeasureSuspensionInline(admin.TabularInline):
    model = MeasureSuspension
    extra = 0
    fields = ["starts_on", "ends_on", "reference"]

    # Suspensions are part of the measure: whoever may write the measure may edit them (the
    # service stores them with it).
    def _may_write(self, request: HttpRequest, obj: Any) -> bool:
        perm = "licenses.change_measure" if obj is not None else "licenses.add_measure"
        limited = selectors.visible_exporter_ids(request.user) is not None
        return not limited and request.user.has_perm(perm)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("licenses.view_measure")


class MeasureChangeInline(admin.TabularInline):
    model = MeasureChange
    extra = 0
    fields = ["changed_at", "actor", "action", "changes", "note"]
    readonly_fields = ["changed_at", "actor", "action", "changes", "note"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MeasureAdmin(ServiceFormAdmin):
    """Managers and administrators log and edit measures; the suspensions inline is handed to
    the service with the rest of the form (it replaces the measure's suspensions)."""

    service_validates_model = True
    form = MeasureForm
    inlines = [MeasureSuspensionInline, MeasureChangeInline]
    list_display = ["reference", "title", "authority", "kind", "effective_from", "effective_until"]
    list_filter = ["authority", "kind"]
    list_select_related = ["authority"]
    search_fields = ["reference", "title", "note"]
    autocomplete_fields = ["authority", "items"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "authority"] if obj is not None else fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # kept for the record; end it with an end date instead

    # A measure binds every exporter: a user limited to some exporters only reads them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        limited = selectors.visible_exporter_ids(request.user) is not None
        return not limited and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        limited = selectors.visible_exporter_ids(request.user) is not None
        return not limited and super().has_change_permission(request, obj)

    def _create_formsets(self, request: HttpRequest, obj: Any, change: bool) -> Any:
        # Django's own step that builds the inlines' formsets (validated before `save_model`).
        formsets, inline_instances = super()._create_formsets(  # type: ignore[misc]
            request, obj, change
        )
        setattr(request, _FORMSETS, formsets)
        return formsets, inline_instances

    def _suspensions(self, request: HttpRequest) -> list[dict[str, Any]]:
        for formset in getattr(request, _FORMSETS, []):
            if formset.model is MeasureSuspension:
                return [
                    {
                        "from": f.cleaned_data["starts_on"],
                        "until": f.cleaned_data.get("ends_on"),
                        "reference": f.cleaned_data.get("reference") or "",
                    }
                    for f in formset.forms
                    if f.cleaned_data
                    and not f.cleaned_data.get("DELETE")
                    and f.cleaned_data.get("starts_on")
                ]
        return []

    def _fields(self, request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
        fields = {name: data[name] for name in PLAIN_FIELDS if name in data}
        fields["items"] = list(data.get("items") or [])
        fields["destinations"] = data.get("destinations") or []
        fields["suspensions"] = self._suspensions(request)
        return fields

    def service_create(self, request: HttpRequest, data: dict[str, Any], *, now: Any) -> Measure:
        return services.measure_create(
            authority=data["authority"], actor=request.user, now=now, **self._fields(request, data)
        )

    def service_update(
        self, request: HttpRequest, stored: Any, data: dict[str, Any], *, now: Any
    ) -> Measure:
        return services.measure_update(
            measure=stored,
            actor=request.user,
            now=now,
            change_note=data.get("change_note") or "",
            **self._fields(request, data),
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The service stored the suspensions; the history is read-only. Nothing to save, and
        # nothing for the admin's own log to list.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
