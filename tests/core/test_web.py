"""Putting a refusal on a form."""

from __future__ import annotations

from django import forms

from core.errors import DomainError
from core.web import add_errors


class ReferenceForm(forms.Form):
    reference = forms.CharField(label="Our reference", disabled=True, required=False)
    note = forms.CharField(required=False)


def test_a_refused_field_the_user_cannot_change_is_named_by_its_label_above_the_fields():
    form = ReferenceForm({"note": "x"})
    form.is_valid()
    add_errors(form, DomainError("Refused.", fields={"reference": "Already taken."}))
    assert form.non_field_errors() == ["Our reference: Already taken."]
    assert "reference" not in form.errors


def test_a_refused_field_of_the_form_gets_its_message_and_no_summary():
    form = ReferenceForm({"note": "x"})
    form.is_valid()
    add_errors(form, DomainError("note: Too long.", fields={"note": "Too long."}))
    assert form.errors == {"note": ["Too long."]}


def test_a_refusal_naming_no_field_is_shown_once_above_the_fields():
    form = ReferenceForm({"note": "x"})
    form.is_valid()
    add_errors(form, DomainError("Someone else changed it meanwhile."))
    assert form.non_field_errors() == ["Someone else changed it meanwhile."]
    assert list(form.errors) == ["__all__"]
