"""Services refuse with one error type: a model's own validation becomes `InvalidInput`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.errors import InvalidInput, from_validation_error
from licenses import services
from licenses.models import Exporter

from ..factories import ExporterFactory

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_each_bad_field_is_named_with_all_its_messages():
    error = from_validation_error(ValidationError({"quantity": ["Too many.", "Not a number."]}))
    assert isinstance(error, InvalidInput)
    assert (error.code, error.http_status) == ("invalid", 400)
    assert error.fields == {"quantity": "Too many. Not a number."}
    assert error.message == "quantity: Too many. Not a number."


def test_several_bad_fields_are_listed_in_the_message():
    with translation.override("en"):
        error = from_validation_error(ValidationError({"value": ["Bad."], "currency": ["Bad."]}))
    assert error.fields == {"value": "Bad.", "currency": "Bad."}
    assert error.message == "Invalid input: currency, value."


def test_what_names_no_field_is_the_message():
    error = from_validation_error(
        ValidationError({"__all__": ["Clashes with another row."], "value": ["Bad."]})
    )
    assert error.fields == {"value": "Bad."}
    assert error.message == "Clashes with another row."
    plain = from_validation_error(ValidationError("Not possible."))
    assert (plain.fields, plain.message) == ({}, "Not possible.")


@pytest.mark.django_db
def test_a_service_refuses_what_the_model_refuses_with_invalid_input_and_saves_nothing(officer):
    exporter = ExporterFactory()
    with pytest.raises(InvalidInput) as refused:
        services.exporter_update(
            exporter=exporter,
            now=NOW,
            actor=officer,
            address="1 Jiefang Road",
            contact_emails=["not-an-address"],
        )
    assert refused.value.fields == {"contact_emails": "not-an-address is not an e-mail address."}
    assert Exporter.objects.get(pk=exporter.pk).address == ""
