"""CSV import of shipments: every error reported by row and column, all or nothing."""

from __future__ import annotations

import csv
import io

import pytest

from shipments.imports import COLUMNS, import_shipments, template_csv
from shipments.models import Shipment

from ..factories import ApplicationFactory, ConsigneeFactory
from ..helpers import NOW

pytestmark = pytest.mark.django_db


def csv_bytes(rows: list[dict[str, str]], columns=COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


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
        "UTF-8" in import_shipments(data=b"\xff\xfe\x00", user=officer, now=NOW).errors[0].message
    )
    wrong = csv_bytes([{"reference": "x"}], columns=["reference"])
    assert (
        "Missing columns" in import_shipments(data=wrong, user=officer, now=NOW).errors[0].message
    )


def test_the_template_has_the_header_and_an_example():
    lines = template_csv().splitlines()
    assert lines[0].split(",") == COLUMNS and len(lines) == 2
