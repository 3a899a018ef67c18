"""Events: each kind defined once, written only through the events module, which refuses a
payload that is not its kind's; the timeline and the pages describe every kind, and every
shape of data already stored, without error; the API shows `data` as stored."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from licenses import events
from licenses.events import KINDS
from licenses.models import Document, Event, EventKind
from licenses.timeline import timeline
from monitoring.models import FlagKind
from tests.factories import ApplicationFactory, ShipmentFactory
from tests.helpers import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects(ganzhou):
    app = ApplicationFactory(exporter=ganzhou, license_type="general")
    shipment = ShipmentFactory(exporter=ganzhou, application=app)
    return app, shipment


def write_every_kind(app, shipment, actor) -> dict[str, Event]:
    """One event of every kind, each through its writer with its typed payload."""
    document = Document.objects.create(
        application=app,
        kind="contract",
        file="applications/x.pdf",
        filename="x.pdf",
        content_type="application/pdf",
        size=10,
    )
    status = {
        "from_status": "submitted",
        "to_status": "approved",
        "at": NOW,
        "now": NOW,
        "actor": actor,
    }
    moved = events.status_changed(
        application=app,
        **status,
        data={
            "move": "approve",
            "previous_moved_at": None,
            "changes": {"license_number": [None, "LIC-1"], "valid_until": [None, "2027-12-31"]},
        },
    )
    events.created(application=app, now=NOW, actor=actor, status="draft")
    events.edited(application=app, edited={"destination": ["DE", "FR"]}, now=NOW, actor=actor)
    events.correction(
        application=app,
        corrects=moved,
        action="redate",
        from_status="approved",
        to_status="approved",
        now=NOW,
        actor=actor,
        note="",
        data={"from": NOW, "to": NOW, "move": "approve"},
    )
    events.document_added(application=app, document=document, now=NOW, actor=actor)
    for released in (False, True):
        events.drawdown(
            released=released,
            shipment=shipment,
            application=app,
            quantity=Decimal("1"),
            value=Decimal("2"),
            now=NOW,
            actor=actor,
        )
    events.assigned(
        shipment=shipment,
        from_application_id=None,
        to_application_id=app.pk,
        from_status="planned",
        to_status="awaiting",
        now=NOW,
        actor=actor,
    )
    events.bulk(
        [
            events.due_date_change(
                application=app,
                old=None,
                new=NOW,
                window_days=20,
                source="default",
                at=NOW,
                now=NOW,
                kind=kind,
            )
            for kind in (
                EventKind.DUE_DATE_CHANGED,
                EventKind.FAST_TRACK_APPLIED,
                EventKind.FAST_TRACK_REMOVED,
            )
        ]
        + [
            events.flag_row(
                EventKind.FLAG_RAISED,
                subject="application_id",
                subject_id=app.pk,
                flag="overdue",
                flag_id=1,
                now=NOW,
                details={"status": "accepted", "due_at": NOW},
            ),
            events.flag_row(
                EventKind.FLAG_CLEARED,
                subject="shipment_id",
                subject_id=shipment.pk,
                flag="at_risk",
                flag_id=2,
                now=NOW,
            ),
        ]
    )
    written = {e.kind: e for e in Event.objects.filter(occurred_at=NOW)}
    assert set(written) == set(EventKind.values)
    return written


def test_every_kind_of_event_has_one_definition():
    assert set(KINDS) == set(EventKind.values)


def test_every_kinds_writer_round_trips_through_the_timeline(subjects, officer):
    app, shipment = subjects
    written = write_every_kind(app, shipment, officer)
    for kind, event in written.items():
        events.check_data(kind, event.data)  # stored as written: still its kind's payload
    entries = {e.event.kind: e for e in timeline(written.values(), window_unit="days")}
    assert entries[EventKind.STATUS_CHANGED].title == "Approved"
    assert "License number: LIC-1" in entries[EventKind.STATUS_CHANGED].details
    assert entries[EventKind.EDITED].details == ["destination: DE → FR"]
    assert entries[EventKind.CORRECTION].is_correction
    assert entries[EventKind.CORRECTION].title == "Correction: “Approved” re-dated"
    assert entries[EventKind.FLAG_RAISED].details == ["Flag: " + FlagKind.OVERDUE.label]
    assert entries[EventKind.DRAWDOWN].details[0].startswith("1 ")
    assert "Window: 20 days" in entries[EventKind.FAST_TRACK_APPLIED].details[1]
    assert entries[EventKind.DOCUMENT_ADDED].title == "Document added"


@pytest.mark.parametrize(
    ("write", "error", "message"),
    [
        (
            lambda app, user: events.status_changed(
                application=app,
                from_status="draft",
                to_status="submitted",
                at=NOW,
                now=NOW,
                actor=user,
                data={"mvoe": "submit"},
            ),
            ValueError,
            "unknown keys ['mvoe'], missing keys ['move']",
        ),
        (
            lambda app, user: events.status_changed(
                application=app,
                from_status="draft",
                to_status="submitted",
                at=NOW,
                now=NOW,
                actor=user,
                data={"move": 7},
            ),
            TypeError,
            "'move' must be str, not int",
        ),
        (
            lambda app, user: events.edited(
                application=app,
                edited=[{"changed": {}}],  # type: ignore[arg-type]
                now=NOW,
                actor=user,
            ),
            TypeError,
            "'edited' must be dict",
        ),
        (
            lambda app, user: events.correction(
                application=app,
                corrects=events.created(application=app, now=NOW, actor=user, status="draft"),
                action="rewrite",
                from_status="draft",
                to_status="draft",
                now=NOW,
                actor=user,
                note="",
                data={"move": "submit"},
            ),
            TypeError,
            "'action' must be Literal['undo', 'redate']",
        ),
        (
            lambda app, user: events.created(now=NOW, actor=user, status="draft"),
            ValueError,
            "names no subject",
        ),
        (
            lambda app, user: events.status_changed(
                application=app,
                from_status="",
                to_status="submitted",
                at=NOW,
                now=NOW,
                actor=user,
                data={"move": "submit"},
            ),
            ValueError,
            "sets statuses '' → 'submitted'",
        ),
    ],
    ids=["unknown-key", "wrong-type", "list-edit", "bad-literal", "no-subject", "status"],
)
def test_a_writer_refuses_a_payload_that_is_not_its_kinds(officer, write, error, message):
    app = ApplicationFactory()
    before = Event.objects.count()
    with pytest.raises(error, match=re.escape(message)):
        write(app, officer)
    assert Event.objects.filter(kind=EventKind.STATUS_CHANGED).count() == 0
    assert Event.objects.count() <= before + 1  # at most the `created` a correction points at


def test_bulk_refuses_the_whole_set_when_one_row_does_not_match_its_kind():
    app = ApplicationFactory()
    good = events.due_date_change(
        application=app, old=None, new=NOW, window_days=20, source="default", at=NOW, now=NOW
    )
    bad = {**good, "data": {**good["data"], "window": 20}}
    with pytest.raises(ValueError, match=r"unknown keys \['window'\]"):
        events.bulk([good, bad])
    wrong_type = {**good, "data": {**good["data"], "window_days": "20"}}
    with pytest.raises(TypeError, match="'window_days' must be int, not str"):
        events.bulk([wrong_type])
    on_a_shipment = {**good, "application_id": None, "shipment_id": 1}
    with pytest.raises(ValueError, match="names shipment; it names application"):
        events.bulk([on_a_shipment])
    assert not Event.objects.exists()


def test_the_flag_event_sql_builds_a_payload_of_its_kind(subjects):
    app, _shipment = subjects
    data = events.flag_data_sql(
        EventKind.FLAG_RAISED, flag="%s::text", flag_id="7", details={"due_at": "%s::text"}
    )
    source = events.flag_source(
        EventKind.FLAG_RAISED,
        "application_id",
        subject_id="%s",
        data=data,
        moment="%s::timestamptz",
        ord="1",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ev_source AS (SELECT {source}), {events.linked_insert('ev_source')} "
            "SELECT count(*) FROM ev",
            [app.pk, NOW, NOW, "overdue", "2026-12-01T16:00:00+00:00"],
        )
    event = Event.objects.get(kind=EventKind.FLAG_RAISED)
    assert event.data == {"flag": "overdue", "flag_id": 7, "due_at": "2026-12-01T16:00:00+00:00"}
    events.check_data(event.kind, event.data)
    with pytest.raises(ValueError, match=r"unknown keys \['cause'\]"):
        events.flag_data_sql(
            EventKind.FLAG_CLEARED, flag="%s", flag_id="id", details={"cause": "x"}
        )
    with pytest.raises(ValueError, match="Not a kind of flag event"):
        events.flag_data_sql(EventKind.EDITED, flag="%s", flag_id="id")


# --- every shape already stored ---------------------------------------------------------------


def typed_payload(kind: str) -> dict[str, Any]:
    due = {"from": None, "to": "2026-12-01T16:00:00+00:00", "window_days": 20, "source": "x"}
    drawdown = {**dict.fromkeys(KINDS[EventKind.DRAWDOWN].keys, "1"), "move": "ship"}
    payloads: dict[str, dict[str, Any]] = {
        EventKind.CREATED: {},
        EventKind.EDITED: {"edited": {"destination": ["DE", "FR"], "note": "new"}},
        EventKind.STATUS_CHANGED: {"move": "approve", "changes": {"valid_until": [None, "x"]}},
        EventKind.DUE_DATE_CHANGED: {**due, "change_days": None, "rule": 3, "rule_change": "x"},
        EventKind.FAST_TRACK_APPLIED: {**due, "change_days": -5},
        EventKind.FAST_TRACK_REMOVED: {**due, "change_days": 5},
        EventKind.FLAG_RAISED: {"flag": "overdue", "flag_id": 1, "due_at": None},
        EventKind.FLAG_CLEARED: {"flag": "overdue", "flag_id": 1},
        EventKind.DRAWDOWN: drawdown,
        EventKind.DRAWDOWN_RELEASED: drawdown,
        EventKind.CORRECTION: {"action": "undo", "move": "approve", "undone_at": None},
        EventKind.ASSIGNED: {"from_application": None, "to_application": 1},
        EventKind.DOCUMENT_ADDED: {"document": 1, "kind": "contract", "filename": "a", "size": 1},
    }
    return payloads[kind]


def test_the_typed_payloads_stored_below_are_their_kinds():
    for kind in EventKind.values:
        events.check_data(kind, typed_payload(kind))


JUNK = {
    "move": 7,
    "changes": ["license_number", "LIC"],
    "edited": "destination",
    "from": 12,
    "to": {"when": "later"},
    "window_days": "ten",
    "source": ["rule"],
    "quantity": "a lot",
    "value": "Infinity",
    "flag": {"kind": "overdue"},
    "action": None,
    "unexpected": [1, 2],
}

SHAPES = {
    "typed": None,
    "empty": {},
    "list": [{"changed": {"fields": ["Destination", "Note"]}}, "Changed note.", None],
    "junk": JUNK,
    "none-values": "none-values",
    "not-an-object": 42,
    "json-null": "json-null",
}


def stored_data(kind: str, shape: str) -> object:
    if shape == "typed":
        return typed_payload(kind)
    if shape == "none-values":
        return dict.fromkeys(KINDS[kind].keys | {"move", "changes", "edited"})
    if shape == "json-null":
        return None
    return SHAPES[shape]


def insert_raw(kind: str, data: object, *, application=None, shipment=None, decision=None) -> None:
    """An event as older code (or a hand) may have stored it: no writer, no check."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO licenses_event (kind, application_id, shipment_id, decision_id, "
            "from_status, to_status, occurred_at, recorded_at, note, data) "
            "VALUES (%s, %s, %s, %s, 'submitted', 'weird', %s, %s, '', %s::jsonb)",
            [
                kind,
                application.pk if application else None,
                shipment.pk if shipment else None,
                decision.pk if decision else None,
                NOW,
                NOW,
                json.dumps(data),
            ],
        )


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_timeline_and_the_pages_show_every_kind_in_every_stored_shape(
    client, api, subjects, officer, shape
):
    app, shipment = subjects
    for kind in EventKind.values:
        data = stored_data(kind, shape)
        insert_raw(kind, data, application=app)
        insert_raw(kind, data, shipment=shipment)
        insert_raw(kind, data, application=app, shipment=shipment)
    stored = list(Event.objects.all())
    entries = timeline(stored, window_unit="days")
    assert len(entries) == 3 * len(EventKind.values)
    assert all(entry.title for entry in entries)
    client.force_login(officer)
    assert client.get(f"/applications/{app.pk}/").status_code == 200
    assert client.get(f"/shipments/{shipment.pk}/").status_code == 200
    # The API's contract: `data` is whatever is stored.
    listed = api(officer).get(f"/api/v1/events/?application={app.pk}&page_size=100").json()
    assert {json.dumps(row["data"], sort_keys=True) for row in listed["results"]} == {
        json.dumps(stored_data(kind, shape), sort_keys=True) for kind in EventKind.values
    }


def test_an_edit_stored_as_an_admin_change_message_is_described(subjects):
    app, _shipment = subjects
    insert_raw(EventKind.EDITED, SHAPES["list"], application=app)
    (entry,) = timeline(Event.objects.all())
    assert entry.details == ["Changed: Destination, Note", "Changed note."]


def test_a_kind_no_longer_known_is_shown_by_its_code():
    retired = Event(kind="retired_kind", occurred_at=NOW, recorded_at=NOW, data=JUNK, pk=1)
    (entry,) = timeline([retired])
    assert entry.title == "Retired_kind" and entry.details == []


@pytest.fixture
def api(db):
    def client_for(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_decisions_page_shows_its_due_date_events_in_every_stored_shape(
    client, subjects, manager, shape
):
    from tests.licenses.fasttrack.builders import log

    app, _shipment = subjects
    decision = log(actor=manager)
    for kind in (EventKind.FAST_TRACK_APPLIED, EventKind.FAST_TRACK_REMOVED):
        insert_raw(kind, stored_data(kind, shape), application=app, decision=decision)
    client.force_login(manager)
    assert client.get(f"/fast-track/{decision.pk}/").status_code == 200
