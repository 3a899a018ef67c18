"""The measures pages: the list with today's status chips, its filters and what changes in the
next 30 days; a measure's page with its suspensions, its history and the open shipments it
touches, only those of the exporters the user acts for. The clock is pinned at WEB_NOW
(18 November 2026 in Beijing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from licenses import services
from licenses.models import Measure
from tests.factories import authority, item

pytestmark = pytest.mark.django_db

LIST = reverse("measure-list")


def measure(reference: str) -> Measure:
    return Measure.objects.get(reference=reference)


def row_refs(response) -> list[str]:
    return [row["measure"].reference for row in response.context["rows"]]


def test_the_list_shows_each_measure_with_todays_status(client, viewer):
    client.force_login(viewer)
    response = client.get(LIST)
    assert response.status_code == 200
    statuses = {row["measure"].reference: row["status"]["code"] for row in response.context["rows"]}
    assert statuses["MOFCOM/GAC 2025 No. 57"] == "in_force"  # No. 70's suspension ended 10 Nov
    assert statuses["MOFCOM 2024 No. 46"] == "suspended"  # until 27 Nov 2026
    assert statuses["MOFCOM/GAC 2023 No. 23"] == "ended"
    html = response.content.decode()
    assert 'class="status status-measure-suspended"' in html
    assert reverse("measure-detail", args=[measure("MOFCOM 2024 No. 46").pk]) in html


def test_the_list_says_what_changes_in_the_next_30_days(client, viewer):
    services.measure_create(
        authority=authority("MOFCOM"),
        reference="TEST 2026 No. 3",
        title="Starts next month",
        kind="control",
        announced_on=dt.date(2026, 11, 1),
        effective_from=dt.date(2026, 12, 1),
        effective_until=dt.date(2026, 12, 10),
        actor=None,
        now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    client.force_login(viewer)
    coming = client.get(LIST).context["coming"]
    assert [(c.day.isoformat(), c.measure.reference, c.status["code"]) for c in coming] == [
        ("2026-11-28", "MOFCOM 2024 No. 46", "in_force"),
        ("2026-12-01", "TEST 2026 No. 3", "in_force"),
        ("2026-12-11", "TEST 2026 No. 3", "ended"),
    ]
    assert "its suspension ends" in coming[0].what


@pytest.mark.parametrize(
    ("params", "included", "excluded"),
    [
        ({"status": "suspended"}, "MOFCOM 2024 No. 46", "MOFCOM/GAC 2025 No. 57"),
        ({"status": "ended"}, "MOFCOM/GAC 2023 No. 23", "MOFCOM 2024 No. 46"),
        ({"status": "in_force"}, "MOFCOM/GAC 2025 No. 18", "MOFCOM/GAC 2023 No. 23"),
        ({"authority": "MOFCOM"}, "MOFCOM/GAC 2025 No. 18", None),
        ({"q": "rare-earth technologies"}, "MOFCOM 2025 No. 62", "MOFCOM/GAC 2025 No. 18"),
        ({"kind": "ban"}, "MOFCOM 2024 No. 46", "MOFCOM/GAC 2025 No. 18"),
    ],
)
def test_the_list_filters(client, viewer, params, included, excluded):
    client.force_login(viewer)
    refs = row_refs(client.get(LIST, params))
    assert included in refs
    if excluded:
        assert excluded not in refs


def test_the_list_filters_by_item(client, viewer):
    client.force_login(viewer)
    refs = row_refs(client.get(LIST, {"item": item("1C909").pk}))
    assert refs == ["MOFCOM/GAC 2025 No. 57"]
    assert row_refs(client.get(LIST, {"authority": "BIS"})) == []


def test_the_detail_shows_suspensions_history_and_the_shipments_it_touches(client, manager, world):
    m = measure("MOFCOM/GAC 2025 No. 18")
    client.force_login(manager)
    response = client.get(reverse("measure-detail", args=[m.pk]))
    assert response.status_code == 200
    refs = [s.reference for s in response.context["shipments"]]
    assert refs == ["GZ-SHP-1", "BT-SHP-1"]
    assert response.context["shipment_count"] == 2
    html = response.content.decode()
    assert reverse("shipment-detail", args=[world.mine.shipment.pk]) in html
    assert reverse("admin:licenses_measure_change", args=[m.pk]) in html  # a manager may edit
    assert len(response.context["history"]) == 1


def test_the_detail_shows_only_the_shipments_of_the_users_exporters(client, limited, world):
    m = measure("MOFCOM/GAC 2025 No. 18")
    client.force_login(limited)
    response = client.get(reverse("measure-detail", args=[m.pk]))
    assert [s.reference for s in response.context["shipments"]] == ["GZ-SHP-1"]
    assert response.context["shipment_count"] == 1
    html = response.content.decode()
    assert "BT-SHP-1" not in html
    assert reverse("admin:licenses_measure_change", args=[m.pk]) not in html


def test_the_detail_leaves_out_other_destinations_and_closed_shipments(client, manager, world):
    m = measure("MOFCOM/GAC 2025 No. 18")
    services.measure_update(
        measure=m, actor=manager, now=dt.datetime.now(dt.UTC), destinations=["JP"]
    )
    client.force_login(manager)
    response = client.get(reverse("measure-detail", args=[m.pk]))
    assert [s.reference for s in response.context["shipments"]] == ["BT-SHP-1"]
    (lines,) = [h["lines"] for h in response.context["history"] if h["change"].action == "edited"]
    assert [(str(line["field"]), line["old"], line["new"]) for line in lines] == [
        ("Destinations", "—", "JP")
    ]


def test_the_detail_of_a_suspended_measure_lists_its_suspension(client, viewer):
    m = measure("MOFCOM 2024 No. 46")
    client.force_login(viewer)
    response = client.get(reverse("measure-detail", args=[m.pk]))
    (row,) = response.context["suspensions"]
    assert row["current"] is True
    assert row["suspension"].reference == "MOFCOM 2025 No. 72"
    assert response.context["status"]["code"] == "suspended"


def test_pages_need_sign_in_and_the_nav_links_them(client, viewer, nobody):
    assert client.get(LIST).status_code == 302
    client.force_login(nobody)
    assert client.get(LIST).status_code == 403
    client.force_login(viewer)
    assert f'href="{LIST}"' in client.get(reverse("dashboard")).content.decode()
    assert client.get(reverse("measure-detail", args=[999999])).status_code == 404
