"""Forms and list filters of the shipment and consignee pages (choices come from the
selectors, so another exporter's objects are never a valid choice)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.countries import CountryField, CountryFilter, country_name
from core.search import matching
from core.web import DateInput, EmptyChoiceLabels, FilterForm, day_bounds, model_choice, upper
from licenses import flags
from licenses import selectors as license_selectors
from licenses.forms import CURRENCY_HELP, MoveForm, currency_input

from . import selectors
from .models import Consignee, Shipment, ShipmentStatus
from .services import CLOSED_APPLICATION

OPEN_SHIPMENT = (
    ShipmentStatus.PLANNED,
    ShipmentStatus.AWAITING_LICENSE,
    ShipmentStatus.CLEARED,
    ShipmentStatus.ON_HOLD,
)


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.authority} · {obj.code} {obj.material or obj.description} ({obj.unit})"


class ApplicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.reference} · {obj.authority} · {obj.destination} · {obj.get_status_display()}"


class ConsigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.country}) · {obj.exporter}"


# --- consignees --------------------------------------------------------------------------------


class ConsigneeForm(EmptyChoiceLabels, forms.ModelForm):
    country = CountryField(label=_("Country"))

    class Meta:
        model = Consignee
        fields = ["exporter", "name", "country", "address", "end_use"]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "end_use": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"exporter": _("Exporter")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        exporters = license_selectors.exporter_list(user=user)
        model_choice(self, "exporter").queryset = exporters
        if not self.instance.pk and not self.is_bound and exporters.count() == 1:
            self.initial["exporter"] = exporters.first()


class ConsigneeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Name, exporter or end use")
    )
    exporter = django_filters.ModelChoiceFilter(
        label=_("Exporter"),
        queryset=lambda request: license_selectors.exporter_choices(user=request.user),
    )
    country = CountryFilter(label=_("Country"), method="by_country")

    class Meta:
        form = FilterForm
        model = Consignee
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(
            Q(name__icontains=value)
            | Q(exporter__name__icontains=value)
            | Q(end_use__icontains=value)
        )

    def by_country(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(country=upper(value))


# --- shipments ---------------------------------------------------------------------------------


class ShipmentForm(EmptyChoiceLabels, forms.ModelForm):
    """Create or edit a shipment. Its unit is its item's; its exporter is fixed once created."""

    item = ItemChoiceField(label=_("Controlled item"), queryset=None)
    consignee = ConsigneeChoiceField(label=_("Consignee"), queryset=None, required=False)
    application = ApplicationChoiceField(
        label=_("License application"),
        queryset=None,
        required=False,
        help_text=_("The application that covers it: same exporter, destination and currency."),
    )
    destination = CountryField(label=_("Destination"))
    # Shown (as a checkbox) only once a consignee in another country than the destination
    # was submitted: the officer confirms it, then saves again.
    confirm_consignee_country = forms.BooleanField(
        label=_("I confirm the consignee's country"), required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Shipment
        fields = [
            "exporter",
            "reference",
            "item",
            "quantity",
            "value",
            "currency",
            "destination",
            "consignee",
            "planned_ship_date",
            "application",
        ]
        labels = {"exporter": _("Exporter")}
        widgets = {
            "currency": currency_input(),
            "planned_ship_date": DateInput(),
        }
        help_texts = {
            "currency": CURRENCY_HELP,
            "reference": _("Unique for the exporter."),
            "quantity": _("In the item's unit."),
        }

    field_order = [
        "exporter",
        "reference",
        "item",
        "quantity",
        "value",
        "currency",
        "destination",
        "consignee",
        "confirm_consignee_country",
        "planned_ship_date",
        "application",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        exporters = license_selectors.exporter_list(user=user)
        model_choice(self, "exporter").queryset = exporters
        model_choice(self, "item").queryset = license_selectors.item_list(user=user)
        model_choice(self, "consignee").queryset = selectors.consignee_list(user=user)
        # Open applications, and the one it is assigned to now even if that one closed since.
        assignable = ~Q(status__in=CLOSED_APPLICATION)
        if self.instance.pk and self.instance.application_id:
            assignable |= Q(pk=self.instance.application_id)
        model_choice(self, "application").queryset = (
            license_selectors.application_list(user=user).filter(assignable).order_by("-id")
        )
        if self.instance.pk:
            self.fields["exporter"].disabled = True
            self.fields["exporter"].help_text = _("Fixed once the shipment exists.")
        elif not self.is_bound and exporters.count() == 1:
            self.initial["exporter"] = exporters.first()

    def clean_currency(self) -> str:
        return upper(self.cleaned_data.get("currency"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        exporter, reference = data.get("exporter"), data.get("reference")
        if exporter and reference:
            clash = Shipment.objects.filter(exporter=exporter, reference=reference)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "reference", _("This exporter already has a shipment with this reference.")
                )
        return data

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        # After the model's checks: a consignee refused for another reason is not asked about.
        if not {"consignee", "destination"} & set(self.errors):
            self._check_consignee_country(self.cleaned_data)

    def _check_consignee_country(self, data: dict[str, Any]) -> None:
        """A consignee in another country than the destination is possible (a distributor
        abroad) but often a slip: ask the officer to confirm it. Only when the consignee or
        the destination is new or changed."""
        consignee, destination = data.get("consignee"), data.get("destination")
        if consignee is None or not destination or consignee.country == destination:
            return
        if self.instance.pk and not {"consignee", "destination"} & set(self.changed_data):
            return
        if data.get("confirm_consignee_country"):
            return
        names = {
            "consignee": consignee.name,
            "country": country_name(consignee.country),
            "destination": country_name(destination),
        }
        confirm = self.fields["confirm_consignee_country"]
        confirm.widget = forms.CheckboxInput()
        # A bound field keeps the label it was made with: make it again when rendered.
        self._bound_fields_cache.pop("confirm_consignee_country", None)  # type: ignore[attr-defined]
        confirm.label = (
            _("I confirm the consignee in %(country)s receives goods shipped to %(destination)s.")
            % names
        )
        self.add_error(
            "consignee",
            _(
                "%(consignee)s is in %(country)s but the shipment goes to %(destination)s. "
                "Check both, or tick the confirmation below and save again."
            )
            % names,
        )

    def _get_validation_exclusions(self) -> set[str]:
        # clean() reports a clashing reference on its field; the service checks it again.
        return {*super()._get_validation_exclusions(), "reference"}  # type: ignore[misc]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("confirm_consignee_country", None)
        if self.instance.pk:
            data.pop("exporter", None)
        return data


class ShipmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        help_text=_("Reference, item, exporter, consignee, application or case number"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[("open", _("open (not shipped or cancelled)")), *ShipmentStatus.choices],
        method="by_status",
    )
    exporter = django_filters.ModelChoiceFilter(
        label=_("Exporter"),
        queryset=lambda request: license_selectors.exporter_choices(user=request.user),
    )
    authority = django_filters.ModelChoiceFilter(
        label=_("Authority"),
        to_field_name="code",
        field_name="item__authority",
        queryset=lambda request: license_selectors.authority_list(user=request.user),
    )
    destination = CountryFilter(label=_("Destination"), method="by_destination")
    flag = django_filters.ChoiceFilter(
        label=_("Open flag"), choices=flags.choices, method="by_flag"
    )
    ship_from = django_filters.DateFilter(
        label=_("Ship date from"),
        field_name="planned_ship_date",
        lookup_expr="gte",
        widget=DateInput(),
    )
    ship_to = django_filters.DateFilter(
        label=_("Ship date to"),
        field_name="planned_ship_date",
        lookup_expr="lte",
        widget=DateInput(),
    )
    due_after = django_filters.DateFilter(
        label=_("License due on or after"), method="by_due_after", widget=DateInput()
    )
    due_before = django_filters.DateFilter(
        label=_("License due on or before"), method="by_due_before", widget=DateInput()
    )
    license_required = django_filters.ChoiceFilter(
        label=_("License required"),
        choices=[("true", _("yes")), ("false", _("no"))],
        method="by_license_required",
    )

    class Meta:
        form = FilterForm
        model = Shipment
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(matching(value, selectors.shipment_matches))

    def by_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return qs.filter(status__in=OPEN_SHIPMENT)
        return qs.filter(status=value)

    def by_destination(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(destination=upper(value))

    def by_flag(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Its own open flag of that kind, or its application's."""
        return qs.filter(flags.shipment_or_application_exists(Shipment, value))

    def by_license_required(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(license_required=value == "true")

    def by_due_after(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(application__due_at__gte=day_bounds(value)[0])

    def by_due_before(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(application__due_at__lt=day_bounds(value)[1])


class ShipmentMoveForm(MoveForm):
    """Ship, deliver, hold, release, cancel: when it happened and a note."""


class ShipForm(ShipmentMoveForm):
    """Ship: also the quantity that left (the planned one unless changed), the transport
    document and the customs declaration number. The service checks them (positive, at most
    3 decimals, covered by the license) and names the field it refuses."""

    shipped_quantity = forms.DecimalField(
        label=_("Shipped quantity"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.001", "min": "0"}),
    )
    transport_document = forms.CharField(
        label=_("Transport document"),
        required=False,
        max_length=100,
        help_text=_("Bill of lading, air waybill or other transport document number."),
    )
    customs_declaration = forms.CharField(
        label=_("Customs declaration (MRN)"),
        required=False,
        max_length=40,
        help_text=_("The customs declaration number."),
    )

    def __init__(self, *args: Any, shipment: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if shipment is not None:
            self.fields["shipped_quantity"].initial = shipment.quantity
            self.fields["shipped_quantity"].help_text = _(
                "In %(unit)s; planned: %(q)s. On a general license the drawdown follows it."
            ) % {"unit": shipment.unit, "q": shipment.quantity}

    def service_kwargs(self) -> dict[str, Any]:
        return {
            **super().service_kwargs(),
            "shipped_quantity": self.cleaned_data.get("shipped_quantity"),
            "transport_document": self.cleaned_data.get("transport_document") or "",
            "customs_declaration": self.cleaned_data.get("customs_declaration") or "",
        }


# --- CSV import --------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, help_text: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = help_text
