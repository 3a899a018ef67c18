"""Countries by their ISO codes and names; dates, moments and time zones in words."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.countries import CountryField, country_label, is_country
from core.words import day_words, moment_short, moment_words, utc_offset, zone_label
from licenses.models import country_code

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.parametrize("code", ["DE", "CN", "US", "TW", "GB"])
def test_assigned_codes_are_countries(code):
    assert is_country(code)
    country_code(code)


@pytest.mark.parametrize("code", ["ZZ", "XX", "de", "DEU", "1", "", None])
def test_anything_else_is_refused_naming_the_value(code):
    assert not is_country(code)
    with pytest.raises(ValidationError) as refused:
        country_code(code)
    assert str(code) in refused.value.messages[0]


def test_the_country_field_upper_cases_and_checks_the_code():
    field = CountryField(required=True)
    assert field.clean("de") == "DE"
    with pytest.raises(ValidationError):
        field.clean("ZZ")


def test_names_follow_the_language():
    assert country_label("JP") == "Japan (JP)"
    with translation.override("zh-hans"):
        assert country_label("JP") == "日本 (JP)"


def test_days_in_words_in_both_languages():
    day = dt.date(2027, 2, 3)
    assert day_words(day) == "3 February 2027"
    with translation.override("zh-hans"):
        assert day_words(day) == "2027年2月3日"


def test_moments_carry_their_utc_offset_not_an_abbreviation():
    moment = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)
    assert moment_words(moment, SHANGHAI) == "4 December 2026, 10:00 (UTC+08:00)"
    assert utc_offset(moment.astimezone(NEW_YORK)) == "UTC-05:00"
    with translation.override("zh-hans"):
        assert moment_words(moment, SHANGHAI) == "2026年12月4日 10:00\uff08UTC+08:00\uff09"


def test_a_time_zone_is_named_with_its_offset():
    moment = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)
    assert zone_label(SHANGHAI, at=moment) == "Asia/Shanghai (UTC+08:00)"
    assert zone_label(dt.UTC, at=moment) == "UTC"


def test_the_short_form_for_tables(settings):
    from django.utils import timezone

    with timezone.override(SHANGHAI):
        assert moment_short(dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)) == (
            "2026-12-04 10:00 UTC+08:00"
        )
