"""The back office moves a license after approval through the services: suspend, reinstate,
amend (with its values), approve or refuse the amendment, revoke and surrender."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from licenses import services

from ..factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def approved_app():
    app = ApplicationFactory()
    now = timezone.now()
    services.application_submit(
        application=app, at=now - dt.timedelta(days=30), now=now, actor=None
    )
    services.application_approve(
        application=app,
        at=now - dt.timedelta(days=20),
        now=now,
        actor=None,
        license_number="L-1",
        valid_until=(now + dt.timedelta(days=365)).date(),
    )
    app.refresh_from_db()
    return app


def move_url(app, move):
    return reverse("admin:licenses_licenseapplication_move", args=[app.pk, move])


def test_the_change_page_links_the_new_moves(client, officer):
    app = approved_app()
    client.force_login(officer)
    change = client.get(reverse("admin:licenses_licenseapplication_change", args=[app.pk]))
    for move in ("suspend", "revoke", "surrender", "amend"):
        assert f"/move/{move}/".encode() in change.content
    assert b"/move/reinstate/" not in change.content


def test_suspend_reinstate_amend_and_decide_from_the_admin(client, officer):
    app = approved_app()
    client.force_login(officer)
    assert client.post(move_url(app, "suspend"), {"note": "Probe"}).status_code == 302
    app.refresh_from_db()
    assert app.status == "suspended"
    client.post(move_url(app, "reinstate"), {})
    app.refresh_from_db()
    assert app.status == "approved"
    page = client.post(move_url(app, "amend"), {"note": "More"})
    assert page.status_code == 200  # no new value: refused on the page
    app.refresh_from_db()
    assert app.status == "approved"
    client.post(move_url(app, "amend"), {"quantity": "900", "note": "More"})
    app.refresh_from_db()
    assert app.status == "amendment_requested" and app.amendment_quantity == Decimal("900")
    client.post(move_url(app, "approve_amendment"), {})
    app.refresh_from_db()
    assert app.status == "approved" and app.approved_quantity == Decimal("900")
    client.post(move_url(app, "amend"), {"value": "1", "note": "Less"})
    client.post(move_url(app, "refuse_amendment"), {})
    app.refresh_from_db()
    assert app.status == "approved" and app.amendment_value is None


@pytest.mark.parametrize("move,status", [("revoke", "revoked"), ("surrender", "surrendered")])
def test_revoke_and_surrender_from_the_admin(client, officer, move, status):
    app = approved_app()
    client.force_login(officer)
    client.post(move_url(app, move), {"note": "Final"})
    app.refresh_from_db()
    assert app.status == status
