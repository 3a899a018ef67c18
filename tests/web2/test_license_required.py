"""Whether a shipment needs a license, as the API, the shipment page, the list and the export
show it: `license_required`, the measures that apply on its ship date, its last day to file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses import signals
from licenses.models import Measure
from shipments.models import Shipment

from ..factories import authority, item
from ..web.conftest import WEB_NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_seeded_measures")]

D = dt.date.fromisoformat


def measure(reference: str, *, destinations=(), kind="control") -> Measure:
    """A measure in force since 2025 on 1C902, announced to the shipments."""
    m = Measure.objects.create(
        authority=authority("MOFCOM"),
        reference=reference,
        title=reference,
        kind=kind,
        announced_on=D("2025-04-04"),
        effective_from=D("2025-04-04"),
        destinations=list(destinations),
    )
    m.items.set([item("1C902")])
    signals.measure_changed.send(
        sender=Measure, authority_id=m.authority_id, item_ids=[item("1C902").pk], now=WEB_NOW
    )
    return m


@pytest.fixture
def measures(world):
    """Japan (Baotou's destination) needs a license; Germany (Ganzhou's) does not, and a ban
    names Germany."""
    measure("MOFCOM 2025 No. 18", destinations=["JP"])
    measure("Ban DE", destinations=["DE"], kind="ban")
    return world


def test_the_api_shows_whether_a_license_is_needed_and_the_measures_that_apply(
    api, officer, measures
):
    client = api(officer)
    rows = {r["reference"]: r for r in client.get("/api/v1/shipments/").json()["results"]}
    japan, germany = rows["BT-SHP-1"], rows["GZ-SHP-1"]
    assert (japan["license_required"], japan["measures"]) == (True, ["MOFCOM 2025 No. 18"])
    assert japan["file_by_date"] is not None
    assert (germany["license_required"], germany["measures"]) == (False, ["Ban DE"])
    assert germany["file_by_date"] is None
    # it follows its application no more: it needs no license
    assert germany["status"] == "cleared"

    only = client.get("/api/v1/shipments/?license_required=false").json()["results"]
    assert [r["reference"] for r in only] == ["GZ-SHP-1"]
    # read-only: sent, it is ignored
    response = client.patch(
        f"/api/v1/shipments/{japan['id']}/", {"license_required": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["license_required"] is True


def test_the_api_reads_the_measures_once_per_page(api, officer, measures):
    client = api(officer)
    client.get("/api/v1/shipments/")  # warm what is cached per process
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/shipments/")
    reads = [q["sql"] for q in captured.captured_queries if "licenses_measure" in q["sql"]]
    assert len(reads) == 3  # measures, suspensions, their items: once for the page


def test_the_shipment_page_says_whether_a_license_is_needed_on_its_ship_date(
    client, officer, measures
):
    client.force_login(officer)
    japan = Shipment.objects.get(reference="BT-SHP-1")
    page = client.get(f"/shipments/{japan.pk}/").content.decode()
    day = japan.planned_ship_date.isoformat()
    assert f"License required on {day}" in page
    assert "yes — measures: MOFCOM 2025 No. 18" in page
    germany = Shipment.objects.get(reference="GZ-SHP-1")
    page = client.get(f"/shipments/{germany.pk}/").content.decode()
    assert "no — measures: Ban DE" in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get(f"/shipments/{japan.pk}/").content.decode()
    assert f"{day} 是否需要许可证" in page and "管制措施" in page


def test_the_list_filters_on_it_and_the_export_has_it(client, officer, measures):
    client.force_login(officer)
    page = client.get("/shipments/?license_required=false")
    assert [s.reference for s in page.context["rows"]] == ["GZ-SHP-1"]
    text = b"".join(client.get("/shipments/export.csv").streaming_content).decode("utf-8-sig")
    assert "license_required" in text.splitlines()[0]
