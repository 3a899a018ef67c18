"""The fragments' `date` filter writes "Y-m-d" directly; every other format is Django's own
filter. Either way the characters are Django's."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.template import defaultfilters
from django.template.loader import engines
from django.utils import timezone, translation

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

VALUES = [
    dt.date(2026, 12, 6),
    dt.date(7, 1, 2),  # a year of one digit is padded to four, as Django pads it
    dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC),  # its own day, not Shanghai's
    dt.datetime(2026, 1, 1, 0, 5, tzinfo=SHANGHAI),
    dt.datetime(2026, 3, 4, 5, 6),  # naive
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("fmt", ["Y-m-d", "c", "j M Y", None])
def test_the_fragments_date_filter_writes_what_djangos_writes(value, fmt):
    environment = engines["jinja2"].env
    with translation.override("zh-hans"), timezone.override(SHANGHAI):
        expected = defaultfilters.date(value, fmt)
        assert environment.filters["date"](value, fmt) == expected
        drawn = environment.from_string("{{ v|date(f) }}").render(v=value, f=fmt)
    assert drawn == str(expected)
    if fmt == "Y-m-d":
        assert drawn == f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


@pytest.mark.parametrize("empty", [None, ""])
def test_no_value_is_an_empty_string(empty):
    assert engines["jinja2"].env.filters["date"](empty, "Y-m-d") == ""
