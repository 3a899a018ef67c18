"""Create and edit forms write through the services and say, field by field, what is wrong;
choices are scoped, so a tampered POST naming another exporter's object is a field error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses.models import Event, Exporter, LicenseApplication
from shipments.models import Consignee, Shipment

from ..factories import ApplicationFactory, authority, item

pytestmark = pytest.mark.django_db


def errors(response, field: str | None = None) -> list[str]:
    form = response.context["form"]
    if field is None:
        return list(form.non_field_errors())
    return list(form.errors.get(field, []))


def application_data(exporter, **overrides):
    data = {
        "exporter": exporter.pk,
        "authority": authority("MOFCOM").pk,
        "license_type": "individual",
        "items": [item("1C902").pk],
        "destination": "de",
        "reference": "GZ-NEW-1",
        "authority_reference": "",
        "quantity": "500",
        "value": "120000",
        "currency": "usd",
    }
    return {**data, **overrides}


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
        "planned_ship_date": (timezone.now() + dt.timedelta(days=40)).date().isoformat(),
        "application": "",
    }
    return {**data, **overrides}


# --- applications ------------------------------------------------------------------------------


def test_an_officer_creates_a_draft_application_through_the_service(client, officer, ganzhou):
    client.force_login(officer)
    response = client.post("/applications/new/", application_data(ganzhou))
    app = LicenseApplication.objects.get(reference="GZ-NEW-1")
    assert response.status_code == 302 and response["Location"] == f"/applications/{app.pk}/"
    assert (app.status, app.destination, app.currency) == ("draft", "DE", "USD")
    assert Event.objects.filter(application=app, kind="created", actor=officer).exists()


def test_the_application_form_says_what_is_wrong_on_each_field(client, officer, ganzhou):
    ApplicationFactory(exporter=ganzhou, reference="TAKEN")
    client.force_login(officer)
    response = client.post(
        "/applications/new/",
        application_data(
            ganzhou,
            reference="TAKEN",
            destination="Germany",
            quantity="-5",
            currency="dollars",
            items=[item("1C902").pk],
            authority=authority("BIS").pk,
        ),
    )
    assert response.status_code == 200
    assert errors(response, "reference") == [
        "This exporter already has an application with this reference."
    ]
    assert errors(response, "items") == ["Not on BIS's control list: 1C902."]
    assert errors(response, "quantity")
    assert errors(response, "destination") == [
        "Germany is not a two-letter ISO 3166 country code, e.g. CN."
    ]
    assert errors(response, "currency")
    assert (
        not LicenseApplication.objects.filter(reference="TAKEN").exclude(exporter=ganzhou).exists()
    )
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "id_reference_error1" in html


def test_a_limited_user_cannot_file_for_another_exporter_by_tampering_with_the_form(
    client, limited, baotou
):
    client.force_login(limited)
    response = client.post("/applications/new/", application_data(baotou))
    assert response.status_code == 200
    assert errors(response, "exporter") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not LicenseApplication.objects.filter(exporter=baotou).exists()


def test_a_limited_user_is_offered_only_its_exporters(client, limited, world):
    client.force_login(limited)
    form = client.get("/applications/new/").context["form"]
    assert list(form.fields["exporter"].queryset) == [world.mine.exporter]
    assert form.initial["exporter"] == world.mine.exporter


def test_once_submitted_only_the_case_number_quantity_and_value_can_be_edited(
    client, officer, world
):
    app = world.mine.application
    client.force_login(officer)
    form = client.get(f"/applications/{app.pk}/edit/").context["form"]
    assert form.fields["destination"].disabled and form.fields["items"].disabled
    assert not form.fields["quantity"].disabled
    response = client.post(
        f"/applications/{app.pk}/edit/",
        application_data(app.exporter, reference=app.reference, destination="FR", quantity="400"),
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.destination, app.quantity) == ("DE", 400)  # the disabled field kept its value
    assert Event.objects.filter(application=app, kind="edited").exists()


def test_a_clashing_case_number_is_reported_on_its_field(client, officer, world):
    theirs = world.theirs.application
    LicenseApplication.objects.filter(pk=theirs.pk).update(authority_reference="MOF-1")
    app = world.mine.application
    client.force_login(officer)
    response = client.post(
        f"/applications/{app.pk}/edit/",
        application_data(app.exporter, reference=app.reference, authority_reference="MOF-1"),
    )
    assert response.status_code == 200
    assert errors(response, "authority_reference") == [
        "Another application already has this case number at MOFCOM."
    ]
    assert errors(response) == []


# --- shipments ---------------------------------------------------------------------------------


def test_an_officer_creates_a_shipment_under_an_application(client, officer, world):
    side = world.mine
    client.force_login(officer)
    response = client.post(
        "/shipments/new/",
        shipment_data(side, application=ApplicationFactory(exporter=side.exporter).pk),
    )
    shipment = Shipment.objects.get(reference="GZ-SHP-NEW")
    assert response["Location"] == f"/shipments/{shipment.pk}/"
    assert (shipment.status, shipment.unit) == ("planned", "kg")


def test_the_shipment_form_is_prefilled_from_the_application_it_starts_from(client, officer, world):
    app = world.mine.application
    client.force_login(officer)
    form = client.get(f"/shipments/new/?application={app.pk}").context["form"]
    assert form.initial["application"] == app and form.initial["destination"] == "DE"


def test_a_shipment_that_does_not_match_its_application_is_refused_on_the_field(
    client, officer, world
):
    side = world.mine
    client.force_login(officer)
    response = client.post(
        "/shipments/new/",
        shipment_data(side, destination="FR", application=side.application.pk),
    )
    assert response.status_code == 200
    assert errors(response, "destination") == ["The application is for destination DE, not FR."]
    assert not Shipment.objects.filter(reference="GZ-SHP-NEW").exists()


def test_a_consignee_of_another_of_my_exporters_is_refused(client, officer, world):
    client.force_login(officer)
    response = client.post(
        "/shipments/new/", shipment_data(world.mine, consignee=world.theirs.consignee.pk)
    )
    assert errors(response, "consignee") == ["This consignee belongs to another exporter."]


def test_a_limited_user_tampering_with_a_consignee_or_application_gets_field_errors(
    client, limited, world
):
    client.force_login(limited)
    response = client.post(
        "/shipments/new/",
        shipment_data(
            world.mine,
            consignee=world.theirs.consignee.pk,
            application=world.theirs.application.pk,
        ),
    )
    invalid = "Select a valid choice. That choice is not one of the available choices."
    assert errors(response, "consignee") == [invalid]
    assert errors(response, "application") == [invalid]


def test_an_individual_license_already_covering_a_shipment_refuses_a_second(client, officer, world):
    client.force_login(officer)
    response = client.post(
        "/shipments/new/", shipment_data(world.mine, application=world.mine.application.pk)
    )
    assert errors(response, "application") == ["This individual license already covers a shipment."]


def test_a_shipped_shipment_can_no_longer_be_edited(client, officer, world):
    shipment = world.mine.shipment
    Shipment.objects.filter(pk=shipment.pk).update(status="shipped")
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/edit/",
        shipment_data(
            world.mine,
            reference=shipment.reference,
            quantity="60",
            application=world.mine.application.pk,
        ),
    )
    assert errors(response) == ["The shipment is already shipped: it can no longer be edited."]


# --- exporters and consignees -----------------------------------------------------------------


def test_the_exporter_form_names_each_bad_contact_address(client, officer):
    client.force_login(officer)
    response = client.post(
        "/exporters/new/",
        {
            "name": "Jiangxi Tungsten",
            "registration_number": "9136-0001",
            "country": "cn",
            "address": "",
            "contact_emails": "ok@example.com\nnot-an-address, also bad",
        },
    )
    assert errors(response, "contact_emails") == ["Not an e-mail address: not-an-address, also bad"]
    response = client.post(
        "/exporters/new/",
        {
            "name": "Jiangxi Tungsten",
            "registration_number": "9136-0001",
            "country": "cn",
            "contact_emails": "ok@example.com, second@example.com",
        },
    )
    exporter = Exporter.objects.get(registration_number="9136-0001")
    assert (exporter.country, exporter.contact_emails) == (
        "CN",
        ["ok@example.com", "second@example.com"],
    )


def test_a_limited_user_cannot_create_an_exporter_even_by_posting(client, limited):
    client.force_login(limited)
    response = client.post(
        "/exporters/new/", {"name": "X", "registration_number": "1", "country": "CN"}
    )
    assert response.status_code == 403
    assert not Exporter.objects.filter(registration_number="1").exists()


def test_a_limited_user_creates_consignees_only_for_its_exporters(client, limited, world):
    client.force_login(limited)
    data = {"name": "Osaka Alloys", "country": "jp", "end_use": "Magnets"}
    refused = client.post("/consignees/new/", {**data, "exporter": world.theirs.exporter.pk})
    assert errors(refused, "exporter")
    created = client.post("/consignees/new/", {**data, "exporter": world.mine.exporter.pk})
    consignee = Consignee.objects.get(name="Osaka Alloys")
    assert created["Location"] == f"/consignees/{consignee.pk}/"
    assert consignee.country == "JP"


def test_an_outsider_cannot_edit_another_exporters_consignee(client, outsider, world):
    client.force_login(outsider)
    response = client.post(
        f"/consignees/{world.mine.consignee.pk}/edit/",
        {"exporter": world.theirs.exporter.pk, "name": "Stolen", "country": "DE"},
    )
    assert response.status_code == 404
    world.mine.consignee.refresh_from_db()
    assert world.mine.consignee.name != "Stolen"


def test_a_viewer_cannot_post_any_form(client, viewer, world):
    client.force_login(viewer)
    for url in (
        "/applications/new/",
        "/shipments/new/",
        "/consignees/new/",
        "/exporters/new/",
        f"/shipments/{world.mine.shipment.pk}/edit/",
    ):
        assert client.post(url, {}).status_code == 403, url
