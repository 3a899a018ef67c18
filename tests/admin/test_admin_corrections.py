"""The back-office corrects a shipment's latest move through the same service as the pages
and the API, and refuses an application's correction that its shipments depend on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from licenses import services
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import ApplicationFactory
from ..shipments.test_shipments import new_shipment

pytestmark = pytest.mark.django_db


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def cleared(exporter=None):
    app = ApplicationFactory(**({"exporter": exporter} if exporter else {}))
    shipment = new_shipment(app)
    now = timezone.now()
    services.application_submit(application=app, at=days_ago(20), now=now, actor=None)
    services.application_approve(
        application=app,
        at=days_ago(10),
        now=now,
        actor=None,
        license_number="L-1",
        valid_until=(now + dt.timedelta(days=365)).date(),
    )
    shipment.refresh_from_db()
    return app, shipment


def correct_url(shipment):
    return reverse("admin:shipments_shipment_move", args=[shipment.pk, "correct"])


def test_the_shipment_change_page_links_to_its_correction(client, officer):
    _app, shipment = cleared()
    client.force_login(officer)
    page = client.get(reverse("admin:shipments_shipment_change", args=[shipment.pk]))
    assert correct_url(shipment) in page.content.decode()


def test_an_officer_undoes_a_shipments_latest_move_in_the_admin(client, officer):
    _app, shipment = cleared()
    shipping.shipment_ship(shipment=shipment, at=days_ago(2), now=timezone.now(), actor=None)
    client.force_login(officer)
    response = client.post(correct_url(shipment), {"undo": "on", "note": "Not loaded yet"})
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == "cleared" and shipment.shipped_at is None
    correction = shipment.events.get(kind="correction")
    assert correction.note == "Not loaded yet" and correction.actor == officer


def test_an_officer_re_dates_a_shipments_latest_move_in_the_admin(client, officer):
    _app, shipment = cleared()
    shipping.shipment_ship(shipment=shipment, at=days_ago(2), now=timezone.now(), actor=None)
    moment = days_ago(3).replace(second=0, microsecond=0)
    client.force_login(officer)
    client.post(
        correct_url(shipment),
        {"at": moment.strftime("%Y-%m-%dT%H:%M"), "note": "Bill of lading date"},
    )
    shipment.refresh_from_db()
    assert shipment.shipped_at == moment


def test_a_future_re_dating_in_the_admin_names_the_date_and_changes_nothing(client, officer):
    _app, shipment = cleared()
    shipping.shipment_ship(shipment=shipment, at=days_ago(2), now=timezone.now(), actor=None)
    before = Shipment.objects.get(pk=shipment.pk).shipped_at
    client.force_login(officer)
    page = client.post(correct_url(shipment), {"at": "2099-01-01T10:00", "note": "x"})
    assert page.status_code == 200 and "at" in page.context["form"].errors
    assert Shipment.objects.get(pk=shipment.pk).shipped_at == before
    assert not shipment.events.filter(kind="correction").exists()


def test_a_shipment_with_nothing_to_correct_is_refused_in_the_admin(client, officer):
    _app, shipment = cleared()
    client.force_login(officer)
    page = client.post(correct_url(shipment), {"undo": "on", "note": "x"})
    assert page.status_code == 200
    assert "The shipment has no move to correct." in [str(m) for m in page.context["messages"]]


def test_a_viewer_cannot_correct_a_shipment_in_the_admin(client, viewer):
    _app, shipment = cleared()
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.post(correct_url(shipment), {"undo": "on", "note": "x"}).status_code == 403


def test_undoing_an_approval_with_a_shipped_shipment_is_refused_in_the_admin(client, officer):
    app, shipment = cleared()
    shipping.shipment_ship(shipment=shipment, at=days_ago(2), now=timezone.now(), actor=None)
    client.force_login(officer)
    url = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "correct"])
    page = client.post(url, {"undo": "on", "note": "x"})
    assert any(shipment.reference in str(m) for m in page.context["messages"])
    app.refresh_from_db()
    assert app.status == "approved"
