"""The API of pauses with reasons, reply deadlines, referral, return and resubmission: the
contract's names, 400 naming a bad `reason`, 409 for an illegal move, the schema's enums."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from licenses import services
from tests.factories import ApplicationFactory, authority
from tests.helpers import LONDON, NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def submitted_ecju(exporter):
    ecju = authority("ECJU")
    app = ApplicationFactory(
        exporter=exporter, authority=ecju, items=[ecju.items.create(code="ML22", description="T")]
    )
    services.application_submit(
        application=app, at=at("2026-04-20", tz=LONDON), now=NOW, actor=None
    )
    return app


def post(client, app, move, body):
    return client.post(f"/api/v1/applications/{app.pk}/{move}/", body, format="json")


def test_request_info_takes_a_reason_and_shows_the_pause_and_reply_deadline(api, officer, ganzhou):
    app = submitted_ecju(ganzhou)
    client = api(officer)
    response = post(client, app, "request-info", {"at": "2026-04-28T10:00:00+01:00"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "info_requested" and body["pause_reason"] == "information"
    assert body["reply_due_at"] == "2026-05-28T23:00:00Z"  # end of 28 May in London
    response = post(client, app, "provide-info", {"at": "2026-05-06"})
    assert response.json()["pause_reason"] is None and response.json()["reply_due_at"] is None


def test_a_bad_reason_answers_400_naming_it(api, officer, ganzhou):
    app = submitted_ecju(ganzhou)
    response = post(api(officer), app, "request-info", {"reason": "lunch"})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    for reason in ({}, {"reason": "whim"}):
        response = post(api(officer), app, "refer", reason)
        assert response.status_code == 400 and "reason" in response.json()["fields"]
    app.refresh_from_db()
    assert app.status == "submitted"


def test_refer_return_and_resubmit_through_the_api(api, officer, ganzhou):
    app = submitted_ecju(ganzhou)
    client = api(officer)
    response = post(
        client, app, "refer", {"reason": "interagency", "note": "Sent to DoD", "at": "2026-04-22"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["due_at"], body["referral_reason"]) == (
        "referred",
        None,
        "interagency",
    )
    assert body["legal_moves"] == ["approve", "reject", "withdraw", "return"]
    assert post(client, app, "resubmit", {}).status_code == 409
    response = post(client, app, "return", {"at": "2026-05-01"})
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert response.json()["legal_moves"] == ["resubmit"]
    response = post(client, app, "resubmit", {"at": "2026-06-01T09:00:00+01:00"})
    body = response.json()
    assert body["status"] == "submitted" and body["submitted_at"] == "2026-06-01T08:00:00Z"
    assert body["due_at"] == "2026-06-29T23:00:00Z"  # 20 working days from 1 June
    events = client.get(f"/api/v1/events/?application={app.pk}&kind=status_changed").json()
    moves = [e["data"]["move"] for e in events["results"]]
    assert {"refer", "return", "resubmit"} <= set(moves)


def test_the_correction_of_a_resubmission_through_the_api(api, officer, ganzhou):
    app = submitted_ecju(ganzhou)
    client = api(officer)
    post(client, app, "return", {"at": "2026-05-01"})
    post(client, app, "resubmit", {"at": "2026-06-01"})
    response = client.post(
        f"/api/v1/applications/{app.pk}/correct/",
        {"undo": True, "note": "Not resubmitted after all"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "returned"
    assert response.json()["submitted_at"] == "2026-04-20T09:00:00Z"


def test_authorities_show_and_take_their_reply_and_amendment_windows(api, administrator):
    client = api(administrator)
    ecju = client.get("/api/v1/authorities/ECJU/").json()
    assert (ecju["reply_window_days"], ecju["reply_window_unit"]) == (20, "working")
    bis = client.get("/api/v1/authorities/BIS/").json()
    assert (bis["reply_window_days"], bis["reply_window_unit"]) == (10, "calendar")
    mofcom = client.get("/api/v1/authorities/MOFCOM/").json()
    assert (mofcom["reply_window_days"], mofcom["amendment_window_days"]) == (None, 20)
    response = client.patch("/api/v1/authorities/ECJU/", {"reply_window_days": None}, format="json")
    assert response.status_code == 200 and response.json()["reply_window_days"] is None


def test_an_edited_reply_window_moves_open_requests(api, administrator, officer, ganzhou):
    app = submitted_ecju(ganzhou)
    post(api(officer), app, "request-info", {"at": "2026-04-28"})
    response = api(administrator).patch(
        "/api/v1/authorities/ECJU/",
        {"reply_window_days": 10, "reply_window_unit": "calendar"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    detail = api(officer).get(f"/api/v1/applications/{app.pk}/").json()
    assert detail["reply_due_at"] == "2026-05-08T23:00:00Z"


def test_the_schema_states_the_reasons_as_enums():
    schema = APIClient().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def enum_of(component: str, field: str) -> list[str]:
        prop = components[component]["properties"][field]
        ref = prop.get("$ref") or next(
            (p["$ref"] for p in prop.get("allOf", []) + prop.get("oneOf", []) if "$ref" in p),
            None,
        )
        return components[ref.rsplit("/", 1)[1]]["enum"] if ref else prop["enum"]

    assert set(enum_of("RequestInfoRequest", "reason")) == {
        "information",
        "expert_review",
        "inspection",
        "identification",
    }
    assert set(enum_of("ReferRequest", "reason")) == {"state_council", "watch_list", "interagency"}
    assert "reason" in components["ReferRequest"]["required"]
    assert components["Application"]["properties"]["reply_due_at"]["readOnly"]
    assert components["Authority"]["properties"]["reply_window_days"]["nullable"]
