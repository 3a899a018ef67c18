"""The number of SQL queries for a list page does not grow with the page size: every list is
measured with 1 row and with 50, for an unlimited officer and for a limited user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses import events
from licenses.models import Authority, ControlledItem, FastTrackDecision, UserProfile
from monitoring.models import Flag
from tests.factories import (
    ApplicationFactory,
    ConsigneeFactory,
    ExporterFactory,
    ShipmentFactory,
    authority,
    item,
)
from tests.helpers import NOW

pytestmark = pytest.mark.django_db

# A page costs: the token with its user and the user's profile (the exporter limit), the
# user's permissions, a limited user's exporters, the rows, and one query per prefetch.
MOST = 12


def make_authorities(n, exporter):
    Authority.objects.bulk_create(
        Authority(
            code=f"A{i}-{n}",
            name=f"Authority {i}",
            country="JP",
            time_zone="Asia/Tokyo",
            calendar_country="JP",
            window_days=30,
        )
        for i in range(n)
    )


def make_items(n, exporter):
    ControlledItem.objects.bulk_create(
        ControlledItem(authority=authority("BIS"), code=f"5A{i:03d}-{n}", description="x")
        for i in range(n)
    )


def make_exporters(n, exporter):
    """The exporter itself is one; a limited user is given the others too."""
    others = [ExporterFactory() for _ in range(n - 1)]
    for profile in UserProfile.objects.filter(limited_to_exporters=True):
        profile.exporters.add(*others)


def make_consignees(n, exporter):
    for _ in range(n):
        ConsigneeFactory(exporter=exporter)


def make_applications(n, exporter):
    for _ in range(n):
        app = ApplicationFactory(exporter=exporter, items=[item("1C902"), item("1C903")])
        Flag.objects.create(application=app, exporter=exporter, kind="overdue", raised_at=NOW)


def make_shipments(n, exporter):
    for _ in range(n):
        app = ApplicationFactory(exporter=exporter)
        shipment = ShipmentFactory(exporter=exporter, application=app)
        Flag.objects.create(application=app, exporter=exporter, kind="overdue", raised_at=NOW)
        Flag.objects.create(shipment=shipment, exporter=exporter, kind="at_risk", raised_at=NOW)


def make_decisions(n, exporter):
    app = ApplicationFactory(exporter=exporter)
    for i in range(n):
        decision = FastTrackDecision.objects.create(
            authority=authority("MOFCOM"),
            announced_on=dt.date(2026, 11, 1),
            source=f"Talks {i}",
            window_days=20,
            effective_from=dt.date(2026, 11, 1),
            destinations=["DE"],
        )
        decision.items.set([item("1C902")])
        decision.exporters.set([exporter])
        decision.applications.set([app])


def make_flags(n, exporter):
    for _ in range(n):
        app = ApplicationFactory(exporter=exporter)
        Flag.objects.create(application=app, exporter=exporter, kind="due_soon", raised_at=NOW)


def make_events(n, exporter, actor=None):
    app = ApplicationFactory(exporter=exporter)
    for _ in range(n):
        events.created(application=app, now=NOW, actor=actor, status="draft")


LISTS = {
    "authorities": make_authorities,
    "controlled-items": make_items,
    "exporters": make_exporters,
    "consignees": make_consignees,
    "applications": make_applications,
    "shipments": make_shipments,
    "fast-track-decisions": make_decisions,
    "flags": make_flags,
    "events": make_events,
}


def count_queries(client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= min(rows, 50)
    return len(queries)


@pytest.mark.parametrize("who", ["officer", "limited"])
@pytest.mark.parametrize("resource", LISTS)
def test_a_list_page_costs_the_same_queries_for_1_and_for_50_rows(
    request, api, ganzhou, django_assert_max_num_queries, resource, who
):
    user = request.getfixturevalue(who)
    client = api(user)
    url = f"/api/v1/{resource}/?page_size=50"
    LISTS[resource](1, ganzhou)
    one = count_queries(client, url, 1)
    LISTS[resource](50, ganzhou)
    with django_assert_max_num_queries(one):
        fifty = client.get(url)
    assert len(fifty.json()["results"]) == 50
    assert one <= MOST


def test_events_name_their_actor_without_a_query_per_row(
    api, officer, ganzhou, django_assert_max_num_queries
):
    client = api(officer)
    make_events(1, ganzhou, actor=officer)
    one = count_queries(client, "/api/v1/events/?page_size=50", 1)
    make_events(50, ganzhou, actor=officer)
    with django_assert_max_num_queries(one):
        client.get("/api/v1/events/?page_size=50")
