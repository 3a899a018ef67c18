"""Forms that catch mistakes: countries by name, no ship date in the past, a consignee abroad
confirmed, MOFCOM's case number on acceptance, an empty "only these exporters", each error
once on its field with dates in words, sentences that read, and empty choices that say
what they mean."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses.models import LicenseApplication
from monitoring.models import AlertPreference
from shipments.models import Shipment

from ..factories import item
from .conftest import ago

pytestmark = pytest.mark.django_db


def errors(response, field: str | None = None) -> list[str]:
    form = response.context["form"]
    if field is None:
        return list(form.non_field_errors())
    return list(form.errors.get(field, []))


def shipment_data(side, **overrides):
    data = {
        "exporter": side.exporter.pk,
        "reference": "GZ-SHP-NEW",
        "item": item("1C902").pk,
        "quantity": "50",
        "value": "12000",
        "currency": "USD",
        "destination": "DE",
        "consignee": side.consignee.pk,
        "planned_ship_date": "2026-12-20",
        "application": "",
    }
    return {**data, **overrides}


def chinese(client):
    client.cookies["django_language"] = "zh-hans"


# --- countries -----------------------------------------------------------------------------


def test_the_shipment_form_offers_countries_by_name_and_stores_the_code(client, officer, world):
    client.force_login(officer)
    page = client.get("/shipments/new/").content.decode()
    assert '<option value="DE">Germany</option>' in page
    response = client.post("/shipments/new/", shipment_data(world.mine, destination="DE"))
    assert response.status_code == 302
    assert Shipment.objects.get(reference="GZ-SHP-NEW").destination == "DE"


def test_country_names_are_in_chinese_for_a_chinese_reader(client, officer, world):
    client.force_login(officer)
    chinese(client)
    page = client.get("/consignees/new/").content.decode()
    assert '<option value="DE">德国</option>' in page


@pytest.mark.parametrize("code", ["ZZ", "XX"])
def test_an_unassigned_country_code_is_refused_on_the_field(client, officer, world, code):
    client.force_login(officer)
    response = client.post("/shipments/new/", shipment_data(world.mine, destination=code))
    assert response.status_code == 200
    assert errors(response, "destination") == [
        f"{code} is not an ISO 3166 country code (assigned codes only, e.g. CN)."
    ]
    assert not Shipment.objects.filter(reference="GZ-SHP-NEW").exists()


def test_the_api_refuses_an_unassigned_destination_naming_it(client, officer, world):
    client.force_login(officer)
    body = {
        "exporter": world.mine.exporter.pk,
        "name": "Nowhere Ltd",
        "country": "ZZ",
    }
    response = client.post("/api/v1/consignees/", body, content_type="application/json")
    assert response.status_code == 400
    assert "ZZ is not an ISO 3166 country code" in str(response.json())


# --- ship date -----------------------------------------------------------------------------


def test_a_new_shipment_planned_in_the_past_is_refused_on_its_field(client, officer, world):
    client.force_login(officer)
    response = client.post(
        "/shipments/new/", shipment_data(world.mine, planned_ship_date="2020-03-15")
    )
    assert errors(response, "planned_ship_date") == [
        "15 March 2020 is in the past: plan the shipment for today (18 November 2026) or later."
    ]
    assert errors(response) == []  # once, on the field
    assert not Shipment.objects.filter(reference="GZ-SHP-NEW").exists()


def test_the_past_ship_date_message_is_in_chinese_for_a_chinese_reader(client, officer, world):
    client.force_login(officer)
    chinese(client)
    response = client.post(
        "/shipments/new/", shipment_data(world.mine, planned_ship_date="2020-03-15")
    )
    (message,) = errors(response, "planned_ship_date")
    assert "2020年3月15日" in message and "2026年11月18日" in message


def test_the_api_refuses_a_past_ship_date_with_400_naming_the_field(client, officer, world):
    client.force_login(officer)
    body = {
        "exporter": world.mine.exporter.pk,
        "reference": "API-PAST",
        "item": item("1C902").pk,
        "quantity": "5",
        "value": "100",
        "currency": "USD",
        "destination": "DE",
        "consignee": world.mine.consignee.pk,
        "planned_ship_date": "2026-11-17",
    }
    response = client.post("/api/v1/shipments/", body, content_type="application/json")
    assert response.status_code == 400
    assert "planned_ship_date" in str(response.json())
    today = client.post(
        "/api/v1/shipments/",
        {**body, "planned_ship_date": "2026-11-18"},
        content_type="application/json",
    )
    assert today.status_code == 201, today.content  # today is not the past


def test_editing_a_shipment_whose_date_has_passed_does_not_check_the_date_again(
    client, officer, world
):
    shipment = world.mine.shipment
    Shipment.objects.filter(pk=shipment.pk).update(planned_ship_date=dt.date(2026, 11, 1))
    client.force_login(officer)
    data = shipment_data(
        world.mine,
        reference=shipment.reference,
        planned_ship_date="2026-11-01",
        application=world.mine.application.pk,
        quantity="90",
    )
    response = client.post(f"/shipments/{shipment.pk}/edit/", data)
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.quantity == 90


# --- consignee abroad ----------------------------------------------------------------------


def test_a_consignee_in_another_country_asks_for_confirmation_then_saves(client, officer, world):
    client.force_login(officer)
    japan = world.mine.consignee.__class__.objects.create(
        exporter=world.mine.exporter, name="Osaka Motors KK", country="JP"
    )
    data = shipment_data(world.mine, consignee=japan.pk, destination="DE")
    first = client.post("/shipments/new/", data)
    assert first.status_code == 200
    assert errors(first, "consignee") == [
        "Osaka Motors KK is in Japan but the shipment goes to Germany. "
        "Check both, or tick the confirmation below and save again."
    ]
    page = first.content.decode()
    assert "I confirm the consignee in Japan receives goods shipped to Germany." in page
    assert 'type="checkbox" name="confirm_consignee_country"' in page
    assert not Shipment.objects.filter(reference="GZ-SHP-NEW").exists()

    second = client.post("/shipments/new/", {**data, "confirm_consignee_country": "on"})
    assert second.status_code == 302
    assert Shipment.objects.get(reference="GZ-SHP-NEW").consignee == japan


def test_the_confirmation_is_not_asked_when_the_countries_agree(client, officer, world):
    client.force_login(officer)
    page = client.get("/shipments/new/").content.decode()
    assert 'type="checkbox" name="confirm_consignee_country"' not in page
    assert client.post("/shipments/new/", shipment_data(world.mine)).status_code == 302


def test_the_api_accepts_a_consignee_abroad_without_a_confirmation(client, officer, world):
    japan = world.mine.consignee.__class__.objects.create(
        exporter=world.mine.exporter, name="Osaka Motors KK", country="JP"
    )
    client.force_login(officer)
    body = {
        "exporter": world.mine.exporter.pk,
        "reference": "API-JP",
        "item": item("1C902").pk,
        "quantity": "5",
        "value": "100",
        "currency": "USD",
        "destination": "DE",
        "consignee": japan.pk,
        "planned_ship_date": "2026-12-20",
    }
    response = client.post("/api/v1/shipments/", body, content_type="application/json")
    assert response.status_code == 201, response.content


# --- MOFCOM acceptance ---------------------------------------------------------------------


def clear_case_number(application: LicenseApplication) -> None:
    LicenseApplication.objects.filter(pk=application.pk).update(authority_reference=None)


def test_mofcom_acceptance_without_a_case_number_is_refused_on_the_field(client, officer, world):
    app = world.mine.application
    clear_case_number(app)
    client.force_login(officer)
    data = {"at": timezone.localtime(ago(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "note": ""}
    response = client.post(f"/applications/{app.pk}/accept/", data)
    assert response.status_code == 200
    assert errors(response, "authority_reference") == ["This field is required."]
    app.refresh_from_db()
    assert app.status == "submitted"
    done = client.post(
        f"/applications/{app.pk}/accept/", {**data, "authority_reference": "MOFCOM-2026-1"}
    )
    assert done.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.authority_reference) == ("accepted", "MOFCOM-2026-1")


def test_the_api_refuses_mofcom_acceptance_without_a_case_number(client, officer, world):
    app = world.mine.application
    clear_case_number(app)
    client.force_login(officer)
    response = client.post(
        f"/api/v1/applications/{app.pk}/accept/",
        {"at": ago(hours=1).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "authority_reference" in str(body)
    assert "MOFCOM gives its case number on acceptance" in str(body)


def test_a_case_number_already_recorded_is_enough_to_accept(client, officer, world):
    app = world.mine.application
    LicenseApplication.objects.filter(pk=app.pk).update(authority_reference="MOFCOM-OLD-7")
    client.force_login(officer)
    response = client.post(
        f"/api/v1/applications/{app.pk}/accept/",
        {"at": ago(hours=1).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    app.refresh_from_db()
    assert (app.status, app.authority_reference) == ("accepted", "MOFCOM-OLD-7")


# --- alert settings ------------------------------------------------------------------------


def test_only_the_exporters_i_tick_with_none_ticked_is_refused_on_the_field(client, officer):
    client.force_login(officer)
    response = client.post(
        "/settings/alerts/",
        {
            "watch": "chosen",
            "digest_hour": "8",
            "time_zone": "Asia/Shanghai",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert errors(response, "watched_exporters") == [
        "Tick at least one exporter, or choose to watch every exporter you may see."
    ]
    assert errors(response) == []
    assert not AlertPreference.objects.filter(user=officer).exists()


def test_the_service_refuses_watching_no_exporter_too(officer):
    from core.errors import InvalidInput
    from monitoring.preferences import preference_save

    with pytest.raises(InvalidInput) as refused:
        preference_save(
            user=officer,
            watch_all=False,
            watched=[],
            immediate_kinds=[],
            digest=False,
            digest_hour=8,
            time_zone="UTC",
            language="en",
        )
    assert set(refused.value.fields) == {"watched_exporters"}


# --- each error once, in words ---------------------------------------------------------------


def test_a_move_dated_before_the_previous_one_says_so_once_with_the_date_in_words(
    client, officer, world
):
    app = world.mine.application
    client.force_login(officer)
    response = client.post(
        f"/applications/{app.pk}/withdraw/",
        {"at": timezone.localtime(ago(days=100)).strftime("%Y-%m-%dT%H:%M:%S"), "note": ""},
    )
    assert response.status_code == 200
    (message,) = errors(response, "at")
    # The officer has no time zone of their own: UTC.
    assert message == "Before the previous move (20 August 2026, 02:00 (UTC))."
    assert errors(response) == []
    page = response.content.decode()
    assert page.count("Before the previous move") == 1
    assert "2026-08-20T" not in page and "+00:00" not in page  # no ISO timestamp


# --- sentences that read -----------------------------------------------------------------------


def test_an_illegal_move_reads_as_a_sentence(client, officer, world):
    app = world.mine.application
    LicenseApplication.objects.filter(pk=app.pk).update(status="draft")
    client.force_login(officer)
    response = client.get(f"/applications/{app.pk}/approve/", follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["“Approve” is not possible now: the application is still a draft."]


def test_the_move_page_says_the_state_as_a_sentence_in_both_languages(client, officer, world):
    app = world.mine.application
    client.force_login(officer)
    assert "The application is submitted to the authority." in (
        client.get(f"/applications/{app.pk}/withdraw/").content.decode()
    )
    chinese(client)
    page = client.get(f"/applications/{app.pk}/withdraw/").content.decode()
    assert "The application is" not in page
    assert "已提交" in page


def test_the_api_says_an_illegal_move_as_a_sentence(client, officer, world):
    app = world.mine.application
    LicenseApplication.objects.filter(pk=app.pk).update(status="draft")
    client.force_login(officer)
    response = client.post(
        f"/api/v1/applications/{app.pk}/withdraw/", {}, content_type="application/json"
    )
    assert response.status_code == 409
    assert "the application is still a draft" in response.json()["detail"]


# --- time zones --------------------------------------------------------------------------------


def test_times_show_their_utc_offset_not_an_abbreviation(client, officer, world):
    client.force_login(officer)
    page = client.get(f"/applications/{world.mine.application.pk}/").content.decode()
    assert "UTC+08:00" in page or " UTC" in page
    assert " CST" not in page


def test_the_move_form_names_the_time_zone_with_its_offset(client, officer, world):
    from monitoring.preferences import preference_save

    preference_save(
        user=officer,
        watch_all=True,
        watched=[],
        immediate_kinds=[],
        digest=False,
        digest_hour=8,
        time_zone="Asia/Shanghai",
        language="en",
    )
    client.force_login(officer)
    page = client.get(f"/applications/{world.mine.application.pk}/withdraw/").content.decode()
    assert "In your time zone (Asia/Shanghai (UTC+08:00))." in page


# --- empty choices -----------------------------------------------------------------------------


def test_no_select_offers_dashes_as_its_empty_choice(client, officer, world):
    client.force_login(officer)
    for url in (
        "/shipments/new/",
        "/applications/new/",
        "/consignees/new/",
        "/shipments/",
        "/applications/",
        "/consignees/",
        "/exporters/",
    ):
        page = client.get(url).content.decode()
        assert "---------" not in page, url
    new = client.get("/shipments/new/").content.decode()
    assert '<option value="" selected>— choose —</option>' in new  # the item: required
    assert '<option value="">None</option>' in new or '<option value="" selected>None' in new
    listing = client.get("/shipments/").content.decode()
    assert '<option value="" selected>Any</option>' in listing
    assert '<option value="" selected>Any country</option>' in listing


def test_empty_choices_are_translated(client, officer, world):
    client.force_login(officer)
    chinese(client)
    page = client.get("/shipments/").content.decode()
    assert "---------" not in page
    assert ">Any<" not in page


# --- bad filter values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("status=bogus", "Status (“bogus”)"),
        ("destination=12", "Destination (“12”)"),
        ("ship_from=notadate", "Ship date from (“notadate”)"),
    ],
)
def test_a_bad_filter_value_is_named_and_ignored(client, officer, world, query, named):
    client.force_login(officer)
    response = client.get(f"/shipments/?{query}")
    page = response.content.decode()
    assert "These filters were not applied, their values are not valid:" in page
    assert named in page
    assert world.mine.shipment in list(response.context["rows"])


def test_a_good_filter_still_filters(client, officer, world):
    client.force_login(officer)
    response = client.get("/shipments/?destination=jp")
    assert "not applied" not in response.content.decode()
    assert list(response.context["rows"]) == [world.theirs.shipment]


@pytest.mark.parametrize("query", ["status=bogus", "destination=12", "ship_from=notadate"])
def test_the_api_answers_400_to_a_bad_filter_value(client, officer, world, query):
    client.force_login(officer)
    response = client.get(f"/api/v1/shipments/?{query}")
    assert response.status_code == 400, query


# --- timeline order ----------------------------------------------------------------------------


def test_the_timeline_lists_a_backdated_submission_before_the_record_was_made(
    client, officer, world
):
    client.force_login(officer)
    response = client.get(f"/applications/{world.mine.application.pk}/")
    titles = [entry.title for entry in response.context["timeline"]]
    assert titles.index("Submitted") < titles.index("Recorded in the tracker")
    moments = [entry.event.occurred_at for entry in response.context["timeline"]]
    assert moments == sorted(moments)
