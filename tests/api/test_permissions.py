"""Who may do what: a role by endpoint by method matrix for the cast, and exporter limits.

The objects all belong to Ganzhou Rare Earth. `limited` is an officer limited to Ganzhou;
`outsider` an officer limited to Baotou, for whom Ganzhou's objects do not exist (404) and
cannot be named in a write (400).
"""

from __future__ import annotations

import datetime as dt

import pytest

from licenses import events
from licenses.models import Measure
from monitoring.models import Flag
from tests.factories import ApplicationFactory, ConsigneeFactory, ShipmentFactory, item
from tests.helpers import NOW

pytestmark = pytest.mark.django_db

CAST = ("viewer", "officer", "manager", "limited", "outsider", "administrator")


@pytest.fixture
def world(ganzhou):
    application = ApplicationFactory(exporter=ganzhou, reference="GZ-1")
    consignee = ConsigneeFactory(exporter=ganzhou)
    shipment = ShipmentFactory(exporter=ganzhou, consignee=consignee, reference="S-1")
    flag = Flag.objects.create(
        application=application, exporter=ganzhou, kind="overdue", raised_at=NOW
    )
    event = events.created(application=application, now=NOW, actor=None, status="draft")
    return {
        "exporter": ganzhou.pk,
        "application": application.pk,
        "consignee": consignee.pk,
        "shipment": shipment.pk,
        "flag": flag.pk,
        "event": event.pk,
        "item": item("1C902").pk,
        "measure": Measure.objects.get(reference="MOFCOM/GAC 2025 No. 18").pk,
    }


def application_payload(w):
    return {
        "exporter": w["exporter"],
        "authority": "MOFCOM",
        "items": [w["item"]],
        "destination": "DE",
        "reference": "GZ-NEW",
        "quantity": "10",
        "value": "1000.00",
        "currency": "USD",
    }


def shipment_payload(w):
    return {
        "exporter": w["exporter"],
        "reference": "S-NEW",
        "item": w["item"],
        "quantity": "10",
        "value": "1000.00",
        "currency": "USD",
        "destination": "DE",
        "consignee": w["consignee"],
        "planned_ship_date": "2026-12-20",
    }


# (method, url, payload, {role: expected status}); a role not named is not tried.
V, OF, M, L, X, A = CAST
READ_ALL = dict.fromkeys(CAST, 200)
HIDDEN = READ_ALL | {X: 404}
OFFICER_WRITE = {V: 403, OF: 200, M: 200, L: 200, X: 404, A: 200}
OFFICER_CREATE = {V: 403, OF: 201, M: 201, L: 201, X: 400, A: 201}
ADMIN_ONLY = dict.fromkeys(CAST, 403) | {A: 201}
ADMIN_ONLY_EDIT = dict.fromkeys(CAST, 403) | {A: 200}
# Measures bind every exporter: managers and administrators not limited to some exporters.
MANAGER_ONLY = dict.fromkeys(CAST, 403) | {M: 201, A: 201}
MANAGER_ONLY_EDIT = dict.fromkeys(CAST, 403) | {M: 200, A: 200}

MATRIX = [
    ("get", "/api/v1/authorities/", None, READ_ALL),
    ("get", "/api/v1/authorities/MOFCOM/", None, READ_ALL),
    (
        "post",
        "/api/v1/authorities/",
        lambda w: {
            "code": "METI",
            "name": "Japan, Ministry of Economy, Trade and Industry",
            "country": "JP",
            "time_zone": "Asia/Tokyo",
            "window_days": 90,
        },
        ADMIN_ONLY,
    ),
    ("patch", "/api/v1/authorities/ECJU/", lambda w: {"window_days": 25}, ADMIN_ONLY_EDIT),
    ("get", "/api/v1/controlled-items/", None, READ_ALL),
    ("get", "/api/v1/controlled-items/{item}/", None, READ_ALL),
    (
        "post",
        "/api/v1/controlled-items/",
        lambda w: {
            "authority": "MOFCOM",
            "code": "1C999",
            "description": "Test item",
            "unit": "kg",
        },
        ADMIN_ONLY,
    ),
    ("patch", "/api/v1/controlled-items/{item}/", lambda w: {"material": "Sm"}, ADMIN_ONLY_EDIT),
    ("get", "/api/v1/exporters/", None, READ_ALL),
    ("get", "/api/v1/exporters/{exporter}/", None, HIDDEN),
    (
        "post",
        "/api/v1/exporters/",
        lambda w: {"name": "Jiangxi Tungsten", "registration_number": "JX-1", "country": "CN"},
        {V: 403, OF: 201, M: 201, L: 403, X: 403, A: 201},
    ),
    ("patch", "/api/v1/exporters/{exporter}/", lambda w: {"address": "Ganzhou"}, OFFICER_WRITE),
    ("get", "/api/v1/consignees/", None, READ_ALL),
    ("get", "/api/v1/consignees/{consignee}/", None, HIDDEN),
    (
        "post",
        "/api/v1/consignees/",
        lambda w: {"exporter": w["exporter"], "name": "Magnequench", "country": "US"},
        OFFICER_CREATE,
    ),
    ("patch", "/api/v1/consignees/{consignee}/", lambda w: {"end_use": "Motors"}, OFFICER_WRITE),
    ("get", "/api/v1/applications/", None, READ_ALL),
    ("get", "/api/v1/applications/{application}/", None, HIDDEN),
    ("post", "/api/v1/applications/", application_payload, OFFICER_CREATE),
    ("patch", "/api/v1/applications/{application}/", lambda w: {"value": "9.00"}, OFFICER_WRITE),
    (
        "put",
        "/api/v1/applications/{application}/",
        lambda w: application_payload(w) | {"reference": "GZ-1"},
        OFFICER_WRITE,
    ),
    ("post", "/api/v1/applications/{application}/submit/", lambda w: {}, OFFICER_WRITE),
    ("get", "/api/v1/shipments/", None, READ_ALL),
    ("get", "/api/v1/shipments/{shipment}/", None, HIDDEN),
    ("post", "/api/v1/shipments/", shipment_payload, OFFICER_CREATE),
    ("patch", "/api/v1/shipments/{shipment}/", lambda w: {"quantity": "7"}, OFFICER_WRITE),
    ("post", "/api/v1/shipments/{shipment}/hold/", lambda w: {}, OFFICER_WRITE),
    ("get", "/api/v1/fast-track-decisions/", None, READ_ALL),
    (
        "post",
        "/api/v1/fast-track-decisions/",
        lambda w: {},
        {V: 403, OF: 403, L: 403, X: 403},  # managers: see test_fast_track.py
    ),
    ("get", "/api/v1/measures/", None, READ_ALL),
    ("get", "/api/v1/measures/{measure}/", None, READ_ALL),
    (
        "post",
        "/api/v1/measures/",
        lambda w: {
            "authority": "MOFCOM",
            "reference": "TEST 2026 No. 1",
            "title": "Test measure",
            "kind": "control",
            "announced_on": "2026-01-02",
            "effective_from": "2026-02-01",
        },
        MANAGER_ONLY,
    ),
    ("patch", "/api/v1/measures/{measure}/", lambda w: {"title": "Edited"}, MANAGER_ONLY_EDIT),
    ("get", "/api/v1/flags/", None, READ_ALL),
    ("get", "/api/v1/flags/{flag}/", None, HIDDEN),
    ("get", "/api/v1/events/", None, READ_ALL),
    ("get", "/api/v1/events/{event}/", None, HIDDEN),
]

