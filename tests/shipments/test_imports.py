"""CSV import of shipments: every error reported by row and column, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from shipments.imports import COLUMNS, import_shipments, template_csv
from shipments.models import Shipment

from ..factories import ApplicationFactory, ConsigneeFactory
from ..helpers import NOW

pytestmark = pytest.mark.django_db


def csv_bytes(
    rows: list[dict[str, str]], columns=COLUMNS, *, encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def setting(ganzhou):
    consignee = ConsigneeFactory(
        exporter=ganzhou, name="Rheinland Magnettechnik GmbH", country="DE"
    )
    app = ApplicationFactory(
        exporter=ganzhou, reference="GZ-1", license_type="general", destination="DE", currency="USD"
    )
    return consignee, app


def row(exporter, n: int, **overrides) -> dict[str, str]:
    base = {
        "reference": f"IMP-{n}",
        "exporter_registration_number": exporter.registration_number,
        "authority": "MOFCOM",
        "item_code": "1C902",
        "quantity": "10",
        "value": "1000",
        "currency": "USD",
        "destination": "DE",
        "consignee": "Rheinland Magnettechnik GmbH",
        "planned_ship_date": "2026-12-20",
        "application_reference": "GZ-1",
    }
    return base | overrides


def test_a_good_file_imports_every_row(officer, ganzhou, setting):
    result = import_shipments(
        data=csv_bytes([row(ganzhou, i) for i in range(5)]), user=officer, now=NOW
    )
    assert result.ok and len(result.created) == 5
    _consignee, app = setting
    app.refresh_from_db()
    assert app.drawn_quantity == 50
    assert Shipment.objects.filter(reference__startswith="IMP-", status="planned").count() == 5


def test_one_bad_row_is_reported_and_nothing_is_imported(officer, ganzhou, setting):
    rows = [
        row(ganzhou, 1),
        row(ganzhou, 2, quantity="-3", planned_ship_date="20/12/2026"),
        row(ganzhou, 3, item_code="9Z999"),
        row(ganzhou, 1),
    ]
    result = import_shipments(data=csv_bytes(rows), user=officer, now=NOW)
    assert not result.ok
    found = {(e.row, e.column) for e in result.errors}
    assert {(3, "quantity"), (3, "planned_ship_date"), (4, "item_code"), (5, "reference")} <= found
    assert not Shipment.objects.exists()


def test_a_row_that_does_not_match_its_application_is_reported(officer, ganzhou, setting):
    rows = [row(ganzhou, 1), row(ganzhou, 2, destination="US")]
    result = import_shipments(data=csv_bytes(rows), user=officer, now=NOW)
    assert [(e.row, e.column) for e in result.errors] == [(3, "destination")]
    assert not Shipment.objects.exists()


def test_a_limited_user_cannot_import_for_another_exporter(outsider, ganzhou, setting):
    result = import_shipments(data=csv_bytes([row(ganzhou, 1)]), user=outsider, now=NOW)
    assert [(e.row, e.column) for e in result.errors] == [(2, "exporter_registration_number")]


def test_files_over_the_limits_or_not_csv_are_refused(officer, ganzhou, settings, setting):
    settings.IMPORT_MAX_ROWS = 3
    result = import_shipments(
        data=csv_bytes([row(ganzhou, i) for i in range(4)]), user=officer, now=NOW
    )
    assert "At most 3 rows" in result.errors[0].message
    settings.IMPORT_MAX_BYTES = 100
    assert "larger" in import_shipments(data=b"x" * 101, user=officer, now=NOW).errors[0].message
    settings.IMPORT_MAX_BYTES = 10_000
    assert (
        "neither UTF-8 nor GB18030"
        in import_shipments(data=b"\xff\xfe\x00", user=officer, now=NOW).errors[0].message
    )
    wrong = csv_bytes([{"reference": "x"}], columns=["reference"])
    assert (
        "Missing columns" in import_shipments(data=wrong, user=officer, now=NOW).errors[0].message
    )


def test_the_template_has_the_header_and_an_example_a_month_ahead():
    lines = template_csv(today=dt.date(2026, 11, 29)).splitlines()
    assert lines[0].split(",") == COLUMNS and len(lines) == 2
    assert "2026-12-29" in lines[1]


def test_a_gbk_file_with_chinese_names_imports(officer, ganzhou, setting):
    consignee = ConsigneeFactory(exporter=ganzhou, name="上海稀土贸易有限公司", country="DE")
    data = csv_bytes([row(ganzhou, 1, consignee=consignee.name)], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = import_shipments(data=data, user=officer, now=NOW)
    assert result.ok, result.errors
    assert result.created[0].consignee == consignee


def test_a_gb18030_file_imports_and_a_gbk_error_names_the_chinese_value(officer, ganzhou, setting):
    result = import_shipments(
        data=csv_bytes([row(ganzhou, 1, consignee="不存在的公司")], encoding="gb18030"),
        user=officer,
        now=NOW,
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "consignee")]


def test_utf8_with_a_byte_order_mark_imports(officer, ganzhou, setting):
    data = csv_bytes([row(ganzhou, 1), row(ganzhou, 2)], encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    result = import_shipments(data=data, user=officer, now=NOW)
    assert result.ok, result.errors
    assert len(result.created) == 2


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_semicolon_tab_and_comma_separated_files_import(officer, ganzhou, setting, delimiter):
    # A decimal comma in a semicolon file would not be a number; the quantities have none.
    data = csv_bytes([row(ganzhou, 1), row(ganzhou, 2)], delimiter=delimiter)
    result = import_shipments(data=data, user=officer, now=NOW)
    assert result.ok, result.errors
    assert len(result.created) == 2


def test_a_semicolon_file_in_gbk_with_a_bom_less_header_imports(officer, ganzhou, setting):
    data = csv_bytes([row(ganzhou, 1)], encoding="gb18030", delimiter=";")
    assert import_shipments(data=data, user=officer, now=NOW).ok


def test_a_date_that_does_not_exist_is_named_and_a_malformed_one_asks_for_the_format(
    officer, ganzhou, setting
):
    rows = [
        row(ganzhou, 1, planned_ship_date="2027-02-30"),
        row(ganzhou, 2, planned_ship_date="30.02.2027"),
        row(ganzhou, 3, planned_ship_date="2027-13-01"),
    ]
    result = import_shipments(data=csv_bytes(rows), user=officer, now=NOW)
    messages = {e.row: e.message for e in result.errors}
    assert messages[2] == "30 February 2027 is not a date."
    assert messages[3] == "Use a date as YYYY-MM-DD."
    assert messages[4] == "There is no month 13; use a date as YYYY-MM-DD."
    assert not Shipment.objects.exists()


def test_the_date_message_is_translated(officer, ganzhou, setting):
    from django.utils import translation

    with translation.override("zh-hans"):
        result = import_shipments(
            data=csv_bytes([row(ganzhou, 1, planned_ship_date="2027-02-30")]),
            user=officer,
            now=NOW,
        )
    assert result.errors[0].message == "2027年2月30日不是有效日期。"
