"""The back-office forms of the application moves that ask more than a date and a note (the
moves themselves are made by `core.admin_services.ServiceMoveAdmin`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.admin_services import MoveForm

from .models import PauseReason, ReferralReason


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


class AmendForm(MoveForm):
    quantity = forms.DecimalField(label=_("New quantity"), required=False)
    value = forms.DecimalField(label=_("New value"), required=False)
    valid_until = forms.DateField(
        label=_("New last day of validity"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class RequestInfoForm(MoveForm):
    reason = forms.ChoiceField(
        label=_("Why the clock stops"), choices=PauseReason.choices, initial=PauseReason.INFORMATION
    )


class ReferForm(MoveForm):
    reason = forms.ChoiceField(label=_("Why it was referred"), choices=ReferralReason.choices)
