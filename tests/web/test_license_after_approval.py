"""The license after approval on the pages: each move through its form, the shipments of a
suspended license without a Ship button, the requested amendment and its due date shown, the
timeline describing each move, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses import services
from shipments.models import Shipment

from .conftest import ago
from .test_csv import read_csv
from .test_moves import flash, local, offered

pytestmark = pytest.mark.django_db


def approve(world, days_ago=10):
    app = world.mine.application
    services.application_approve(
        application=app,
        at=ago(days_ago),
        now=timezone.now(),
        actor=None,
        license_number="L-1",
        valid_until=(timezone.now() + dt.timedelta(days=365)).date(),
    )
    app.refresh_from_db()
    return app


def test_suspending_through_the_page_holds_the_shipment_without_a_ship_button(
    client, officer, world
):
    app = approve(world)
    shipment = world.mine.shipment
    client.force_login(officer)
    assert offered(client.get(f"/shipments/{shipment.pk}/"), "shipments") == [
        "ship",
        "hold",
        "cancel",
    ]
    response = client.post(
        f"/applications/{app.pk}/suspend/", {"at": local(ago(2)), "note": "Probe"}, follow=True
    )
    assert flash(response) == ["Suspend recorded: GZ-APP-1 is now suspended."]
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_license"
    page = client.get(f"/shipments/{shipment.pk}/")
    assert offered(page, "shipments") == ["hold", "cancel"]
    assert "awaiting license" in page.content.decode()
    detail = client.get(f"/applications/{app.pk}/").content.decode()
    assert "License suspended" in detail
    response = client.post(f"/applications/{app.pk}/reinstate/", {"at": local(ago(1))})
    shipment.refresh_from_db()
    assert shipment.status == "cleared"


@pytest.mark.parametrize("move,status", [("revoke", "revoked"), ("surrender", "surrendered")])
def test_revoking_or_surrendering_through_the_page(client, officer, world, move, status):
    app = approve(world)
    client.force_login(officer)
    client.post(f"/applications/{app.pk}/{move}/", {"at": local(ago(1))})
    app.refresh_from_db()
    assert app.status == status
    assert Shipment.objects.get(pk=world.mine.shipment.pk).status == "planned"
    page = client.get(f"/applications/{app.pk}/")
    assert offered(page, "applications") == []
    assert "New shipment under it" not in page.content.decode()


def test_an_amendment_through_the_page_shows_with_its_due_date(client, officer, world):
    app = approve(world)
    client.force_login(officer)
    response = client.post(
        f"/applications/{app.pk}/amend/",
        {"at": local(ago(1)), "quantity": "800", "note": "More orders"},
        follow=True,
    )
    assert flash(response) == [
        "Request an amendment recorded: GZ-APP-1 is now waiting on a requested amendment."
    ]
    app.refresh_from_db()
    assert app.status == "amendment_requested" and app.due_at is not None
    page = client.get(f"/applications/{app.pk}/").content.decode()
    assert "Amendment due" in page and "Amendment requested" in page
    assert "500 → 800" in page
    assert offered(client.get(f"/applications/{app.pk}/"), "applications") == [
        "approve-amendment",
        "refuse-amendment",
    ]
    client.post(f"/applications/{app.pk}/approve-amendment/", {"at": local(ago(0, 1))})
    app.refresh_from_db()
    assert app.status == "approved" and app.approved_quantity == 800


def test_an_amendment_without_a_note_or_value_is_refused_on_the_form(client, officer, world):
    app = approve(world)
    client.force_login(officer)
    response = client.post(f"/applications/{app.pk}/amend/", {"at": local(ago(1))})
    assert response.status_code in (200, 400)
    app.refresh_from_db()
    assert app.status == "approved"


def test_the_new_moves_read_in_chinese(client, officer, world):
    app = approve(world)
    services.application_amend(
        application=app,
        at=ago(1),
        now=timezone.now(),
        actor=None,
        value=app.value * 2,
        note="More",
    )
    client.force_login(officer)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/applications/{app.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert "批准变更" in text and "已申请变更" in text and "变更审查截止" in text


def test_the_csv_export_shows_the_new_states(client, officer, world):
    app = approve(world)
    services.application_suspend(application=app, at=ago(1), now=timezone.now(), actor=None)
    client.force_login(officer)
    rows = read_csv(client.get("/applications/export.csv?status=suspended"))
    assert [(r["reference"], r["status"]) for r in rows] == [("GZ-APP-1", "suspended")]
