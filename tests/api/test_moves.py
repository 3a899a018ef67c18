"""Moves through the API: every legal move answers 200 with the object, every illegal one 409
and changes nothing; `at` as the contract reads it; corrections; a lost race."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from licenses import services
from licenses.api.views import ApplicationViewSet
from licenses.models import Event, LicenseApplication, Status
from shipments import services as shipping
from shipments.models import Shipment, ShipmentStatus
from tests.factories import ApplicationFactory
from tests.helpers import NOW, SHANGHAI, at

pytestmark = pytest.mark.django_db

APPLICATION_MOVES = {
    "submit": {"draft"},
    "accept": {"submitted"},
    "request-info": {"submitted", "accepted"},
    "provide-info": {"info_requested"},
    "approve": {"submitted", "accepted", "referred"},
    "reject": {"submitted", "accepted", "referred"},
    "withdraw": {"submitted", "accepted", "info_requested", "referred"},
    "refer": {"submitted", "accepted", "info_requested"},
    "return": {"submitted", "accepted", "info_requested", "referred"},
    "resubmit": {"returned"},
    "suspend": {"approved", "exhausted"},
    "reinstate": {"suspended"},
    "revoke": {"approved", "exhausted", "suspended"},
    "surrender": {"approved", "exhausted"},
    "amend": {"approved", "exhausted"},
    "approve-amendment": {"amendment_requested"},
    "refuse-amendment": {"amendment_requested"},
}
BODIES = {
    "approve": {"license_number": "L-1", "valid_until": "2027-09-01"},
    "reject": {"reason": "End use not credible"},
    "amend": {"quantity": "2000", "note": "More orders"},
    "refer": {"reason": "state_council", "note": "Reported to the State Council"},
    "request-info": {"reason": "expert_review"},
}
SHIPMENT_MOVES = {
    "ship": {"cleared"},
    "deliver": {"shipped"},
    "hold": {"planned", "awaiting_license", "cleared"},
    "release": {"on_hold"},
    "cancel": {"planned", "awaiting_license", "cleared", "on_hold"},
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def application_in(status: str, exporter) -> LicenseApplication:
    """An application brought to `status` by legal moves, dated in September 2026."""
    app = ApplicationFactory(exporter=exporter)
    kw = {"now": NOW, "actor": None}
    if status == "draft":
        return app
    services.application_submit(application=app, at=at("2026-09-01"), **kw)
    approve = {"license_number": "L-0", "valid_until": dt.date(2027, 9, 1)}
    steps = {
        "submitted": [],
        "accepted": [("accept", {})],
        "info_requested": [("request_info", {})],
        "approved": [("approve", approve)],
        "rejected": [("reject", {"reason": "No"})],
        "withdrawn": [("withdraw", {})],
        "expired": [("approve", approve)],
        "exhausted": [("approve", approve)],
        "suspended": [("approve", approve), ("suspend", {})],
        "revoked": [("approve", approve), ("revoke", {})],
        "surrendered": [("approve", approve), ("surrender", {})],
        "amendment_requested": [
            ("approve", approve),
            ("amend", {"value": Decimal("200000"), "note": "More"}),
        ],
        "referred": [("refer", {"reason": "interagency"})],
        "returned": [("return", {})],
    }[status]
    for day, (move, extra) in enumerate(steps, start=2):
        getattr(services, f"application_{move}")(
            application=app, at=at(f"2026-09-{day:02d}"), **kw, **extra
        )
    if status == "expired":
        services.application_expire(application=app, at=at("2026-09-20"), now=NOW)
    if status == "exhausted":
        services.application_exhaust(application=app, now=at("2026-09-20"))
    assert app.status == status
    return app


def snapshot(model, pk, **related):
    obj = model.objects.get(pk=pk)
    fields = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
    return fields, Event.objects.filter(**{k: v for k, v in related.items()}).count()


CASES = [(move, status) for move in APPLICATION_MOVES for status in Status.values]


@pytest.mark.parametrize("move,status", CASES, ids=[f"{m}-from-{s}" for m, s in CASES])
def test_every_application_move_is_legal_exactly_from_its_states(
    api, officer, ganzhou, move, status
):
    app = application_in(status, ganzhou)
    before = snapshot(LicenseApplication, app.pk, application=app)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/{move}/",
        {"at": "2026-10-01T10:00:00+08:00", **BODIES.get(move, {})},
        format="json",
    )
    if status in APPLICATION_MOVES[move]:
        assert response.status_code == 200, response.json()
        assert response.json()["id"] == app.pk
        assert response.json()["status"] != status or move == "provide-info"
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_move"
        assert snapshot(LicenseApplication, app.pk, application=app) == before


def shipment_in(status: str, exporter) -> Shipment:
    app_status = {"planned": "draft", "awaiting_license": "submitted"}.get(status, "approved")
    app = application_in(app_status, exporter)
    shipment = shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=exporter,
        reference=f"S-{status}",
        item=app.items.get(),
        quantity=Decimal("10"),
        value=Decimal("100"),
        currency="USD",
        destination="DE",
        planned_ship_date=dt.date(2026, 12, 20),
        application=app,
    )
    kw = {"now": NOW, "actor": None}
    path = {
        "shipped": ["ship"],
        "delivered": ["ship", "deliver"],
        "on_hold": ["hold"],
        "cancelled": ["cancel"],
    }.get(status, [])
    for day, move in enumerate(path, start=21):
        getattr(shipping, f"shipment_{move}")(shipment=shipment, at=at(f"2026-09-{day}"), **kw)
    shipment.refresh_from_db()
    assert shipment.status == status
    return shipment


SHIPMENT_CASES = [(m, s) for m in SHIPMENT_MOVES for s in ShipmentStatus.values]


@pytest.mark.parametrize(
    "move,status", SHIPMENT_CASES, ids=[f"{m}-from-{s}" for m, s in SHIPMENT_CASES]
)
def test_every_shipment_move_is_legal_exactly_from_its_states(api, officer, ganzhou, move, status):
    shipment = shipment_in(status, ganzhou)
    before = snapshot(Shipment, shipment.pk, shipment=shipment)
    response = api(officer).post(
        f"/api/v1/shipments/{shipment.pk}/{move}/", {"note": "by API"}, format="json"
    )
    if status in SHIPMENT_MOVES[move]:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] != status
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_move"
        assert snapshot(Shipment, shipment.pk, shipment=shipment) == before


def submit(api_client, app, body):
    return api_client.post(f"/api/v1/applications/{app.pk}/submit/", body, format="json")


def test_a_bare_date_is_the_start_of_that_day_in_the_authoritys_time_zone(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    body = submit(api(officer), app, {"at": "2026-09-01"}).json()
    assert body["submitted_at"] == "2026-08-31T16:00:00Z"


def test_a_bare_date_of_today_means_now(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    today = NOW.astimezone(SHANGHAI).date().isoformat()
    response = submit(api(officer), app, {"at": today})
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.submitted_at == NOW


def test_a_bare_date_of_the_previous_moves_day_is_not_before_it(api, officer, ganzhou):
    app = application_in("submitted", ganzhou)  # submitted 2026-09-01 10:00 in Beijing
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/accept/", {"at": "2026-09-01"}, format="json"
    )
    assert response.status_code == 200, response.json()
    app.refresh_from_db()
    assert app.accepted_at == app.submitted_at


def test_a_date_time_without_offset_is_in_the_authoritys_time_zone(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    submit(api(officer), app, {"at": "2026-09-01T09:30:00"})
    app.refresh_from_db()
    assert app.submitted_at == dt.datetime(2026, 9, 1, 9, 30, tzinfo=SHANGHAI)


def test_a_date_time_with_an_offset_is_that_instant(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    submit(api(officer), app, {"at": "2026-09-01T09:30:00-04:00"})
    app.refresh_from_db()
    assert app.submitted_at == dt.datetime(2026, 9, 1, 13, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("at_value", [None, ""])
def test_at_omitted_or_null_means_now(api, officer, ganzhou, at_value):
    app = ApplicationFactory(exporter=ganzhou)
    body = {} if at_value == "" else {"at": at_value}
    assert submit(api(officer), app, body).status_code == 200
    app.refresh_from_db()
    assert app.submitted_at == NOW


@pytest.mark.parametrize(
    "value",
    ["2026-11-30", "2026-11-29T12:00:01+08:00", "yesterday", "2026-02-30", 20260901, "1999-12-31"],
)
def test_a_bad_or_future_at_is_invalid_input_naming_at(api, officer, ganzhou, value):
    app = ApplicationFactory(exporter=ganzhou)
    response = submit(api(officer), app, {"at": value})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["at"]
    app.refresh_from_db()
    assert app.status == "draft"


def test_a_move_dated_before_the_previous_move_is_invalid_input_naming_at(api, officer, ganzhou):
    app = application_in("submitted", ganzhou)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/accept/", {"at": "2026-08-31"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["at"]
    assert "previous move" in response.json()["detail"]


def test_approval_without_its_fields_names_each(api, officer, ganzhou):
    app = application_in("accepted", ganzhou)
    response = api(officer).post(f"/api/v1/applications/{app.pk}/approve/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"license_number", "valid_until"}


def test_a_general_license_needs_its_approved_amounts(api, officer, ganzhou):
    app = application_in("accepted", ganzhou)
    LicenseApplication.objects.filter(pk=app.pk).update(license_type="general")
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/approve/", BODIES["approve"], format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"approved_quantity", "approved_value"}


def test_a_move_that_lost_a_race_answers_409_and_changes_nothing(
    api, officer, ganzhou, monkeypatch
):
    app = application_in("submitted", ganzhou)
    original = ApplicationViewSet.get_object

    def read_then_someone_else_moves(self):
        stale = original(self)
        services.application_accept(
            application=LicenseApplication.objects.get(pk=app.pk),
            at=at("2026-09-05"),
            now=NOW,
            actor=None,
        )
        return stale

    monkeypatch.setattr(ApplicationViewSet, "get_object", read_then_someone_else_moves)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/withdraw/", {"at": "2026-09-06"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert LicenseApplication.objects.get(pk=app.pk).status == "accepted"


# --- corrections -------------------------------------------------------------------------------


def test_a_correction_re_dates_the_latest_move_and_the_due_date_follows(api, officer, ganzhou):
    client = api(officer)
    app = application_in("submitted", ganzhou)
    url = f"/api/v1/applications/{app.pk}"
    client.post(f"{url}/accept/", {"at": "2026-09-24T10:00:00"}, format="json")
    accept_event = Event.objects.filter(application=app, kind="status_changed").last()

    response = client.post(
        f"{url}/correct/",
        {"at": "2026-09-23T10:00:00+08:00", "note": "Acceptance letter is dated the 23rd"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "accepted"
    assert body["accepted_at"] == "2026-09-23T02:00:00Z"
    # 45 Chinese working days from Wednesday 23 September: Wednesday 2 December.
    due = dt.datetime.fromisoformat(body["due_at"]).astimezone(SHANGHAI)
    assert due == dt.datetime(2026, 12, 3, tzinfo=SHANGHAI)

    correction = client.get(f"/api/v1/events/?application={app.pk}&kind=correction").json()
    [event] = correction["results"]
    assert event["corrects"] == accept_event.pk
    assert event["note"] == "Acceptance letter is dated the 23rd"
    assert event["actor"] == "olga_officer"
    assert event["data"]["action"] == "redate"


def test_a_correction_can_undo_the_latest_move(api, officer, ganzhou):
    client = api(officer)
    app = application_in("accepted", ganzhou)
    response = client.post(
        f"/api/v1/applications/{app.pk}/correct/",
        {"undo": True, "note": "Accepted by mistake"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert response.json()["accepted_at"] is None


@pytest.mark.parametrize(
    "body,field",
    [
        ({"undo": True}, "note"),
        ({"undo": True, "note": ""}, "note"),
        ({"note": "why"}, "at"),
        ({"undo": True, "at": "2026-09-01", "note": "why"}, "at"),
        ({"at": "2026-08-01", "note": "before the submission"}, "at"),
        ({"undo": "maybe", "note": "why"}, "undo"),
    ],
)
def test_a_correction_without_what_it_needs_names_the_field(api, officer, ganzhou, body, field):
    app = application_in("accepted", ganzhou)
    before = snapshot(LicenseApplication, app.pk, application=app)
    response = api(officer).post(f"/api/v1/applications/{app.pk}/correct/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert snapshot(LicenseApplication, app.pk, application=app) == before


@pytest.mark.parametrize("status", ["draft", "expired"])
def test_a_correction_with_nothing_an_officer_may_correct_answers_409(
    api, officer, ganzhou, status
):
    app = application_in(status, ganzhou)
    response = api(officer).post(
        f"/api/v1/applications/{app.pk}/correct/", {"undo": True, "note": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_move"
