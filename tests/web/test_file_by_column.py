"""The last day to file on the shipments list: a sortable column, and in the CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from .test_file_application import planned

pytestmark = pytest.mark.django_db


def references(html: str, refs: list[str]) -> list[str]:
    return sorted(refs, key=html.index)


def test_the_list_shows_and_sorts_by_the_last_day_to_file(client, officer, world):
    import datetime as dt

    from django.utils import timezone

    from shipments import services as shipping

    early = planned(world.mine.exporter, "GZ-EARLY")
    late = planned(world.mine.exporter, "GZ-LATE")
    shipping.shipment_update(
        shipment=late,
        now=timezone.now(),
        actor=None,
        planned_ship_date=early.planned_ship_date + dt.timedelta(days=30),
    )
    late.refresh_from_db()
    assert early.file_by_date < late.file_by_date
    client.force_login(officer)
    html = client.get("/shipments/?sort=file_by").content.decode()
    assert "Last day to file" in html
    assert f"{early.file_by_date:%Y-%m-%d}" in html
    assert references(html, ["GZ-LATE", "GZ-EARLY"]) == ["GZ-EARLY", "GZ-LATE"]
    html = client.get("/shipments/?sort=-file_by").content.decode()
    assert references(html, ["GZ-LATE", "GZ-EARLY"]) == ["GZ-LATE", "GZ-EARLY"]


def test_the_csv_export_has_the_last_day_to_file(client, officer, world):
    shipment = planned(world.mine.exporter, "GZ-CSV")
    client.force_login(officer)
    response = client.get("/shipments/export.csv?sort=file_by")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {r["reference"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["GZ-CSV"]["file_by_date"] == shipment.file_by_date.isoformat()
    assert rows["GZ-SHP-1"]["file_by_date"] == (
        world.mine.shipment.file_by_date.isoformat() if world.mine.shipment.file_by_date else ""
    )
