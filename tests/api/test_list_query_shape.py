"""A list filtered by state reads one page in index order: no DISTINCT (which makes the
database sort every matching row before it can return the first page)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ApplicationFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "table", "make", "states"),
    [
        ("/api/v1/shipments/", "shipments_shipment", ShipmentFactory, "planned&status=cleared"),
        (
            "/api/v1/applications/",
            "licenses_licenseapplication",
            ApplicationFactory,
            "draft&status=submitted",
        ),
    ],
)
def test_a_list_filtered_by_state_selects_without_distinct(api, officer, url, table, make, states):
    make()
    client = api(officer)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}?status={states}&page_size=50")
    assert response.status_code == 200
    reads = [q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert reads
    assert not [sql for sql in reads if sql.startswith("SELECT DISTINCT")]
