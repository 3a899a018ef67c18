"""Countries: ISO 3166-1 alpha-2 codes, named in the user's language (django-countries keeps
the list and its translations, Chinese included). The database stores the code; people choose
and read the name."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django_countries import countries

# Every assigned ISO 3166-1 alpha-2 code, as the schema lists them.
COUNTRY_CODES: list[str] = sorted(code for code, _name in countries)


def is_country(code: Any) -> bool:
    """An assigned ISO 3166-1 alpha-2 code, upper-case (`DE`; not `de`, `ZZ` or `XX`)."""
    return isinstance(code, str) and len(code) == 2 and code.isupper() and code in countries


def country_name(code: str | None) -> str:
    """The country's name in the active language; the code itself when it is not one."""
    if not code:
        return ""
    return str(countries.name(code)) or code


def country_label(code: str | None) -> str:
    """ "Germany (DE)": the name and the code, for messages and lists."""
    if not code:
        return ""
    name = country_name(code)
    return f"{name} ({code})" if name != code else code


@deconstructible(path="core.countries.CountryCodeValidator")
class CountryCodeValidator:
    """Refuses anything but an assigned ISO 3166-1 alpha-2 code, naming the value."""

    def __call__(self, value: Any) -> None:
        if is_country(value):
            return
        if isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper():
            message = _("%(value)s is not an ISO 3166 country code (assigned codes only, e.g. CN).")
        else:
            message = _("%(value)s is not a two-letter ISO 3166 country code, e.g. CN.")
        raise ValidationError(message, code="invalid_country", params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountryCodeValidator)

    def __hash__(self) -> int:
        return hash(CountryCodeValidator)


def country_choices(empty_label: Any = None) -> list[tuple[str, str]]:
    """Every country by name, in the active language's order, optionally after an empty
    choice."""
    choices = [(code, str(name)) for code, name in countries]
    return [("", str(empty_label)), *choices] if empty_label is not None else choices


class CountryField(forms.ChoiceField):
    """A select of country names that stores the code. The choices are built when the form
    is rendered, so the names follow the language of the request."""

    def __init__(self, *, empty_label: Any = None, **kwargs: Any) -> None:
        required = kwargs.get("required", True)
        if empty_label is None:
            empty_label = _("— choose a country —") if required else _("Any country")
        self.empty_label = empty_label
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=self._choices_now, **kwargs)

    def _choices_now(self) -> list[tuple[str, str]]:
        return country_choices(self.empty_label)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value).strip()
        return text.upper() if len(text) == 2 else text  # "de" is DE; "Germany" is refused

    def validate(self, value: Any) -> None:
        if value in self.empty_values:
            super().validate(value)
            return
        CountryCodeValidator()(value)


class MultipleCountryField(forms.MultipleChoiceField):
    """Several countries, chosen by name; stores a list of codes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=country_choices, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        return [str(v).strip().upper() for v in super().to_python(value)]

    def validate(self, value: Any) -> None:
        if not value and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        for code in value:
            CountryCodeValidator()(code)


class CountryFilter(django_filters.Filter):
    """A list filter on a country, chosen by name ("Any country" when empty), upper-cased;
    a code that is no country makes the filter invalid (the web list says so and ignores it,
    the API answers 400)."""

    field_class = CountryField
