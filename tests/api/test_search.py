"""Search over items, consignees and case numbers, the same on the web lists (`?q=`) and in
the API (`?search=`): case-insensitive, every term must match, no application listed twice for
several matching items, and a limited user finds nothing of another exporter."""

from __future__ import annotations

import pytest
from django.test import Client

from licenses.models import ControlledItem
from tests.factories import (
    ApplicationFactory,
    ConsigneeFactory,
    ShipmentFactory,
    authority,
    item,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dysprosium(db):
    """An item whose material is named nowhere else (not in its code nor description)."""
    return ControlledItem.objects.create(
        authority=authority("MOFCOM"),
        code="9Z999",
        description="Heavy rare earth compounds, other",
        material="dysprosium",
    )


@pytest.fixture
def book(ganzhou, baotou, dysprosium):
    """Ganzhou: an application of samarium, gadolinium and dysprosium with a case number, and a
    gadolinium shipment under it to Lyon Aimants; Baotou: samarium only, to Kiel Magnete."""
    gz_app = ApplicationFactory(
        exporter=ganzhou,
        reference="GZ-APP-9",
        authority_reference="MOFCOM-2026-0815",
        items=[item("1C902"), item("1C903"), dysprosium],
    )
    bt_app = ApplicationFactory(
        exporter=baotou, reference="BT-APP-9", authority_reference="MOFCOM-2026-0001"
    )
    gz_ship = ShipmentFactory(
        exporter=ganzhou,
        reference="GZ-SHP-9",
        item=item("1C903"),
        application=gz_app,
        consignee=ConsigneeFactory(exporter=ganzhou, name="Lyon Aimants SARL"),
    )
    dy_ship = ShipmentFactory(
        exporter=ganzhou,
        reference="GZ-SHP-10",
        item=dysprosium,
        consignee=ConsigneeFactory(exporter=ganzhou, name="Osaka Jiki KK"),
    )
    bt_ship = ShipmentFactory(
        exporter=baotou,
        reference="BT-SHP-9",
        item=item("1C902"),
        application=bt_app,
        consignee=ConsigneeFactory(exporter=baotou, name="Kiel Magnete GmbH"),
    )
    return {
        "gz_app": gz_app,
        "bt_app": bt_app,
        "gz_ship": gz_ship,
        "dy_ship": dy_ship,
        "bt_ship": bt_ship,
    }


def api_refs(api, user, path: str, text: str) -> list[str]:
    response = api(user).get(f"/api/v1/{path}/", {"search": text})
    assert response.status_code == 200
    return sorted(row["reference"] for row in response.json()["results"])


def web_refs(user, path: str, text: str) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/{path}/", {"q": text})
    assert response.status_code == 200
    return sorted(row.reference for row in response.context["rows"])


@pytest.fixture(params=["web", "api"])
def find(request, api):
    """`find(user, "shipments" | "applications", text)`: the references found, on the page
    or in the API."""
    if request.param == "web":
        return web_refs
    return lambda user, path, text: api_refs(api, user, path, text)


@pytest.mark.parametrize("text", ["1C903", "1c903", "gadolinium", "GADOLINIUM"])
def test_shipments_are_found_by_their_items_code_and_material(find, officer, book, text):
    assert find(officer, "shipments", text) == ["GZ-SHP-9"]


def test_shipments_are_found_by_material_description_consignee_and_case_number(find, officer, book):
    assert find(officer, "shipments", "Dysprosium") == ["GZ-SHP-10"]  # material only
    assert find(officer, "shipments", "heavy rare") == ["GZ-SHP-10"]  # description
    assert find(officer, "shipments", "samarium") == ["BT-SHP-9"]
    assert find(officer, "shipments", "lyon aimants") == ["GZ-SHP-9"]
    assert find(officer, "shipments", "kiel") == ["BT-SHP-9"]
    assert find(officer, "shipments", "mofcom-2026-0815") == ["GZ-SHP-9"]
    assert find(officer, "shipments", "GZ-APP-9") == ["GZ-SHP-9"]
    assert find(officer, "shipments", "gadolinium kiel") == []  # every term must match
    assert find(officer, "shipments", "1C90 gz-shp") == ["GZ-SHP-9"]


def test_applications_are_found_by_items_exporter_and_case_number(find, officer, book):
    assert find(officer, "applications", "1c903") == ["GZ-APP-9"]
    assert find(officer, "applications", "gadolinium") == ["GZ-APP-9"]
    assert find(officer, "applications", "DYSPROSIUM") == ["GZ-APP-9"]
    assert find(officer, "applications", "mofcom-2026-0815") == ["GZ-APP-9"]
    assert find(officer, "applications", "baotou") == ["BT-APP-9"]
    assert find(officer, "applications", "samarium") == ["BT-APP-9", "GZ-APP-9"]


def test_an_application_with_several_matching_items_is_listed_once(find, officer, book):
    # 1C902 and 1C903 both match "1C90", and the three items all match "rare earth" or
    # "compounds": the application once each time.
    assert find(officer, "applications", "1C90") == ["BT-APP-9", "GZ-APP-9"]
    assert find(officer, "applications", "compounds") == ["BT-APP-9", "GZ-APP-9"]
    assert find(officer, "applications", "compounds gz-app") == ["GZ-APP-9"]


def test_a_limited_user_finds_nothing_of_other_exporters(find, limited, outsider, book):
    # `limited` sees Ganzhou only, `outsider` Baotou only.
    assert find(limited, "shipments", "samarium") == []
    assert find(limited, "shipments", "kiel") == []
    assert find(limited, "shipments", "MOFCOM-2026-0001") == []
    assert find(limited, "applications", "baotou") == []
    assert find(limited, "applications", "1C90") == ["GZ-APP-9"]
    assert find(outsider, "shipments", "gadolinium") == []
    assert find(outsider, "shipments", "lyon") == []
    assert find(outsider, "applications", "mofcom-2026-0815") == []
    assert find(outsider, "applications", "1C90") == ["BT-APP-9"]


def test_the_api_paginates_search_results_without_repeats(api, officer, ganzhou, book):
    for n in range(4):
        ApplicationFactory(
            exporter=ganzhou,
            reference=f"GZ-MORE-{n}",
            items=list(ControlledItem.objects.filter(code__in=["1C902", "1C903"])),
        )
    client = api(officer)
    url = "/api/v1/applications/?search=1c90&page_size=2"
    seen: list[int] = []
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 6
