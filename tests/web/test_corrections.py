"""The shipment page corrects its latest move like the application page does, and an
application's correction that its shipments depend on is refused naming them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses import services
from shipments import services as shipping
from shipments.models import Shipment

from .conftest import ago
from .test_moves import flash, local

pytestmark = pytest.mark.django_db


def approve(app, days_ago: float) -> None:
    services.application_approve(
        application=app,
        at=ago(days_ago),
        now=timezone.now(),
        actor=None,
        license_number="L-1",
        valid_until=(timezone.now() + dt.timedelta(days=365)).date(),
    )


def held(shipment, days_ago: float = 5) -> Shipment:
    return shipping.shipment_hold(
        shipment=shipment, at=ago(days_ago), now=timezone.now(), actor=None
    )


def test_an_officer_sees_the_correction_form_on_a_shipment_with_a_move(client, officer, world):
    client.force_login(officer)
    shipment = world.mine.shipment
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert f'action="/shipments/{shipment.pk}/correct/"' not in page  # nothing to correct yet
    held(shipment)
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert f'action="/shipments/{shipment.pk}/correct/"' in page
    assert "Correct the latest move" in page


def test_a_viewer_sees_no_correction_and_may_not_post_one(client, viewer, world):
    shipment = held(world.mine.shipment)
    client.force_login(viewer)
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert "Correct the latest move" not in page
    response = client.post(f"/shipments/{shipment.pk}/correct/", {"action": "undo", "note": "x"})
    assert response.status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).status == "on_hold"


def test_a_limited_user_gets_404_for_another_exporters_shipment(client, limited, world):
    shipment = held(world.theirs.shipment)
    client.force_login(limited)
    response = client.post(f"/shipments/{shipment.pk}/correct/", {"action": "undo", "note": "x"})
    assert response.status_code == 404
    assert Shipment.objects.get(pk=shipment.pk).status == "on_hold"


def test_the_latest_shipment_move_is_undone_and_the_timeline_shows_it(client, officer, world):
    shipment = held(world.mine.shipment)
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/correct/",
        {"action": "undo", "note": "Held the wrong shipment"},
        follow=True,
    )
    assert flash(response) == ["Correction recorded: GZ-SHP-1 is waiting for its license."]
    assert Shipment.objects.get(pk=shipment.pk).status == "awaiting_license"
    html = response.content.decode()
    assert "Correction: “Put on hold” undone" in html
    assert "Undone by a later correction" in html and "Held the wrong shipment" in html


def test_the_latest_shipment_move_is_re_dated(client, officer, world):
    shipment = held(world.mine.shipment, days_ago=5)
    new_moment = ago(3).replace(second=0, microsecond=0)
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/correct/",
        {"action": "redate", "at": local(new_moment), "note": "Held two days later"},
        follow=True,
    )
    assert Shipment.objects.get(pk=shipment.pk).last_moved_at == new_moment
    timeline = response.context["timeline"]
    correction = next(e for e in timeline if e.is_correction)
    assert correction.title == "Correction: “Put on hold” re-dated"


@pytest.mark.parametrize("moment", ["future", "before previous"])
def test_a_shipment_re_dating_out_of_order_names_the_date(client, officer, world, moment):
    shipment = held(world.mine.shipment, days_ago=5)
    shipping.shipment_release(shipment=shipment, at=ago(4), now=timezone.now(), actor=None)
    before = Shipment.objects.get(pk=shipment.pk).last_moved_at
    when = ago(-1) if moment == "future" else ago(6)
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/correct/",
        {"action": "redate", "at": local(when), "note": "x"},
    )
    assert response.status_code == 200
    assert "at" in response.context["form"].errors
    assert Shipment.objects.get(pk=shipment.pk).last_moved_at == before
    assert shipment.events.filter(kind="correction").count() == 0


def test_a_shipment_correction_needs_a_reason_and_a_date(client, officer, world):
    shipment = held(world.mine.shipment)
    client.force_login(officer)
    form = client.post(f"/shipments/{shipment.pk}/correct/", {"action": "redate"}).context["form"]
    assert form.errors == {
        "at": ["Give the date and time the move really happened."],
        "note": ["This field is required."],
    }


def test_a_shipment_with_nothing_to_correct_is_refused(client, officer, world):
    shipment = world.mine.shipment
    client.force_login(officer)
    response = client.post(f"/shipments/{shipment.pk}/correct/", {"action": "undo", "note": "x"})
    assert flash(response) == []  # said once, above the form
    assert response.context["form"].non_field_errors() == ["The shipment has no move to correct."]
    assert Shipment.objects.get(pk=shipment.pk).status == "awaiting_license"


def test_undoing_an_approval_under_which_a_shipment_shipped_is_refused_naming_it(
    client, officer, world
):
    app, shipment = world.mine.application, world.mine.shipment
    approve(app, days_ago=10)
    shipment.refresh_from_db()
    shipping.shipment_ship(shipment=shipment, at=ago(2), now=timezone.now(), actor=None)
    client.force_login(officer)
    response = client.post(f"/applications/{app.pk}/correct/", {"action": "undo", "note": "x"})
    [message] = response.context["form"].non_field_errors()
    assert "GZ-SHP-1" in message
    app.refresh_from_db()
    assert app.status == "approved"


def test_a_shipments_timeline_says_when_it_followed_a_corrected_application(client, officer, world):
    app, shipment = world.mine.application, world.mine.shipment
    approve(app, days_ago=10)
    client.force_login(officer)
    client.post(f"/applications/{app.pk}/correct/", {"action": "undo", "note": "x"})
    html = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert Shipment.objects.get(pk=shipment.pk).status == "awaiting_license"
    assert "Its application&#x27;s latest move was corrected." in html
