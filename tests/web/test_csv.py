"""CSV exports are exactly what the list shows with the same filters, streamed, with nothing of
another exporter and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from core.web import safe_cell
from monitoring.models import Flag

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_shipment_export_has_the_listed_columns_and_one_row_per_shipment(
    client, officer, world
):
    client.force_login(officer)
    rows = read_csv(client.get("/shipments/export.csv"))
    assert list(rows[0]) == [
        "id", "reference", "exporter", "item", "quantity", "unit", "value", "currency",
        "destination", "consignee", "planned_ship_date", "application", "application_status",
        "license_due_date", "file_by_date", "status", "license_required", "flags", "shipped_at",
        "shipped_quantity", "transport_document", "customs_declaration",
    ]  # fmt: skip
    mine = next(r for r in rows if r["reference"] == "GZ-SHP-1")
    assert mine["exporter"] == world.mine.exporter.name
    assert mine["application"] == "GZ-APP-1"
    assert mine["status"] == "awaiting_license"
    assert mine["flags"] == "overdue"  # its application's open flag
    assert mine["unit"] == "kg" and mine["quantity"] == "100.000"
    assert mine["license_required"] == "true"  # no measure names its item


def test_the_export_holds_exactly_the_filtered_rows_in_the_listed_order(client, officer, world):
    client.force_login(officer)
    page = client.get("/shipments/?destination=jp&sort=reference")
    listed = [s.reference for s in page.context["rows"]]
    exported = [
        r["reference"]
        for r in read_csv(client.get("/shipments/export.csv?destination=jp&sort=reference"))
    ]
    assert listed == exported == ["BT-SHP-1"]

    both = [r["reference"] for r in read_csv(client.get("/shipments/export.csv?sort=-reference"))]
    assert both == ["GZ-SHP-1", "BT-SHP-1"]


def test_the_export_is_not_limited_to_one_page(client, officer, world, monkeypatch):
    from shipments.views import ShipmentList

    monkeypatch.setattr(ShipmentList, "paginate_by", 1)
    client.force_login(officer)
    assert len(client.get("/shipments/").context["rows"]) == 1
    assert len(read_csv(client.get("/shipments/export.csv"))) == 2


def test_a_limited_user_exports_nothing_of_another_exporter(client, limited, world):
    client.force_login(limited)
    for url in (
        "/shipments/export.csv",
        "/applications/export.csv",
        "/exporters/export.csv",
        "/consignees/export.csv",
    ):
        text = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        assert "Baotou" not in text and "BT-" not in text, url
        assert "Ganzhou" in text, url


def test_a_limited_user_cannot_widen_the_export_with_another_exporters_filter(
    client, limited, world
):
    client.force_login(limited)
    rows = read_csv(client.get(f"/shipments/export.csv?exporter={world.theirs.exporter.pk}"))
    # Not a valid choice for this user: the filter is ignored (the list says so), and the
    # rows are still only the user's own, exactly as the list shows them.
    assert [r["reference"] for r in rows] == ["GZ-SHP-1"]
    page = client.get(f"/shipments/?exporter={world.theirs.exporter.pk}").content.decode()
    assert "These filters were not applied" in page and "BT-SHP-1" not in page


def test_the_application_export_follows_the_open_flag_filter(client, officer, world):
    Flag.objects.filter(application=world.theirs.application).update(
        cleared_at=world.theirs.application.submitted_at
    )
    client.force_login(officer)
    rows = read_csv(client.get("/applications/export.csv?flag=overdue"))
    assert [r["reference"] for r in rows] == ["GZ-APP-1"]
    assert rows[0]["authority"] == "MOFCOM" and rows[0]["items"] == "1C902"
    assert rows[0]["due_date"]  # the authority's local due date


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tcmd"])
def test_a_cell_that_starts_like_a_formula_is_exported_as_text(value):
    assert safe_cell(value) == "'" + value


def test_an_exporter_named_like_a_formula_is_exported_as_text(client, officer, world):
    exporter = world.mine.exporter
    exporter.name = "=cmd|' /C calc'!A0"
    exporter.save()
    client.force_login(officer)
    rows = read_csv(client.get("/exporters/export.csv?sort=name"))
    assert "'=cmd|' /C calc'!A0" in [r["name"] for r in rows]
