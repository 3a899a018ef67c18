"""A correction of an application never leaves its shipments in a state it no longer allows,
and an approval never ends before the day it is granted."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import ApplicationFactory
from ..helpers import NOW, accepted, approved, at, submitted
from ..shipments.test_shipments import general, new_shipment

pytestmark = pytest.mark.django_db


def approved_with(app, *references, day="2026-09-03"):
    """An application approved on `day` with a shipment for each reference, assigned before."""
    shipments = [new_shipment(app, reference=ref) for ref in references]
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    amounts = {}
    if app.license_type == "general":
        amounts = {"approved_quantity": app.quantity, "approved_value": app.value}
    approved(app, day, **amounts)
    for s in shipments:
        s.refresh_from_db()
    return shipments


def state(app):
    app.refresh_from_db()
    return (app.status, app.decided_at, app.license_number, app.last_moved_at, app.events.count())


def test_undoing_an_approval_with_a_shipped_shipment_is_refused_naming_it(officer):
    app = ApplicationFactory()
    [shipment] = approved_with(app, "S-SHIPPED")
    shipping.shipment_ship(shipment=shipment, at=at("2026-09-05"), now=NOW, actor=officer)
    shipping.shipment_deliver(shipment=shipment, at=at("2026-09-09"), now=NOW, actor=officer)
    before = state(app)

    with pytest.raises(IllegalMove) as exc:
        services.application_correct(
            application=app, undo=True, now=NOW, actor=officer, note="Not approved after all"
        )

    assert "S-SHIPPED" in exc.value.message
    assert state(app) == before
    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_the_refusal_names_every_shipment_that_left_and_only_those(officer):
    app = general()
    gone, _staying = approved_with(app, "S-GONE", "S-STAYS")
    shipping.shipment_ship(shipment=gone, at=at("2026-09-05"), now=NOW, actor=officer)
    with pytest.raises(IllegalMove) as exc:
        services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="x")
    assert "S-GONE" in exc.value.message and "S-STAYS" not in exc.value.message


def test_undoing_an_approval_with_only_cleared_shipments_moves_them_back_on_their_timelines(
    officer,
):
    app = general()
    shipments = approved_with(app, "S-1", "S-2")
    assert {s.status for s in shipments} == {"cleared"}

    services.application_correct(
        application=app, undo=True, now=NOW, actor=officer, note="Approval letter was a draft"
    )

    app.refresh_from_db()
    assert app.status == "accepted" and app.license_number == "" and app.decided_at is None
    correction = app.events.get(kind="correction")
    for shipment in shipments:
        shipment.refresh_from_db()
        assert shipment.status == "awaiting_license"
        last = shipment.events.filter(kind="status_changed").last()
        assert (last.from_status, last.to_status) == ("cleared", "awaiting_license")
        assert last.data["correction"] == correction.pk
        assert last.actor == officer and last.occurred_at == NOW


def test_a_held_or_cancelled_shipment_does_not_stop_undoing_the_approval(officer):
    app = general()
    held, cancelled = approved_with(app, "S-HELD", "S-CANCELLED")
    shipping.shipment_hold(shipment=held, at=at("2026-09-05"), now=NOW, actor=officer)
    shipping.shipment_cancel(shipment=cancelled, at=at("2026-09-05"), now=NOW, actor=officer)
    services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="x")
    app.refresh_from_db()
    assert app.status == "accepted"
    held.refresh_from_db()
    assert held.status == "on_hold"


def test_undoing_a_general_approval_is_refused_while_reservations_taken_since_count_on_it(
    officer,
):
    app = general()
    [before_approval] = approved_with(app, "S-EARLY")
    after_approval = new_shipment(app, reference="S-LATE")
    assert after_approval.status == "cleared"
    snapshot = state(app)

    with pytest.raises(IllegalMove) as exc:
        services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="x")

    assert "S-LATE" in exc.value.message and "S-EARLY" not in exc.value.message
    assert state(app) == snapshot
    # once that reservation is given back, the approval can be undone
    shipping.shipment_cancel(shipment=after_approval, at=at("2026-09-06"), now=NOW, actor=None)
    services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="x")
    app.refresh_from_db()
    assert app.status == "accepted"
    assert app.drawn_quantity == before_approval.quantity


def test_re_dating_an_approval_after_a_shipment_shipped_is_refused_naming_it(officer):
    app = ApplicationFactory()
    [shipment] = approved_with(app, "S-EARLY-SHIP", day="2026-09-03")
    shipping.shipment_ship(shipment=shipment, at=at("2026-09-05"), now=NOW, actor=officer)
    before = state(app)

    with pytest.raises(InvalidInput) as exc:
        services.application_correct(
            application=app, at=at("2026-09-06"), now=NOW, actor=officer, note="Letter date"
        )

    assert "at" in exc.value.fields and "S-EARLY-SHIP" in exc.value.fields["at"]
    assert "S-EARLY-SHIP" in exc.value.message
    assert state(app) == before


def test_re_dating_an_approval_still_before_the_shipping_is_accepted(officer):
    app = ApplicationFactory()
    [shipment] = approved_with(app, "S-1", day="2026-09-03")
    shipping.shipment_ship(shipment=shipment, at=at("2026-09-05"), now=NOW, actor=officer)
    services.application_correct(
        application=app, at=at("2026-09-04"), now=NOW, actor=officer, note="Letter date"
    )
    app.refresh_from_db()
    assert app.decided_at == at("2026-09-04")


def test_re_dating_an_approval_past_its_validity_names_at(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    approved(app, "2026-09-03", valid_until="2026-10-01")
    with pytest.raises(InvalidInput) as exc:
        services.application_correct(
            application=app, at=at("2026-10-02"), now=NOW, actor=officer, note="x"
        )
    assert set(exc.value.fields) == {"at"}
    assert LicenseApplication.objects.get(pk=app.pk).decided_at == at("2026-09-03")


def test_approving_with_a_validity_before_today_and_no_date_is_refused(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    with pytest.raises(InvalidInput) as exc:
        services.application_approve(
            application=app,
            now=NOW,
            actor=officer,
            license_number="LIC-1",
            valid_until=NOW.date() - dt.timedelta(days=1),
        )
    assert set(exc.value.fields) == {"valid_until"}
    app.refresh_from_db()
    assert app.status == "submitted" and app.license_number == ""


def test_approving_with_a_validity_ending_today_and_no_date_is_accepted(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    services.application_approve(
        application=app, now=NOW, actor=officer, license_number="LIC-1", valid_until=NOW.date()
    )
    assert app.status == "approved" and app.decided_at == NOW


def test_shipments_move_back_without_a_correction_mark_on_an_ordinary_move():
    app = ApplicationFactory()
    [shipment] = approved_with(app, "S-1")
    services.application_expire(application=app, now=NOW)
    last = Shipment.objects.get(pk=shipment.pk).events.filter(kind="status_changed").last()
    assert last.to_status == "planned" and "correction" not in last.data
