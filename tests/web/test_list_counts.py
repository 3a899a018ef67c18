"""A list's number of rows comes from the status tallies when they know it (no filter, or one
state), and is counted otherwise; either way it is the number of rows the list holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..factories import ShipmentFactory

pytestmark = pytest.mark.django_db


def _count_queries(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    counts = [
        q["sql"] for q in captured if "COUNT(*)" in q["sql"] and "shipments_shipment" in q["sql"]
    ]
    return response.context["page_obj"].paginator.count, counts


def test_the_shipments_list_counts_from_the_tallies_when_they_know(client, officer, ganzhou):
    ShipmentFactory.create_batch(3, exporter=ganzhou)
    ShipmentFactory(exporter=ganzhou, status="awaiting_license")
    client.force_login(officer)

    total, counted = _count_queries(client, "/shipments/")
    assert (total, counted) == (4, [])
    planned, counted = _count_queries(client, "/shipments/?status=planned")
    assert (planned, counted) == (3, [])
    # any other filter, or two states at once: counted from the table
    searched, counted = _count_queries(client, "/shipments/?status=planned&destination=DE")
    assert searched == 3 and counted
    both, counted = _count_queries(client, "/shipments/?status=planned&status=awaiting_license")
    assert both == len(
        client.get("/shipments/?status=planned&status=awaiting_license").context["rows"]
    )
    assert counted


def test_a_limited_user_counts_only_their_exporters(client, limited, ganzhou, baotou):
    ShipmentFactory.create_batch(2, exporter=ganzhou)
    ShipmentFactory.create_batch(5, exporter=baotou)
    client.force_login(limited)
    total, counted = _count_queries(client, "/shipments/")
    assert (total, counted) == (2, [])
