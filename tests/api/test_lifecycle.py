"""The whole life of a shipment through the API alone, with the events and due dates that
result: exporter, consignee, application, shipment; submitted weeks ago, accepted, information
requested and provided, approved; shipped and delivered."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.factories import item
from tests.helpers import NOW, SHANGHAI

pytestmark = pytest.mark.django_db


def local_day(value: str | None) -> dt.date | None:
    """The due date an API `due_at` stands for: the Beijing day that it ends."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment.astimezone(SHANGHAI) - dt.timedelta(seconds=1)).date()


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_shipment_lives_its_whole_life_through_the_api(api, officer, frozen):
    client = api(officer)
    exporter = ok(
        client.post(
            "/api/v1/exporters/",
            {
                "name": "Ganzhou Rare Earth Trading Co., Ltd.",
                "registration_number": "91360700MA35XK2P1Q",
                "country": "CN",
                "contact_emails": ["compliance@ganzhou-re.example"],
            },
            format="json",
        ),
        201,
    )
    consignee = ok(
        client.post(
            "/api/v1/consignees/",
            {
                "exporter": exporter["id"],
                "name": "Vacuumschmelze GmbH",
                "country": "DE",
                "end_use": "Permanent magnets for traction motors",
            },
            format="json",
        ),
        201,
    )
    application = ok(
        client.post(
            "/api/v1/applications/",
            {
                "exporter": exporter["id"],
                "authority": "MOFCOM",
                "license_type": "individual",
                "items": [item("1C902").pk],
                "destination": "DE",
                "reference": "GZ-2026-0142",
                "quantity": "500",
                "value": "120000.00",
                "currency": "USD",
                "status": "approved",  # read-only: ignored
            },
            format="json",
        ),
        201,
    )
    assert application["status"] == "draft"
    assert application["due_at"] is None
    app_url = f"/api/v1/applications/{application['id']}"
    shipment = ok(
        client.post(
            "/api/v1/shipments/",
            {
                "exporter": exporter["id"],
                "reference": "SHP-GZ-0142",
                "item": item("1C902").pk,
                "quantity": "500.000",
                "value": "120000.00",
                "currency": "USD",
                "destination": "DE",
                "consignee": consignee["id"],
                "planned_ship_date": "2026-12-20",
                "application": application["id"],
            },
            format="json",
        ),
        201,
    )
    assert shipment["status"] == "planned"
    assert shipment["unit"] == "kg"
    ship_url = f"/api/v1/shipments/{shipment['id']}"

    # Submitted 13 weeks ago (a bare date: that day in Beijing). MOFCOM's clock starts at
    # acceptance, so the due date is first the acceptance deadline: 10 working days.
    application = ok(client.post(f"{app_url}/submit/", {"at": "2026-09-01"}, format="json"))
    assert application["status"] == "submitted"
    assert application["submitted_at"] == "2026-08-31T16:00:00Z"  # 00:00 in Beijing
    assert local_day(application["due_at"]) == dt.date(2026, 9, 15)
    shipment = ok(client.get(f"{ship_url}/"))
    assert shipment["status"] == "awaiting_license"
    # Recorded today, the submission is already past its acceptance deadline.
    assert application["flags"] == ["overdue"]
    assert shipment["flags"] == ["overdue"]  # its application's

    # Accepted on Thursday 24 September: due 45 working days later, on Thursday 3 December
    # (the SPEC's example: the holidays skipped, Saturday 10 October counted).
    application = ok(
        client.post(
            f"{app_url}/accept/",
            {"at": "2026-09-24T10:00:00", "authority_reference": "MOFCOM-2026-88121"},
            format="json",
        )
    )
    assert application["status"] == "accepted"
    assert application["authority_reference"] == "MOFCOM-2026-88121"
    assert application["accepted_at"] == "2026-09-24T02:00:00Z"  # 10:00 in Beijing
    assert local_day(application["due_at"]) == dt.date(2026, 12, 3)
    assert application["flags"] == ["due_soon"]

    # Information requested on Tuesday 20 October: the clock stops.
    application = ok(
        client.post(f"{app_url}/request-info/", {"at": "2026-10-20T09:00:00+08:00"}, format="json")
    )
    assert application["status"] == "info_requested"
    assert application["due_at"] is None
    assert application["legal_moves"] == ["provide-info", "withdraw", "refer", "return"]
    assert application["pause_reason"] == "information"
    assert application["reply_due_at"] is None  # MOFCOM gives no reply window

    # Provided on Thursday 22 October: Wednesday and Thursday do not count, so the due date
    # moves two working days, to Monday 7 December.
    application = ok(
        client.post(
            f"{app_url}/provide-info/",
            {"at": "2026-10-22T16:00:00+08:00", "note": "End-user certificate sent"},
            format="json",
        )
    )
    assert application["status"] == "accepted"
    assert local_day(application["due_at"]) == dt.date(2026, 12, 7)

    application = ok(
        client.post(
            f"{app_url}/approve/",
            {
                "at": "2026-11-20T11:00:00+08:00",
                "license_number": "MOFCOM-L-2026-5521",
                "valid_until": "2027-11-19",
            },
            format="json",
        )
    )
    assert application["status"] == "approved"
    assert application["license_number"] == "MOFCOM-L-2026-5521"
    assert application["approved_quantity"] == "500.000"
    assert application["due_at"] is None
    shipment = ok(client.get(f"{ship_url}/"))
    assert shipment["status"] == "cleared"
    assert shipment["legal_moves"] == ["ship", "hold", "cancel"]

    shipment = ok(client.post(f"{ship_url}/ship/", {"at": "2026-11-25"}, format="json"))
    assert shipment["status"] == "shipped"
    shipment = ok(client.post(f"{ship_url}/deliver/", {}, format="json"))
    assert shipment["status"] == "delivered"
    assert shipment["last_moved_at"] == NOW.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    # The history, as the API tells it.
    app_events = ok(client.get(f"/api/v1/events/?application={application['id']}"))["results"]
    moves = [
        (e["from_status"], e["to_status"], e["actor"])
        for e in app_events
        if e["kind"] == "status_changed" and e["shipment"] is None
    ]
    assert moves == [
        ("draft", "submitted", "olga_officer"),
        ("submitted", "accepted", "olga_officer"),
        ("accepted", "info_requested", "olga_officer"),
        ("info_requested", "accepted", "olga_officer"),
        ("accepted", "approved", "olga_officer"),
    ]
    due_changes = [
        (local_day(e["data"]["from"]), local_day(e["data"]["to"]))
        for e in app_events
        if e["kind"] == "due_date_changed"
    ]
    assert due_changes == [
        (None, dt.date(2026, 9, 15)),
        (dt.date(2026, 9, 15), dt.date(2026, 12, 3)),
        (dt.date(2026, 12, 3), None),
        (None, dt.date(2026, 12, 7)),
        (dt.date(2026, 12, 7), None),
    ]
    shipment_events = ok(client.get(f"/api/v1/events/?shipment={shipment['id']}"))["results"]
    assert [
        (e["kind"], e["to_status"])
        for e in shipment_events
        if e["kind"] in ("created", "status_changed")
    ] == [
        ("created", "planned"),
        ("status_changed", "awaiting_license"),
        ("status_changed", "cleared"),
        ("status_changed", "shipped"),
        ("status_changed", "delivered"),
    ]
    # The flags the moves raised and cleared on the way, as the window checks saw them: the
    # shipment should have been filed for by 28 September; the acceptance deadline had passed
    # when the submission was recorded; once accepted, 3 December was due soon.
    assert [
        (e["kind"], e["data"]["flag"]) for e in shipment_events if e["kind"].startswith("flag")
    ] == [("flag_raised", "file_by"), ("flag_cleared", "file_by")]
    assert [(e["kind"], e["data"]["flag"]) for e in app_events if e["kind"].startswith("flag")] == [
        ("flag_raised", "overdue"),
        ("flag_cleared", "overdue"),
        ("flag_raised", "due_soon"),
        ("flag_cleared", "due_soon"),
    ]
    provided = next(e for e in app_events if e["to_status"] == "accepted" and e["note"])
    assert provided["note"] == "End-user certificate sent"
    assert provided["occurred_at"] == "2026-10-22T08:00:00Z"
    assert provided["recorded_at"] == "2026-11-29T04:00:00Z"
