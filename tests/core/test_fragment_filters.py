"""The fragments' `date` filter writes "Y-m-d" directly, every other format is Django's own
filter; a printed value is escaped as Django's `conditional_escape` escapes it; `label` is the
model's `get_…_display()`. Either way the characters are Django's."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.template import defaultfilters
from django.template.loader import engines
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from licenses.models import LicenseApplication
from licenses.models import Status as ApplicationStatus
from monitoring.models import Flag, FlagKind
from shipments.models import Shipment, ShipmentStatus

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


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'Tom\'s <b>"&"</b>',
        "",
        mark_safe("<em>already safe</em>"),
        gettext_lazy("Status"),
        7,
        -12,
        True,
        183.4,
        -0.5,
        1e-07,
        float("inf"),
        None,
        Decimal("1.50"),
    ],
)
def test_a_printed_value_is_escaped_as_djangos_conditional_escape_escapes_it(value):
    environment = engines["jinja2"].env
    with translation.override("zh-hans"):
        assert environment.finalize(value) == conditional_escape(value)
        drawn = environment.from_string("{{ v }}").render(v=value)
        assert drawn == str(conditional_escape(value))  # escaped once, not twice


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_label_is_the_display_of_every_choice_in_the_active_language(language):
    label = engines["jinja2"].env.globals["label"]
    with translation.override(language):
        for status in ApplicationStatus.values:
            application = LicenseApplication(status=status)
            assert label(application, "status") == application.get_status_display()
        for status in ShipmentStatus.values:
            shipment = Shipment(status=status)
            assert label(shipment, "status") == shipment.get_status_display()
        for kind in FlagKind.values:
            assert label(Flag(kind=kind), "kind") == Flag(kind=kind).get_kind_display()
        assert label(Shipment(status="no-such"), "status") == "no-such"  # as Django: the value
    with translation.override("zh-hans"):
        assert label(Shipment(status=ShipmentStatus.PLANNED), "status") != "planned"
