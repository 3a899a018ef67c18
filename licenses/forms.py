"""Forms and list filters of the application and exporter pages.

Every choice a user is offered comes from the selectors, so a tampered POST that names another
exporter's object fails as "not a valid choice" on that field. The forms validate input; the
services decide and write.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.core.validators import validate_email
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.countries import CountryField, CountryFilter
from core.search import matching
from core.web import (
    DateInput,
    EmptyChoiceLabels,
    FilterForm,
    LocalDateTimeField,
    day_bounds,
    local_now_input,
    megabytes,
    model_choice,
    upper,
)
from core.widgets import filter_select_multiple
from core.words import zone_label

from . import audit, documents, flags, selectors
from .models import (
    PENDING_STATUSES,
    Authority,
    ClockStart,
    ControlledItem,
    Document,
    Exporter,
    LicenseApplication,
    LicenseType,
    Measure,
    MeasureKind,
    MeasureStatus,
    PauseReason,
    ReferralReason,
    Status,
)
from .services import EDITABLE_AFTER_DRAFT

CURRENCY_HELP = _("Three-letter ISO 4217 code, e.g. USD.")


def currency_input() -> forms.TextInput:
    return forms.TextInput(
        attrs={"maxlength": 3, "size": 5, "autocapitalize": "characters", "autocomplete": "off"}
    )


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ControlledItem) -> str:
        return f"{obj.authority} · {obj.code} {obj.material or obj.description} ({obj.unit})"


# --- exporters ---------------------------------------------------------------------------------


class ExporterForm(forms.ModelForm):
    country = CountryField(label=_("Country"))
    contact_emails = forms.CharField(
        label=_("Compliance contact e-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One address per line. They receive immediate alerts."),
    )

    class Meta:
        model = Exporter
        fields = ["name", "registration_number", "country", "address", "contact_emails"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["contact_emails"] = "\n".join(self.instance.contact_emails or [])

    def clean_contact_emails(self) -> list[str]:
        raw = self.cleaned_data.get("contact_emails") or ""
        addresses = [a.strip() for a in raw.replace(",", "\n").splitlines() if a.strip()]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address)
        if bad:
            raise forms.ValidationError(
                _("Not an e-mail address: %(bad)s"), params={"bad": ", ".join(bad)}
            )
        return addresses


class ExporterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Name or registration number")
    )
    country = CountryFilter(label=_("Country"), method="by_country")

    class Meta:
        form = FilterForm
        model = Exporter
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(Q(name__icontains=value) | Q(registration_number__icontains=value))

    def by_country(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(country=upper(value))


# --- applications ------------------------------------------------------------------------------


class ApplicationForm(EmptyChoiceLabels, forms.ModelForm):
    """Create or edit an application. Once submitted, only the authority's case number, the
    quantity and the value may change: the other fields are shown but disabled."""

    items = ItemChoiceField(
        label=_("Controlled items"),
        queryset=ControlledItem.objects.none(),
        widget=filter_select_multiple(size=6),
        help_text=_("All from the authority's control list, counted in the same unit."),
    )
    destination = CountryField(label=_("Destination"))

    class Meta:
        model = LicenseApplication
        fields = [
            "exporter",
            "authority",
            "license_type",
            "items",
            "destination",
            "reference",
            "authority_reference",
            "quantity",
            "value",
            "currency",
        ]
        widgets = {"currency": currency_input()}
        labels = {"exporter": _("Exporter"), "authority": _("Authority")}
        help_texts = {
            "currency": CURRENCY_HELP,
            "reference": _("Unique for the exporter."),
            "authority_reference": _("Once the authority has given one."),
            "quantity": _("In the items' unit."),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        model_choice(self, "exporter").queryset = selectors.exporter_list(user=user)
        model_choice(self, "authority").queryset = selectors.authority_list(user=user)
        model_choice(self, "items").queryset = selectors.item_list(user=user)
        self.fields["authority_reference"].required = False
        exporters = selectors.exporter_list(user=user)
        if not self.instance.pk and not self.is_bound and exporters.count() == 1:
            self.initial["exporter"] = exporters.first()
        if self.instance.pk and self.instance.status != Status.DRAFT:
            for name, form_field in self.fields.items():
                if name not in EDITABLE_AFTER_DRAFT:
                    form_field.disabled = True
                    form_field.help_text = _("Fixed once the application is submitted.")

    def clean_currency(self) -> str:
        return upper(self.cleaned_data.get("currency"))

    def clean_authority_reference(self) -> str | None:
        return (self.cleaned_data.get("authority_reference") or "").strip() or None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        exporter, reference = data.get("exporter"), data.get("reference")
        if exporter and reference:
            clash = LicenseApplication.objects.filter(exporter=exporter, reference=reference)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "reference", _("This exporter already has an application with this reference.")
                )
        authority, case = data.get("authority"), data.get("authority_reference")
        if authority and case:
            taken = LicenseApplication.objects.filter(authority=authority, authority_reference=case)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "authority_reference",
                    _("Another application already has this case number at %(authority)s.")
                    % {"authority": authority},
                )
        items = data.get("items")
        if authority and items:
            foreign = [i for i in items if i.authority_id != authority.pk]
            if foreign:
                self.add_error(
                    "items",
                    _("Not on %(authority)s's control list: %(items)s.")
                    % {"authority": authority, "items": ", ".join(i.code for i in foreign)},
                )
        return data

    def _get_validation_exclusions(self) -> set[str]:
        # clean() checks the unique references and puts a clash on its field (the model's
        # constraints would say "Constraint … is violated" for the whole form); the service
        # checks them again when it writes.
        return {*super()._get_validation_exclusions(), "reference", "authority_reference"}  # type: ignore[misc]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("items", None)
        return data


class ApplicationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        help_text=_("Reference, case number, license number, exporter or item"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            ("pending", _("pending (submitted, accepted, waiting on us or referred)")),
            *Status.choices,
        ],
        method="by_status",
    )
    exporter = django_filters.ModelChoiceFilter(
        label=_("Exporter"), queryset=lambda request: selectors.exporter_choices(user=request.user)
    )
    authority = django_filters.ModelChoiceFilter(
        label=_("Authority"),
        to_field_name="code",
        queryset=lambda request: selectors.authority_list(user=request.user),
    )
    license_type = django_filters.ChoiceFilter(label=_("License type"), choices=LicenseType.choices)
    destination = CountryFilter(label=_("Destination"), method="by_destination")
    flag = django_filters.ChoiceFilter(
        label=_("Open flag"), choices=lambda: flag_choices("application"), method="by_flag"
    )
    due_after = django_filters.DateFilter(
        label=_("Due on or after"), method="by_due_after", widget=DateInput()
    )
    due_before = django_filters.DateFilter(
        label=_("Due on or before"), method="by_due_before", widget=DateInput()
    )
    likely_before = django_filters.DateFilter(
        label=_("Likely decided by"),
        field_name="forecast_p50",
        lookup_expr="lte",
        widget=DateInput(),
        help_text=_("The forecast from the authority's history (even odds)."),
    )

    class Meta:
        form = FilterForm
        model = LicenseApplication
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(matching(value, selectors.application_matches))

    def by_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "pending":
            return qs.filter(status__in=PENDING_STATUSES)
        return qs.filter(status=value)

    def by_destination(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(destination=upper(value))

    def by_flag(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(flags.open_exists(LicenseApplication, value))

    def by_due_after(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(due_at__gte=day_bounds(value)[0])

    def by_due_before(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        return qs.filter(due_at__lt=day_bounds(value)[1])


def flag_choices(subject: str = "") -> list[tuple[str, str]]:
    return flags.choices(subject)


# --- moves -------------------------------------------------------------------------------------


class MoveForm(EmptyChoiceLabels, forms.Form):
    """What every move asks: when it happened (in the user's time zone) and a note."""

    at = LocalDateTimeField(
        label=_("When it happened"),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, application: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application = application
        now = local_now_input()
        self.fields["at"].initial = now
        self.fields["at"].widget.attrs["max"] = now
        self.fields["at"].help_text = _(
            "In your time zone (%(tz)s). Not in the future, and not before the previous move."
        ) % {"tz": zone_label()}

    def service_kwargs(self) -> dict[str, Any]:
        return {"at": self.cleaned_data["at"], "note": self.cleaned_data.get("note") or ""}


class AcceptForm(MoveForm):
    authority_reference = forms.CharField(
        label=_("Authority's case number"),
        required=False,
        max_length=60,
        help_text=_("Optional: the number the authority gave the case."),
    )

    def __init__(self, *args: Any, application: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        field = self.fields["authority_reference"]
        if application is None:
            return
        if application.authority_reference:
            field.initial = application.authority_reference
            field.help_text = _("Recorded already; change it only if the authority gave another.")
        elif application.authority.clock_starts == ClockStart.ACCEPTED:
            field.required = True
            field.help_text = _(
                "%(authority)s gives its case number on acceptance: it is required."
            ) % {"authority": application.authority.code}

    def service_kwargs(self) -> dict[str, Any]:
        reference = (self.cleaned_data.get("authority_reference") or "").strip()
        return {**super().service_kwargs(), "authority_reference": reference or None}


class ApproveForm(MoveForm):
    license_number = forms.CharField(label=_("License number"), max_length=60)
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    approved_quantity = forms.DecimalField(
        label=_("Approved quantity"), max_digits=16, decimal_places=3, min_value=0
    )
    approved_value = forms.DecimalField(
        label=_("Approved value"), max_digits=16, decimal_places=2, min_value=0
    )

    def __init__(self, *args: Any, application: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        if application is None or application.license_type != LicenseType.GENERAL:
            # An individual license covers what was applied for.
            del self.fields["approved_quantity"]
            del self.fields["approved_value"]
        else:
            self.fields["approved_quantity"].help_text = _("In %(unit)s.") % {
                "unit": ", ".join(sorted({i.unit for i in application.items.all()})) or "—"
            }
            self.fields["approved_value"].help_text = _("In %(currency)s.") % {
                "currency": application.currency
            }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {
            **super().service_kwargs(),
            "license_number": data["license_number"],
            "valid_until": data["valid_until"],
        }
        if "approved_quantity" in self.fields:
            kwargs["approved_quantity"] = data.get("approved_quantity")
            kwargs["approved_value"] = data.get("approved_value")
        return kwargs


class RejectForm(MoveForm):
    reason = forms.CharField(
        label=_("Reason for the rejection"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"]}


class AmendForm(MoveForm):
    """An amendment asks for a new quantity, value and/or validity (at least one)."""

    quantity = forms.DecimalField(
        label=_("New quantity"), max_digits=16, decimal_places=3, min_value=0, required=False
    )
    value = forms.DecimalField(
        label=_("New value"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    valid_until = forms.DateField(
        label=_("New last day of validity"), required=False, widget=DateInput()
    )

    def __init__(self, *args: Any, application: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, application=application, **kwargs)
        self.fields["note"].required = True
        self.fields["note"].help_text = _(
            "What the amendment is for. A change of item, destination or consignee needs a "
            "new application instead."
        )
        if application is not None:
            self.fields["quantity"].help_text = _("Now %(n)s. Empty: unchanged.") % {
                "n": application.approved_quantity
                if application.approved_quantity is not None
                else "—"
            }
            self.fields["value"].help_text = _("Now %(n)s %(currency)s. Empty: unchanged.") % {
                "n": application.approved_value if application.approved_value is not None else "—",
                "currency": application.currency,
            }
            self.fields["valid_until"].help_text = _("Now %(day)s. Empty: unchanged.") % {
                "day": application.valid_until or "—"
            }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().service_kwargs(),
            "quantity": data.get("quantity"),
            "value": data.get("value"),
            "valid_until": data.get("valid_until"),
        }


class RequestInfoForm(MoveForm):
    reason = forms.ChoiceField(
        label=_("Why the clock stops"),
        choices=PauseReason.choices,
        initial=PauseReason.INFORMATION,
        help_text=_(
            "Every reason stops the clock; only a request for information has a reply deadline."
        ),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"]}


class ReferForm(MoveForm):
    reason = forms.ChoiceField(label=_("Why it was referred"), choices=ReferralReason.choices)

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"]}


MOVE_FORMS: dict[str, type[MoveForm]] = {
    "submit": MoveForm,
    "accept": AcceptForm,
    "request_info": RequestInfoForm,
    "provide_info": MoveForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "withdraw": MoveForm,
    "suspend": MoveForm,
    "reinstate": MoveForm,
    "revoke": MoveForm,
    "surrender": MoveForm,
    "amend": AmendForm,
    "approve_amendment": MoveForm,
    "refuse_amendment": MoveForm,
    "refer": ReferForm,
    "return": MoveForm,
    "resubmit": MoveForm,
}


class CorrectForm(forms.Form):
    """Put the latest move right: give it a new date, or undo it. Always say why."""

    action = forms.ChoiceField(
        label=_("Correction"),
        choices=[("redate", _("Re-date the latest move")), ("undo", _("Undo the latest move"))],
        widget=forms.RadioSelect,
        initial="redate",
    )
    at = LocalDateTimeField(
        label=_("New date and time"),
        required=False,
        help_text=_("For a re-dating: when the move really happened, in your time zone."),
    )
    note = forms.CharField(
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the correction in the timeline."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["at"].widget.attrs["max"] = local_now_input()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "redate" and not data.get("at"):
            self.add_error("at", _("Give the date and time the move really happened."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        undo = self.cleaned_data["action"] == "undo"
        return {
            "undo": undo,
            "at": None if undo else self.cleaned_data["at"],
            "note": self.cleaned_data["note"],
        }


# --- documents ---------------------------------------------------------------------------------


class DocumentForm(forms.Form):
    """Attach a file to an application. The service checks size, type and content; the form
    says beforehand what is accepted."""

    kind = forms.ChoiceField(label=_("Kind of document"), choices=Document.Kind.choices)
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = accepted_files_text()
        self.fields["file"].widget.attrs["accept"] = ",".join(
            f".{ext}" for ext in documents.FILE_TYPES
        )


def accepted_files_text() -> str:
    return _(
        "PDF, PNG or JPEG image, Word document (.docx) or plain text (.txt); at most %(size)s. "
        "The content must be what its name says."
    ) % {"size": megabytes(documents.max_bytes())}


# --- fast-track decisions ----------------------------------------------------------------------


class ApplicationsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: LicenseApplication) -> str:
        return f"{obj.reference} · {obj.exporter.name} · {obj.authority.code} · {obj.destination}"


class DecisionForm(EmptyChoiceLabels, forms.Form):
    """Log an authority's fast-track decision. Choices come from the selectors (a limited
    manager is offered only their exporters and applications); `licenses.fasttrack` checks the
    rest (items on the authority's list, the period, who may name what)."""

    authority: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Authority"), queryset=Authority.objects.none()
    )
    announced_on = forms.DateField(label=_("Announced on"), widget=DateInput())
    source = forms.CharField(
        label=_("Source"),
        max_length=500,
        help_text=_("Where it was announced, e.g. “ministerial trade talks, press release of …”."),
    )
    window_days = forms.IntegerField(
        label=_("New review window"),
        min_value=1,
        max_value=3650,
        help_text=_("In days, counted in the authority's unit (working or calendar days)."),
    )
    effective_from = forms.DateField(label=_("In force from"), widget=DateInput())
    effective_until = forms.DateField(
        label=_("In force until"),
        required=False,
        widget=DateInput(),
        help_text=_("The last day it is in force; empty: until revoked."),
    )
    destinations = forms.CharField(
        label=_("Destinations"),
        required=False,
        help_text=_("Two-letter country codes separated by commas, e.g. US, DE. Empty: any."),
    )
    items = ItemChoiceField(
        label=_("Controlled items"),
        queryset=ControlledItem.objects.none(),
        required=False,
        widget=filter_select_multiple(size=5),
        help_text=_("Empty: any item of the authority."),
    )
    exporters = forms.ModelMultipleChoiceField(
        label=_("Exporters"),
        queryset=Exporter.objects.none(),
        required=False,
        widget=filter_select_multiple(size=5),
        help_text=_("Empty: any exporter."),
    )
    applications = ApplicationsChoiceField(
        label=_("Named applications"),
        queryset=LicenseApplication.objects.none(),
        required=False,
        widget=filter_select_multiple(size=5),
        help_text=_("Pending applications the authority named; empty: any."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice(self, "authority").queryset = selectors.authority_list(user=user).order_by(
            "code"
        )
        items = self.fields["items"]
        assert isinstance(items, forms.ModelMultipleChoiceField)
        items.queryset = selectors.item_list(user=user).order_by("authority__code", "code")
        exporters = self.fields["exporters"]
        assert isinstance(exporters, forms.ModelMultipleChoiceField)
        exporters.queryset = selectors.exporter_list(user=user).order_by("name")
        applications = self.fields["applications"]
        assert isinstance(applications, forms.ModelMultipleChoiceField)
        applications.queryset = (
            selectors.application_list(user=user)
            .filter(status__in=PENDING_STATUSES)
            .order_by("authority__code", "reference")
        )
        if selectors.visible_exporter_ids(user) is not None:
            exporters.help_text = _("You act for some exporters only: name the ones it is for.")

    def clean_destinations(self) -> list[str]:
        raw = self.cleaned_data.get("destinations") or ""
        return [part.upper() for part in re.split(r"[\s,;]+", raw.strip()) if part]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "authority": data["authority"],
            "window_days": data["window_days"],
            "effective_from": data["effective_from"],
            "effective_until": data.get("effective_until"),
            "destinations": data.get("destinations") or [],
            "items": list(data.get("items") or []),
            "exporters": list(data.get("exporters") or []),
            "applications": list(data.get("applications") or []),
        }

    def fingerprint(self) -> str:
        """A signature of what the preview was computed for: saving requires that the form
        still says exactly that."""
        from django.core import signing

        data = self.cleaned_data
        facts = [
            str(data["authority"].pk),
            str(data.get("announced_on")),
            data.get("source", "").strip(),
            str(data["window_days"]),
            str(data["effective_from"]),
            str(data.get("effective_until")),
            ",".join(data.get("destinations") or []),
            ",".join(str(i.pk) for i in data.get("items") or []),
            ",".join(str(e.pk) for e in data.get("exporters") or []),
            ",".join(str(a.pk) for a in data.get("applications") or []),
        ]
        return signing.Signer(salt="fast-track-preview").sign("|".join(facts)).split(":")[-1]


class RevokeForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is revoked"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the decision; the applications it moved get their windows back."),
    )


# --- measures ----------------------------------------------------------------------------------


class MeasureFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Reference or title")
    )
    authority = django_filters.ModelChoiceFilter(
        label=_("Authority"),
        to_field_name="code",
        queryset=lambda request: selectors.authority_list(user=request.user),
    )
    item = django_filters.ModelChoiceFilter(
        label=_("Controlled item"),
        field_name="items",
        queryset=lambda request: selectors.item_list(user=request.user),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status today"), choices=MeasureStatus.choices, method="by_status"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=MeasureKind.choices)

    class Meta:
        form = FilterForm
        model = Measure
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(Q(reference__icontains=value) | Q(title__icontains=value))

    def by_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.measures_with_status(qs, value, timezone.now())


# --- the audit export --------------------------------------------------------------------------


class AuditExportForm(forms.Form):
    """An exporter's events for a period: whole UTC days, both included, as CSV or JSON. Its
    fields are named as the API's query parameters (`from`, `to`, `format`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(
            label=_("First day"), widget=DateInput(), help_text=_("From 00:00 UTC that day.")
        )
        self.fields["to"] = forms.DateField(
            label=_("Last day"), widget=DateInput(), help_text=_("Up to 24:00 UTC that day.")
        )
        self.fields["format"] = forms.ChoiceField(
            label=_("Format"),
            choices=[("csv", _("CSV (a spreadsheet)")), ("json", "JSON")],
            initial="csv",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "from" in data and "to" in data:
            for name, message in audit.period_errors(data["from"], data["to"]).items():
                self.add_error(name, message)
        return data