CASES = [
    pytest.param(role, method, url, payload, expected[role], id=f"{role}-{method}-{url}")
    for method, url, payload, expected in MATRIX
    for role in CAST
    if role in expected
]


@pytest.mark.parametrize("role,method,url,payload,status", CASES)
def test_role_endpoint_method_matrix(request, api, world, role, method, url, payload, status):
    user = request.getfixturevalue(role)
    client = api(user)
    data = payload(world) if payload else None
    response = getattr(client, method)(url.format(**world), data, format="json")
    assert response.status_code == status, response.json()
    if status >= 400:
        assert set(response.json()) == {"code", "detail", "fields"}
    if status == 400:
        # The outsider named Ganzhou's exporter: the field is named, nothing else is said.
        assert "exporter" in response.json()["fields"]


LISTS = {
    "exporters": "exporter",
    "consignees": "consignee",
    "applications": "application",
    "shipments": "shipment",
    "flags": "flag",
    "events": "event",
}


@pytest.mark.parametrize("resource,key", LISTS.items())
def test_outsider_sees_nothing_of_another_exporter_in_lists(api, world, outsider, resource, key):
    response = api(outsider).get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    assert world[key] not in [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("resource,key", LISTS.items())
def test_limited_user_sees_its_exporters_objects_in_lists(api, world, limited, resource, key):
    response = api(limited).get(f"/api/v1/{resource}/")
    assert world[key] in [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("move", ["submit", "withdraw", "correct"])
def test_outsider_gets_404_for_a_move_on_another_exporters_application(api, world, outsider, move):
    response = api(outsider).post(
        f"/api/v1/applications/{world['application']}/{move}/", {}, format="json"
    )
    assert response.status_code == 404


def test_a_shipment_cannot_be_assigned_to_another_exporters_application(
    api, world, outsider, baotou
):
    consignee = ConsigneeFactory(exporter=baotou)
    payload = shipment_payload(world) | {
        "exporter": baotou.pk,
        "consignee": consignee.pk,
        "application": world["application"],
    }
    response = api(outsider).post("/api/v1/shipments/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["application"]


def test_a_limited_user_cannot_move_an_application_to_another_exporter(api, world, limited, baotou):
    response = api(limited).patch(
        f"/api/v1/applications/{world['application']}/", {"exporter": baotou.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["exporter"]


def test_a_fast_track_decision_naming_only_other_exporters_is_hidden(api, outsider, world):
    from licenses.models import Authority, FastTrackDecision

    decision = FastTrackDecision.objects.create(
        authority=Authority.objects.get(code="MOFCOM"),
        announced_on=dt.date(2026, 11, 1),
        source="Ministerial talks",
        window_days=20,
        effective_from=dt.date(2026, 11, 1),
    )
    decision.exporters.set([world["exporter"]])
    client = api(outsider)
    assert client.get(f"/api/v1/fast-track-decisions/{decision.pk}/").status_code == 404
    assert client.get("/api/v1/fast-track-decisions/").json()["results"] == []


def test_an_exporter_limited_user_sees_only_its_exporters_in_a_public_decision(
    api, limited, world, baotou
):
    from licenses.models import Authority, FastTrackDecision

    decision = FastTrackDecision.objects.create(
        authority=Authority.objects.get(code="MOFCOM"),
        announced_on=dt.date(2026, 11, 1),
        source="Ministerial talks",
        window_days=20,
        effective_from=dt.date(2026, 11, 1),
    )
    decision.exporters.set([world["exporter"], baotou.pk])
    body = api(limited).get(f"/api/v1/fast-track-decisions/{decision.pk}/").json()
    assert body["exporters"] == [world["exporter"]]
