"""Detail pages offer the legal next moves only, to the roles that may make them; each move
asks for what it needs, in the user's time zone, and a refusal says why and changes nothing.
Corrections of the latest move show in the timeline as such."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone

from licenses import services
from licenses.models import Event, LicenseApplication
from monitoring.models import AlertPreference
from shipments.models import Shipment

from ..factories import ApplicationFactory
from .conftest import ago

pytestmark = pytest.mark.django_db


def local(moment: dt.datetime, tz: str = "UTC") -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def offered(response, kind: str) -> list[str]:
    """The moves a page offers, by the URL their forms post to."""
    found = re.findall(rf'action="/{kind}/\d+/([a-z-]+)/"', response.content.decode())
    return [move for move in found if move not in ("correct", "documents")]


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- which moves are offered ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([], ["submit"]),
        (
            ["submit"],
            ["accept", "request-info", "approve", "reject", "withdraw", "refer", "return"],
        ),
        (
            ["submit", "accept"],
            ["request-info", "approve", "reject", "withdraw", "refer", "return"],
        ),
        (["submit", "request_info"], ["provide-info", "withdraw", "refer", "return"]),
        (["submit", "refer"], ["approve", "reject", "withdraw", "return"]),
        (["submit", "return"], ["resubmit"]),
        (["submit", "approve"], ["suspend", "revoke", "surrender", "amend"]),
        (["submit", "approve", "suspend"], ["reinstate", "revoke"]),
        (["submit", "reject"], []),
    ],
)
def test_an_application_page_offers_exactly_the_legal_next_moves(client, officer, path, expected):
    app = ApplicationFactory()
    now = timezone.now()
    for n, move in enumerate(path):
        kwargs = {}
        if move == "approve":
            kwargs = {"license_number": "L-1", "valid_until": (now + dt.timedelta(days=90)).date()}
        if move == "reject":
            kwargs = {"reason": "End use unclear"}
        if move == "refer":
            kwargs = {"reason": "watch_list"}
        getattr(services, f"application_{move}")(
            application=app, at=ago(30 - n), now=now, actor=None, **kwargs
        )
    client.force_login(officer)
    assert offered(client.get(f"/applications/{app.pk}/"), "applications") == expected


def test_viewers_see_no_move_and_no_correction(client, viewer, world):
    client.force_login(viewer)
    response = client.get(f"/applications/{world.mine.application.pk}/")
    assert offered(response, "applications") == []
    assert "Correct the latest move" not in response.content.decode()
    assert offered(client.get(f"/shipments/{world.mine.shipment.pk}/"), "shipments") == []


def test_a_shipment_page_offers_its_legal_moves_to_officers(client, officer, world):
    client.force_login(officer)
    shipment = world.mine.shipment  # awaiting its license
    assert offered(client.get(f"/shipments/{shipment.pk}/"), "shipments") == ["hold", "cancel"]
    Shipment.objects.filter(pk=shipment.pk).update(status="cleared")
    assert offered(client.get(f"/shipments/{shipment.pk}/"), "shipments") == [
        "ship",
        "hold",
        "cancel",
    ]


def test_the_correction_is_offered_only_after_an_officers_move(client, officer, world):
    client.force_login(officer)
    draft = ApplicationFactory(exporter=world.mine.exporter)
    assert (
        "Correct the latest move" not in client.get(f"/applications/{draft.pk}/").content.decode()
    )
    assert (
        "Correct the latest move"
        in client.get(f"/applications/{world.mine.application.pk}/").content.decode()
    )


# --- making moves --------------------------------------------------------------------------


def test_accepting_records_the_moment_given_and_the_case_number(client, officer, world):
    app = world.mine.application
    moment = ago(30).replace(second=0, microsecond=0)
    client.force_login(officer)
    response = client.post(
        f"/applications/{app.pk}/accept/",
        {"at": local(moment), "note": "Letter of 2 Nov", "authority_reference": "MOF-77"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/applications/{app.pk}/"
    assert flash(response) == ["Accept recorded: GZ-APP-1 is now accepted for review."]
    app.refresh_from_db()
    assert (app.status, app.accepted_at, app.authority_reference) == ("accepted", moment, "MOF-77")
    event = Event.objects.get(application=app, kind="status_changed", to_status="accepted")
    assert (event.actor, event.note) == (officer, "Letter of 2 Nov")


def test_the_moment_is_read_in_the_users_time_zone(client, officer, world):
    AlertPreference.objects.create(user=officer, time_zone="Asia/Shanghai")
    app = world.mine.application
    client.force_login(officer)
    moment = ago(20).astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    client.post(f"/applications/{app.pk}/accept/", {"at": moment.strftime("%Y-%m-%dT%H:%M")})
    app.refresh_from_db()
    assert app.accepted_at == moment
    # …and shown in it.
    page = client.get(f"/applications/{app.pk}/").content.decode()
    # In the user's zone, with its UTC offset (not an ambiguous "CST").
    assert moment.strftime("%Y-%m-%d %H:%M UTC+08:00") in page
    assert " CST" not in page


def test_approval_asks_for_the_license_and_for_a_general_license_its_amounts(
    client, officer, world
):
    client.force_login(officer)
    app = world.mine.application
    response = client.post(f"/applications/{app.pk}/approve/", {"at": local(ago(10))})
    form = response.context["form"]
    assert set(form.errors) == {"license_number", "valid_until"}
    assert "approved_quantity" not in form.fields  # individual license
    general = ApplicationFactory(exporter=app.exporter, license_type="general")
    services.application_submit(application=general, at=ago(40), now=timezone.now(), actor=None)
    form = client.get(f"/applications/{general.pk}/approve/").context["form"]
    assert {"approved_quantity", "approved_value"} <= set(form.fields)


def test_rejection_needs_a_reason(client, officer, world):
    client.force_login(officer)
    app = world.mine.application
    response = client.post(f"/applications/{app.pk}/reject/", {"at": local(ago(1))})
    assert response.context["form"].errors["reason"] == ["This field is required."]
    app.refresh_from_db()
    assert app.status == "submitted"


def test_a_move_dated_in_the_future_is_refused_on_its_field_and_changes_nothing(
    client, officer, world
):
    client.force_login(officer)
    app = world.mine.application
    response = client.post(
        f"/applications/{app.pk}/accept/",
        {"at": local(timezone.now() + dt.timedelta(days=2))},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["at"] == ["This moment is in the future."]
    assert flash(response) == []  # once, on its field
    app.refresh_from_db()
    assert app.status == "submitted"


def test_a_move_dated_before_the_previous_one_is_refused(client, officer, world):
    client.force_login(officer)
    app = world.mine.application  # submitted 90 days ago
    response = client.post(f"/applications/{app.pk}/accept/", {"at": local(ago(100))})
    assert response.context["form"].errors["at"][0].startswith("Before the previous move")


def test_an_illegal_move_is_refused_with_a_clear_message(client, officer, world):
    client.force_login(officer)
    app = world.mine.application
    response = client.post(f"/applications/{app.pk}/submit/", {"at": local(ago(1))})
    assert flash(response) == []  # said once, above the form
    assert response.context["form"].non_field_errors() == [
        "“Submit” is not possible now: the application is submitted to the authority."
    ]
    assert "Record: Submit" not in response.content.decode()  # no form to try again
    response = client.get(f"/applications/{app.pk}/provide-info/", follow=True)
    assert flash(response) == [
        "“Provide information” is not possible now: the application is submitted to the authority."
    ]


def test_a_shipment_move_goes_through_the_service(client, officer, world):
    client.force_login(officer)
    shipment = world.mine.shipment
    response = client.post(
        f"/shipments/{shipment.pk}/hold/",
        {"at": local(ago(1)), "note": "Customer asked"},
        follow=True,
    )
    assert flash(response) == ["Hold recorded: GZ-SHP-1 is now on hold."]  # a sentence
    shipment.refresh_from_db()
    assert shipment.status == "on_hold"
    response = client.post(f"/shipments/{shipment.pk}/ship/", {"at": local(ago(0))})
    assert response.context["form"].non_field_errors() == [
        "“Ship” is not possible now: the shipment is on hold."
    ]


def test_moves_need_the_move_permission_and_visibility(client, viewer, outsider, world):
    app = world.mine.application
    client.force_login(viewer)
    assert client.post(f"/applications/{app.pk}/accept/", {"at": local(ago(1))}).status_code == 403
    client.force_login(outsider)
    assert client.post(f"/applications/{app.pk}/accept/", {"at": local(ago(1))}).status_code == 404
    assert client.post(f"/shipments/{world.mine.shipment.pk}/hold/", {}).status_code == 404
    app.refresh_from_db()
    assert app.status == "submitted"


def test_an_unknown_move_is_not_a_page(client, officer, world):
    client.force_login(officer)
    assert client.get(f"/applications/{world.mine.application.pk}/expire/").status_code == 404
    assert client.post(f"/shipments/{world.mine.shipment.pk}/explode/").status_code == 404


# --- corrections ----------------------------------------------------------------------------


def test_the_latest_move_is_re_dated_and_the_timeline_shows_the_correction(client, officer, world):
    client.force_login(officer)
    app = world.mine.application
    new_moment = ago(80).replace(second=0, microsecond=0)
    response = client.post(
        f"/applications/{app.pk}/correct/",
        {"action": "redate", "at": local(new_moment), "note": "Filed a week later"},
        follow=True,
    )
    assert flash(response) == ["Correction recorded: GZ-APP-1 is submitted to the authority."]
    app.refresh_from_db()
    assert app.submitted_at == new_moment
    timeline = response.context["timeline"]
    correction = next(e for e in timeline if e.is_correction)
    assert correction.title == "Correction: “Submitted” re-dated"
    corrected = next(e for e in timeline if e.event.pk == correction.event.corrects_id)
    assert corrected.corrected_by == [correction.event]
    html = response.content.decode()
    assert "Re-dated by a later correction" in html and "Filed a week later" in html


def test_the_latest_move_is_undone(client, officer, world):
    client.force_login(officer)
    app = world.mine.application
    response = client.post(
        f"/applications/{app.pk}/correct/", {"action": "undo", "note": "Never filed"}, follow=True
    )
    app.refresh_from_db()
    assert app.status == "draft"
    assert "Correction: “Submitted” undone" in response.content.decode()
    assert "Undone by a later correction" in response.content.decode()


def test_a_re_dating_needs_a_date_and_every_correction_a_reason(client, officer, world):
    client.force_login(officer)
    app = world.mine.application
    form = client.post(f"/applications/{app.pk}/correct/", {"action": "redate"}).context["form"]
    assert form.errors == {
        "at": ["Give the date and time the move really happened."],
        "note": ["This field is required."],
    }


def test_a_correction_with_nothing_to_correct_is_refused(client, officer, world):
    client.force_login(officer)
    draft = ApplicationFactory(exporter=world.mine.exporter)
    response = client.post(f"/applications/{draft.pk}/correct/", {"action": "undo", "note": "Oops"})
    assert flash(response) == []  # said once, above the form
    assert response.context["form"].non_field_errors() == [
        "The application has no move to correct."
    ]
    assert LicenseApplication.objects.get(pk=draft.pk).status == "draft"
