""" "File an application for this shipment": a draft from the shipment's facts, assigned to
it, in one transaction; refused when an application is in force, to a user without the
permission, and 404 beyond the user's exporters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from licenses import services
from licenses.models import Event, LicenseApplication
from shipments import services as shipping

from ..factories import item
from .conftest import ago

pytestmark = pytest.mark.django_db


def planned(exporter, reference="GZ-PLAN", **fields):
    now = timezone.now()
    return shipping.shipment_create(
        now=now,
        actor=None,
        exporter=exporter,
        reference=reference,
        item=item("1C903"),
        quantity=Decimal("250"),
        value=Decimal("61000.50"),
        currency="EUR",
        destination="JP",
        planned_ship_date=(now + dt.timedelta(days=90)).date(),
        **fields,
    )


def file_url(shipment):
    return f"/shipments/{shipment.pk}/file-application/"


def test_filing_creates_a_draft_from_the_shipments_facts_and_assigns_it(client, officer, world):
    shipment = planned(world.mine.exporter)
    client.force_login(officer)
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert "File an application for this shipment" in page and "Assign one" not in page

    response = client.post(file_url(shipment), follow=True)

    draft = LicenseApplication.objects.get(reference="GZ-PLAN-APP")
    assert response.redirect_chain[-1][0] == f"/applications/{draft.pk}/"
    assert "Draft application GZ-PLAN-APP filed for shipment GZ-PLAN" in (response.content.decode())
    assert (
        draft.status,
        draft.exporter,
        draft.authority.code,
        [i.code for i in draft.items.all()],
        draft.destination,
        draft.quantity,
        draft.value,
        draft.currency,
        draft.license_type,
    ) == (
        "draft",
        world.mine.exporter,
        "MOFCOM",
        ["1C903"],
        "JP",
        Decimal("250.000"),
        Decimal("61000.50"),
        "EUR",
        "individual",
    )
    shipment.refresh_from_db()
    assert (shipment.application, shipment.status) == (draft, "planned")
    created = Event.objects.get(application=draft, kind="created", shipment=None)
    assigned = Event.objects.get(shipment=shipment, kind="assigned")
    assert created.actor == officer and assigned.actor == officer
    assert assigned.application_id == draft.pk


def test_filing_again_is_refused_while_the_draft_is_in_force(client, officer, world):
    shipment = planned(world.mine.exporter)
    client.force_login(officer)
    client.post(file_url(shipment))
    response = client.post(file_url(shipment), follow=True)
    assert response.redirect_chain[-1][0] == f"/shipments/{shipment.pk}/"
    assert "already has application GZ-PLAN-APP (draft)" in response.content.decode()
    assert LicenseApplication.objects.filter(reference__startswith="GZ-PLAN").count() == 1
    assert "File an application for this shipment" not in response.content.decode()


def test_a_shipment_awaiting_its_license_cannot_file_another(client, officer, world):
    client.force_login(officer)
    page = client.get(f"/shipments/{world.mine.shipment.pk}/").content.decode()
    assert "File an application for this shipment" not in page
    response = client.post(file_url(world.mine.shipment), follow=True)
    assert "only a planned shipment needs an application filed" in response.content.decode()
    assert not LicenseApplication.objects.filter(reference="GZ-SHP-1-APP").exists()


def test_after_a_withdrawal_a_new_application_gets_the_next_reference(client, officer, world):
    shipment = planned(world.mine.exporter)
    client.force_login(officer)
    client.post(file_url(shipment))
    first = LicenseApplication.objects.get(reference="GZ-PLAN-APP")
    now = timezone.now()
    services.application_submit(application=first, at=ago(hours=2), now=now, actor=None)
    services.application_withdraw(application=first, at=ago(hours=1), now=now, actor=None)
    shipment.refresh_from_db()
    assert shipment.status == "planned"
    assert "File an application for this shipment" in (
        client.get(f"/shipments/{shipment.pk}/").content.decode()
    )
    client.post(file_url(shipment))
    shipment.refresh_from_db()
    assert shipment.application.reference == "GZ-PLAN-APP2"
    assert shipment.application.status == "draft"


def test_a_viewer_may_not_file(client, viewer, world):
    shipment = planned(world.mine.exporter)
    client.force_login(viewer)
    assert "File an application" not in client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert client.post(file_url(shipment)).status_code == 403
    assert not LicenseApplication.objects.filter(reference="GZ-PLAN-APP").exists()


def test_a_limited_user_gets_404_for_another_exporters_shipment(client, limited, world):
    theirs = planned(world.theirs.exporter, "BT-PLAN")
    client.force_login(limited)
    assert client.post(file_url(theirs)).status_code == 404
    assert not LicenseApplication.objects.filter(reference="BT-PLAN-APP").exists()
    mine = planned(world.mine.exporter)
    assert client.post(file_url(mine)).status_code == 302


def test_filing_answers_only_a_post(client, officer, world):
    client.force_login(officer)
    assert client.get(file_url(planned(world.mine.exporter))).status_code == 405
