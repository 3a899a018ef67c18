"""Corrections of a shipment's latest officer move: re-dated or undone, with a note, recorded
as a correction event pointing at the move it corrects."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput
from licenses import services
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import ApplicationFactory
from ..helpers import NOW, accepted, approved, at, submitted
from ..shipments.test_shipments import general, new_shipment

pytestmark = pytest.mark.django_db


def cleared_shipment(app=None, reference="S-1"):
    app = app or ApplicationFactory()
    shipment = new_shipment(app, reference=reference)
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    amounts = {}
    if app.license_type == "general":
        amounts = {"approved_quantity": app.quantity, "approved_value": app.value}
    approved(app, "2026-09-03", **amounts)
    shipment.refresh_from_db()
    return shipment


def move(shipment, name, day, actor=None):
    return getattr(shipping, f"shipment_{name}")(
        shipment=shipment, at=at(day), now=NOW, actor=actor
    )


def snapshot(shipment):
    s = Shipment.objects.get(pk=shipment.pk)
    return (s.status, s.last_moved_at, s.shipped_at, s.delivered_at, s.events.count())


# (the moves before, the move corrected, the state it leaves, the state an undo restores)
CASES = {
    "ship": ([], "ship", "shipped", "cleared"),
    "deliver": (["ship"], "deliver", "delivered", "shipped"),
    "hold": ([], "hold", "on_hold", "cleared"),
    "release": (["hold"], "release", "cleared", "on_hold"),
    "cancel": ([], "cancel", "cancelled", "cleared"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_undoing_the_latest_move_puts_back_the_previous_state(officer, name):
    before, corrected, after, restored = CASES[name]
    shipment = cleared_shipment()
    for i, earlier in enumerate(before):
        move(shipment, earlier, f"2026-09-0{4 + i}")
    previous_moment = shipment.last_moved_at
    move(shipment, corrected, "2026-09-08")
    assert shipment.status == after

    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="Wrong")

    assert shipment.status == restored
    assert shipment.last_moved_at == previous_moment
    if name == "ship":
        assert shipment.shipped_at is None
    if name == "deliver":
        assert shipment.delivered_at is None and shipment.shipped_at == at("2026-09-04")
    correction = shipment.events.get(kind="correction")
    moved = shipment.events.filter(kind="status_changed", data__move=corrected).last()
    assert correction.corrects == moved
    assert correction.data == {
        "action": "undo",
        "move": corrected,
        "undone_at": moved.occurred_at.isoformat(),
    }
    assert (correction.from_status, correction.to_status) == (after, restored)
    assert correction.note == "Wrong" and correction.actor == officer


@pytest.mark.parametrize("name", list(CASES))
def test_re_dating_the_latest_move_keeps_the_state_and_moves_its_moment(officer, name):
    before, corrected, after, _restored = CASES[name]
    shipment = cleared_shipment()
    for i, earlier in enumerate(before):
        move(shipment, earlier, f"2026-09-0{4 + i}")
    move(shipment, corrected, "2026-09-08")

    shipping.shipment_correct(
        shipment=shipment, at=at("2026-09-07"), now=NOW, actor=officer, note="Bill of lading"
    )

    assert shipment.status == after and shipment.last_moved_at == at("2026-09-07")
    if name == "ship":
        assert shipment.shipped_at == at("2026-09-07")
    if name == "deliver":
        assert shipment.delivered_at == at("2026-09-07")
    correction = shipment.events.get(kind="correction")
    assert correction.data["action"] == "redate" and correction.data["move"] == corrected
    assert correction.data["to"] == at("2026-09-07").isoformat()
    assert correction.corrects.data["move"] == corrected


def test_undoing_twice_walks_back_two_moves(officer):
    shipment = cleared_shipment()
    move(shipment, "ship", "2026-09-04")
    move(shipment, "deliver", "2026-09-08")
    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="a")
    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="b")
    assert shipment.status == "cleared" and shipment.last_moved_at is None
    with pytest.raises(IllegalMove):
        shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="c")


def test_a_shipment_with_no_officer_move_has_nothing_to_correct(officer):
    shipment = cleared_shipment()  # it followed its application, nothing more
    before = snapshot(shipment)
    with pytest.raises(IllegalMove) as exc:
        shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="x")
    assert exc.value.message == "The shipment has no move to correct."
    assert snapshot(shipment) == before


def test_a_re_date_cannot_be_in_the_future(officer):
    shipment = cleared_shipment()
    move(shipment, "ship", "2026-09-04")
    before = snapshot(shipment)
    with pytest.raises(InvalidInput) as exc:
        shipping.shipment_correct(
            shipment=shipment, at=NOW + dt.timedelta(hours=1), now=NOW, actor=officer, note="x"
        )
    assert set(exc.value.fields) == {"at"}
    assert snapshot(shipment) == before


def test_a_re_date_cannot_go_before_the_previous_move(officer):
    shipment = cleared_shipment()
    move(shipment, "ship", "2026-09-04")
    move(shipment, "deliver", "2026-09-08")
    before = snapshot(shipment)
    with pytest.raises(InvalidInput) as exc:
        shipping.shipment_correct(
            shipment=shipment, at=at("2026-09-03"), now=NOW, actor=officer, note="x"
        )
    assert set(exc.value.fields) == {"at"}
    assert snapshot(shipment) == before


@pytest.mark.parametrize(
    "kwargs,field",
    [({"undo": True, "note": " "}, "note"), ({"note": "why"}, "at")],
)
def test_a_correction_without_what_it_needs_names_the_field(officer, kwargs, field):
    shipment = cleared_shipment()
    move(shipment, "ship", "2026-09-04")
    with pytest.raises(InvalidInput) as exc:
        shipping.shipment_correct(shipment=shipment, now=NOW, actor=officer, **kwargs)
    assert field in exc.value.fields


def test_undoing_a_cancellation_reserves_on_the_general_license_again(officer):
    app = general()
    shipment = cleared_shipment(app)
    move(shipment, "cancel", "2026-09-05")
    app.refresh_from_db()
    assert app.drawn_quantity == 0
    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="x")
    app.refresh_from_db()
    assert shipment.status == "cleared"
    assert (app.drawn_quantity, app.drawn_value) == (shipment.quantity, shipment.value)
    assert shipment.events.filter(kind="drawdown").count() == 2


def test_undoing_a_cancellation_is_refused_when_the_license_can_no_longer_cover_it(officer):
    app = general(quantity="150", value="1500")
    first = cleared_shipment(app)  # 100 of 150
    move(first, "cancel", "2026-09-05")
    new_shipment(app, reference="S-2")  # takes 100 of 150 meanwhile
    app.refresh_from_db()
    before = snapshot(first), (app.drawn_quantity, app.status)

    with pytest.raises(IllegalMove) as exc:
        shipping.shipment_correct(shipment=first, undo=True, now=NOW, actor=officer, note="x")

    assert "left on the license" in exc.value.message
    app.refresh_from_db()
    assert (snapshot(first), (app.drawn_quantity, app.status)) == before


def test_undoing_a_cancellation_on_an_individual_license_now_covering_another_is_refused(
    officer,
):
    app = ApplicationFactory()
    first = cleared_shipment(app)
    move(first, "cancel", "2026-09-05")
    new_shipment(app, reference="S-2")
    with pytest.raises(IllegalMove) as exc:
        shipping.shipment_correct(shipment=first, undo=True, now=NOW, actor=officer, note="x")
    assert "S-2" in exc.value.message
    assert Shipment.objects.get(pk=first.pk).status == "cancelled"


def test_undoing_a_hold_gives_the_state_the_application_gives_now(officer):
    app = ApplicationFactory()
    shipment = cleared_shipment(app)
    move(shipment, "hold", "2026-09-05")
    services.application_expire(application=app, now=NOW)
    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="x")
    assert shipment.status == "planned"


def test_a_move_no_longer_the_shipments_state_cannot_be_corrected(officer):
    app = ApplicationFactory()
    shipment = cleared_shipment(app)
    move(shipment, "hold", "2026-09-04")
    move(shipment, "release", "2026-09-05")
    services.application_expire(application=app, now=NOW)  # cleared -> planned: not the release
    with pytest.raises(IllegalMove):
        shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="x")


def test_a_correction_on_a_stale_copy_loses_the_race(officer):
    shipment = cleared_shipment()
    move(shipment, "ship", "2026-09-04")
    stale = Shipment.objects.get(pk=shipment.pk)
    move(shipment, "deliver", "2026-09-05")
    with pytest.raises(ConcurrentUpdate):
        shipping.shipment_correct(shipment=stale, undo=True, now=NOW, actor=officer, note="x")
    assert Shipment.objects.get(pk=shipment.pk).status == "delivered"


def test_a_shipment_cannot_ship_before_its_license_was_approved():
    shipment = cleared_shipment()  # approved on 3 September, 10:00
    with pytest.raises(InvalidInput) as exc:
        move(shipment, "ship", "2026-09-02")
    assert set(exc.value.fields) == {"at"}
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"


def test_a_shipping_cannot_be_re_dated_before_the_approval(officer):
    shipment = cleared_shipment()  # approved on 3 September, 10:00
    move(shipment, "ship", "2026-09-05")
    before = snapshot(shipment)
    with pytest.raises(InvalidInput) as exc:
        shipping.shipment_correct(
            shipment=shipment, at=at("2026-09-03", 9), now=NOW, actor=officer, note="x"
        )
    assert set(exc.value.fields) == {"at"}
    assert snapshot(shipment) == before


def test_flags_follow_an_undone_cancellation(officer):
    shipment = new_shipment(ApplicationFactory())  # a draft application: file it by now
    assert shipment.flags.filter(kind="file_by", cleared_at__isnull=True).exists()
    move(shipment, "cancel", "2026-09-05")
    assert not shipment.flags.filter(kind="file_by", cleared_at__isnull=True).exists()
    shipping.shipment_correct(shipment=shipment, undo=True, now=NOW, actor=officer, note="x")
    assert shipment.status == "planned"
    assert shipment.flags.filter(kind="file_by", cleared_at__isnull=True).exists()
