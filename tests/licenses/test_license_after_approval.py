"""The license after approval (Art. 18): suspended and reinstated, revoked, surrendered, amended;
what its shipments do, the amendment window, and corrections of each move."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event, LicenseApplication, Status
from monitoring import scan
from monitoring.models import Flag
from shipments import services as shipping

from ..factories import ApplicationFactory, ConsigneeFactory, item
from ..helpers import NOW, SHANGHAI, accepted, approved, at, local_due, submitted
from .test_moves import LEGAL, put_in
from .test_moves import make as make_move

pytestmark = pytest.mark.django_db


def general(quantity="1000", value="10000", exporter=None):
    kwargs = {"exporter": exporter} if exporter else {}
    return ApplicationFactory(
        license_type="general", quantity=Decimal(quantity), value=Decimal(value), **kwargs
    )


def approved_general(quantity="1000", value="10000", exporter=None):
    app = general(quantity, value, exporter)
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-02")
    approved(app, "2026-09-03", approved_quantity=Decimal(quantity), approved_value=Decimal(value))
    return app


def new_shipment(app, reference="S-1", quantity="100", value="1000"):
    return shipping.shipment_create(
        now=NOW,
        actor=None,
        exporter=app.exporter,
        reference=reference,
        item=item(),
        quantity=Decimal(quantity),
        value=Decimal(value),
        currency=app.currency,
        destination=app.destination,
        planned_ship_date=dt.date(2026, 12, 20),
        consignee=ConsigneeFactory(exporter=app.exporter),
        application=app,
    )


def move(app, name, day, **kwargs):
    """A move on a day (10:00 in Beijing), or at `NOW` (after an exhaustion, which is dated at
    the moment shipments drew the license down)."""
    return getattr(services, f"application_{name}")(
        application=app, at=NOW if day == "now" else at(day), now=NOW, actor=None, **kwargs
    )


def fresh(obj):
    obj.refresh_from_db()
    return obj


# --- suspend and reinstate ----------------------------------------------------------------------


def test_a_suspended_license_holds_its_shipments_and_reinstatement_clears_them():
    app = approved_general()
    shipment = new_shipment(app)
    assert shipment.status == "cleared"
    move(app, "suspend", "2026-10-01", note="Under investigation")
    assert fresh(app).status == "suspended"
    assert fresh(shipment).status == "awaiting_license"
    with pytest.raises(IllegalMove):
        shipping.shipment_ship(shipment=shipment, at=at("2026-10-02"), now=NOW, actor=None)
    assert fresh(shipment).status == "awaiting_license"
    move(app, "reinstate", "2026-10-05")
    assert fresh(app).status == "approved"
    assert fresh(shipment).status == "cleared"
    shipping.shipment_ship(shipment=shipment, at=at("2026-10-06"), now=NOW, actor=None)
    assert fresh(shipment).status == "shipped"


def test_a_fully_drawn_license_is_reinstated_exhausted():
    app = approved_general()
    new_shipment(app, quantity="1000", value="5000")
    assert fresh(app).status == "exhausted"
    move(app, "suspend", "now")
    assert fresh(app).status == "suspended"
    move(app, "reinstate", "now")
    assert fresh(app).status == "exhausted"
    event = Event.objects.filter(
        application=app, shipment__isnull=True, kind="status_changed"
    ).last()
    assert (event.from_status, event.to_status, event.data["move"]) == (
        "suspended",
        "exhausted",
        "reinstate",
    )


def test_a_suspended_license_takes_no_shipment_beyond_what_is_left():
    app = approved_general()
    new_shipment(app, "S-1", quantity="700", value="7000")
    move(app, "suspend", "2026-10-01")
    with pytest.raises(InvalidInput) as exc:
        new_shipment(app, "S-2", quantity="400", value="1000")
    assert "quantity" in exc.value.fields
    assert fresh(app).drawn_quantity == Decimal("700")


# --- revoke and surrender -----------------------------------------------------------------------


@pytest.mark.parametrize("name,status", [("revoke", "revoked"), ("surrender", "surrendered")])
def test_revoking_or_surrendering_releases_reservations_and_plans_the_shipments(name, status):
    app = approved_general()
    first = new_shipment(app, "S-1", quantity="300", value="3000")
    second = new_shipment(app, "S-2", quantity="200", value="2000")
    gone = new_shipment(app, "S-3", quantity="100", value="1000")
    shipping.shipment_ship(shipment=gone, at=at("2026-09-20"), now=NOW, actor=None)
    cancelled = new_shipment(app, "S-4", quantity="50", value="500")
    shipping.shipment_cancel(shipment=cancelled, at=at("2026-09-20"), now=NOW, actor=None)
    assert fresh(app).drawn_quantity == Decimal("600")
    move(app, name, "2026-10-01", note="Gone")
    app = fresh(app)
    assert app.status == status
    # What the shipped one reserved stays counted; the two unshipped ones gave theirs back.
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("100"), Decimal("1000"))
    assert fresh(first).status == fresh(second).status == "planned"
    assert first.application_id == app.pk  # still linked, to be reassigned
    assert fresh(gone).status == "shipped" and fresh(cancelled).status == "cancelled"
    released = Event.objects.filter(application=app, kind="drawdown_released")
    assert set(
        released.filter(id__gt=app.events.filter(data__move=name).get().pk).values_list(
            "shipment__reference", flat=True
        )
    ) == {"S-1", "S-2"}
    # Final: no move leaves it, and nothing can be assigned to it.
    assert services.legal_moves(app) == []
    with pytest.raises(InvalidInput):
        new_shipment(app, "S-5")
    # Cancelling a released shipment gives nothing back twice.
    shipping.shipment_cancel(shipment=first, at=at("2026-10-02"), now=NOW, actor=None)
    assert fresh(app).drawn_quantity == Decimal("100")


def test_a_shipment_of_a_revoked_license_is_reassigned_without_a_second_release():
    app = approved_general()
    other = general(exporter=app.exporter)
    shipment = new_shipment(app, quantity="300", value="3000")
    move(app, "revoke", "2026-10-01")
    shipping.shipment_update(shipment=fresh(shipment), now=NOW, actor=None, application=other)
    assert fresh(app).drawn_quantity == 0
    assert fresh(other).drawn_quantity == Decimal("300")


def test_an_on_hold_shipment_is_released_too_and_takes_planned_when_released_from_hold():
    app = approved_general()
    shipment = new_shipment(app, quantity="300", value="3000")
    shipping.shipment_hold(shipment=shipment, at=at("2026-09-20"), now=NOW, actor=None)
    move(app, "surrender", "2026-10-01")
    assert fresh(app).drawn_quantity == 0
    assert fresh(shipment).status == "on_hold"
    shipping.shipment_release(shipment=shipment, at=at("2026-10-02"), now=NOW, actor=None)
    assert fresh(shipment).status == "planned"


def test_revoking_an_individual_license_plans_its_shipment():
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    approved(app, "2026-09-03")
    shipment = new_shipment(app)
    move(app, "revoke", "2026-10-01")
    assert fresh(shipment).status == "planned"
    assert fresh(app).drawn_quantity == 0


# --- amendments ---------------------------------------------------------------------------------


def test_an_amendment_keeps_the_license_usable_and_runs_the_authoritys_window():
    app = approved_general()
    shipment = new_shipment(app)
    move(
        app,
        "amend",
        "2026-10-09",
        quantity=Decimal("2000"),
        valid_until=dt.date(2028, 6, 30),
        note="More orders",
    )
    app = fresh(app)
    assert app.status == "amendment_requested"
    assert app.amendment_quantity == Decimal("2000") and app.amendment_value is None
    assert app.amendment_valid_until == dt.date(2028, 6, 30)
    assert app.amendment_requested_at == at("2026-10-09")
    assert fresh(shipment).status == "cleared"
    # MOFCOM: 20 working days from Friday 9 October 2026 (day 0; Saturday 10 October is a
    # make-up working day in China).
    assert app.window_days == 20 and app.window_source == "amendment"
    assert local_due(app) == dt.date(2026, 11, 5)
    shipping.shipment_ship(shipment=shipment, at=at("2026-10-12"), now=NOW, actor=None)
    assert fresh(shipment).status == "shipped"


def test_the_amendment_window_is_the_review_window_when_the_authority_has_none():
    app = approved_general()
    app.authority.amendment_window_days = None
    app.authority.save()
    move(app, "amend", "2026-10-09", value=Decimal("20000"), note="More")
    app = fresh(app)
    assert app.window_days == app.authority.window_days


def test_an_amendment_overdue_after_its_window_is_flagged_and_never_at_risk():
    app = approved_general()
    shipment = new_shipment(app)
    services.application_amend(
        application=app,
        at=at("2026-10-09"),
        now=at("2026-10-09", 12),
        actor=None,
        quantity=Decimal("2000"),
        note="More orders",
    )
    due = fresh(app).due_at
    assert due == dt.datetime(2026, 11, 6, tzinfo=SHANGHAI)  # MOFCOM: 20 working days
    open_flags = Flag.objects.filter(application=app, cleared_at__isnull=True)
    scan.scan(now=due - dt.timedelta(minutes=1))
    assert set(open_flags.values_list("kind", flat=True)) == {"due_soon"}
    scan.scan(now=due + dt.timedelta(minutes=1))
    assert set(open_flags.values_list("kind", flat=True)) == {"overdue"}
    assert not Flag.objects.filter(shipment=shipment, kind="at_risk").exists()
    # Deciding it clears the flag.
    services.application_refuse_amendment(
        application=app, at=at("2026-11-20"), now=at("2026-11-20", 12), actor=None
    )
    assert not open_flags.exists()


def test_approving_the_amendment_applies_its_values():
    app = approved_general()
    new_shipment(app, quantity="600", value="6000")
    move(
        app,
        "amend",
        "2026-10-09",
        quantity=Decimal("2000"),
        value=Decimal("30000"),
        valid_until=dt.date(2028, 6, 30),
        note="More",
    )
    move(app, "approve_amendment", "2026-10-20")
    app = fresh(app)
    assert app.status == "approved"
    assert (app.approved_quantity, app.approved_value, app.valid_until) == (
        Decimal("2000"),
        Decimal("30000"),
        dt.date(2028, 6, 30),
    )
    assert app.amendment_quantity is None and app.amendment_requested_at is None
    assert app.due_at is None


def test_an_amendment_below_what_shipments_reserve_is_refused_naming_the_field():
    app = approved_general()
    new_shipment(app, quantity="600", value="6000")
    move(app, "amend", "2026-10-09", quantity=Decimal("500"), note="Less")
    with pytest.raises(InvalidInput) as exc:
        move(app, "approve_amendment", "2026-10-20")
    assert set(exc.value.fields) == {"quantity"}
    assert fresh(app).status == "amendment_requested"


def test_an_approved_amendment_down_to_what_is_drawn_exhausts_the_license():
    app = approved_general()
    new_shipment(app, quantity="600", value="6000")
    move(app, "amend", "now", quantity=Decimal("600"), note="Less")
    move(app, "approve_amendment", "now")
    assert fresh(app).status == "exhausted"


def test_refusing_the_amendment_leaves_the_license_as_it_was():
    app = approved_general()
    before = (app.approved_quantity, app.approved_value, app.valid_until)
    move(app, "amend", "2026-10-09", quantity=Decimal("2000"), note="More")
    move(app, "refuse_amendment", "2026-10-20", note="No")
    app = fresh(app)
    assert app.status == "approved"
    assert (app.approved_quantity, app.approved_value, app.valid_until) == before
    assert app.amendment_quantity is None


def test_refusing_the_amendment_of_a_fully_drawn_license_leaves_it_exhausted():
    app = approved_general()
    new_shipment(app, quantity="1000", value="5000")
    app = fresh(app)
    move(app, "amend", "now", quantity=Decimal("2000"), note="More")
    move(app, "refuse_amendment", "now")
    assert fresh(app).status == "exhausted"


@pytest.mark.parametrize("field", ["item", "items", "destination", "consignee"])
def test_an_amendment_of_item_destination_or_consignee_needs_a_new_application(field):
    app = approved_general()
    with pytest.raises(InvalidInput) as exc:
        move(app, "amend", "2026-10-09", note="x", **{field: "anything"})
    assert "new application" in exc.value.message
    assert field in exc.value.fields
    assert fresh(app).status == "approved"


def test_an_amendment_needs_a_new_value_and_a_note():
    app = approved_general()
    with pytest.raises(InvalidInput) as exc:
        move(app, "amend", "2026-10-09", note="x")
    assert {"quantity", "value", "valid_until"} <= set(exc.value.fields)
    with pytest.raises(InvalidInput) as exc:
        move(app, "amend", "2026-10-09", quantity=Decimal("5"))
    assert "note" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        move(app, "amend", "2026-10-09", valid_until=dt.date(2026, 10, 8), note="x")
    assert "valid_until" in exc.value.fields


def test_the_amended_validity_cannot_end_before_the_approval_of_the_amendment():
    app = approved_general()
    move(app, "amend", "2026-10-09", valid_until=dt.date(2026, 10, 15), note="Shorter")
    with pytest.raises(InvalidInput) as exc:
        move(app, "approve_amendment", "2026-10-20")
    assert "valid_until" in exc.value.fields


# --- expiry -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,kwargs", [("suspend", {}), ("amend", {"value": Decimal("1")})])
def test_a_suspended_or_amended_license_still_expires_with_its_validity(name, kwargs):
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    approved(app, "2026-09-03", valid_until="2026-10-31")
    move(app, name, "2026-10-09", note="x", **kwargs)
    expired = scan.expire_licenses(now=at("2026-11-02"))
    assert app.pk in expired
    app = fresh(app)
    assert app.status == "expired" and app.amendment_value is None


# --- corrections --------------------------------------------------------------------------------


def correct(app, *, undo=False, when=None):
    return services.application_correct(
        application=app, now=NOW, actor=None, note="Wrong", undo=undo, at=when
    )


def test_undoing_a_suspension_clears_the_shipments_again():
    app = approved_general()
    shipment = new_shipment(app)
    move(app, "suspend", "2026-10-01")
    correct(app, undo=True)
    assert fresh(app).status == "approved"
    assert fresh(shipment).status == "cleared"


def test_undoing_a_reinstatement_suspends_again_unless_a_shipment_left_since():
    app = approved_general()
    shipment = new_shipment(app)
    move(app, "suspend", "2026-10-01")
    move(app, "reinstate", "2026-10-05")
    shipping.shipment_ship(shipment=shipment, at=at("2026-10-06"), now=NOW, actor=None)
    with pytest.raises(IllegalMove) as exc:
        correct(app, undo=True)
    assert "S-1" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        correct(app, when=at("2026-10-07"))
    assert "at" in exc.value.fields
    correct(app, when=at("2026-10-04"))
    assert fresh(app).last_moved_at == at("2026-10-04")


def test_a_suspension_cannot_be_redated_before_a_shipment_left():
    app = approved_general()
    shipment = new_shipment(app)
    shipping.shipment_ship(shipment=shipment, at=at("2026-09-20"), now=NOW, actor=None)
    move(app, "suspend", "2026-10-01")
    with pytest.raises(InvalidInput) as exc:
        correct(app, when=at("2026-09-10"))
    assert "at" in exc.value.fields
    correct(app, when=at("2026-09-25"))
    assert fresh(app).last_moved_at == at("2026-09-25")


@pytest.mark.parametrize("name", ["revoke", "surrender"])
def test_undoing_a_revocation_takes_the_reservations_again(name):
    app = approved_general()
    shipment = new_shipment(app, quantity="300", value="3000")
    move(app, name, "2026-10-01")
    assert fresh(app).drawn_quantity == 0
    correct(app, undo=True)
    app = fresh(app)
    assert app.status == "approved"
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("300"), Decimal("3000"))
    assert fresh(shipment).status == "cleared"
    assert Event.objects.filter(application=app, shipment=shipment, kind="drawdown").count() == 2


def test_undoing_a_revocation_of_an_exhausted_license_exhausts_it_again():
    app = approved_general()
    new_shipment(app, quantity="1000", value="5000")
    app = fresh(app)
    move(app, "revoke", "now")
    correct(app, undo=True)
    app = fresh(app)
    assert app.status == "exhausted" and app.drawn_quantity == Decimal("1000")


def test_a_revocation_cannot_be_undone_once_a_shipment_was_reassigned():
    app = approved_general()
    other = general(exporter=app.exporter)
    shipment = new_shipment(app, quantity="300", value="3000")
    move(app, "revoke", "2026-10-01")
    shipping.shipment_update(shipment=fresh(shipment), now=NOW, actor=None, application=other)
    with pytest.raises(IllegalMove) as exc:
        correct(app, undo=True)
    assert "S-1" in exc.value.message and "another application" in exc.value.message
    assert fresh(app).status == "revoked" and fresh(app).drawn_quantity == 0


def test_a_cancelled_shipment_does_not_reserve_again_when_a_revocation_is_undone():
    app = approved_general()
    shipment = new_shipment(app, quantity="300", value="3000")
    move(app, "revoke", "2026-10-01")
    shipping.shipment_cancel(shipment=fresh(shipment), at=at("2026-10-02"), now=NOW, actor=None)
    # The cancellation is the shipment's latest move; the application's latest is the revoke.
    correct(app, undo=True)
    assert fresh(app).drawn_quantity == 0


def test_undoing_and_redating_an_amendment_request():
    app = approved_general()
    move(app, "amend", "2026-10-09", quantity=Decimal("2000"), note="More")
    correct(app, when=at("2026-10-12"))
    app = fresh(app)
    assert app.amendment_requested_at == at("2026-10-12")
    assert local_due(app) == dt.date(2026, 11, 9)
    correct(app, undo=True)
    app = fresh(app)
    assert app.status == "approved" and app.amendment_quantity is None
    assert app.due_at is None


def test_undoing_an_approved_amendment_restores_the_license_and_the_request():
    app = approved_general()
    move(
        app,
        "amend",
        "2026-10-09",
        quantity=Decimal("2000"),
        valid_until=dt.date(2028, 6, 30),
        note="More",
    )
    move(app, "approve_amendment", "2026-10-20")
    correct(app, undo=True)
    app = fresh(app)
    assert app.status == "amendment_requested"
    assert app.approved_quantity == Decimal("1000") and app.valid_until == dt.date(2027, 12, 31)
    assert app.amendment_quantity == Decimal("2000")
    assert app.amendment_requested_at == at("2026-10-09")
    assert local_due(app) == dt.date(2026, 11, 5)


def test_undoing_a_refused_amendment_puts_the_request_back():
    app = approved_general()
    move(app, "amend", "2026-10-09", value=Decimal("20000"), note="More")
    move(app, "refuse_amendment", "2026-10-20")
    correct(app, undo=True)
    app = fresh(app)
    assert app.status == "amendment_requested" and app.amendment_value == Decimal("20000")


def test_redating_an_approved_amendment_after_its_new_validity_is_refused():
    app = approved_general()
    move(app, "amend", "2026-10-09", valid_until=dt.date(2026, 10, 25), note="Shorter")
    move(app, "approve_amendment", "2026-10-20")
    with pytest.raises(InvalidInput) as exc:
        correct(app, when=at("2026-10-26"))
    assert "at" in exc.value.fields


def test_each_new_move_is_recorded_with_its_event():
    app = approved_general()
    move(app, "suspend", "2026-10-01", note="Investigation")
    move(app, "reinstate", "2026-10-02")
    move(app, "amend", "2026-10-03", value=Decimal("20000"), note="More")
    move(app, "refuse_amendment", "2026-10-04")
    move(app, "surrender", "2026-10-05")
    moves = list(
        Event.objects.filter(application=app, kind="status_changed", shipment__isnull=True)
        .order_by("id")
        .values_list("data__move", flat=True)
    )
    assert moves[-5:] == ["suspend", "reinstate", "amend", "refuse_amendment", "surrender"]
    assert LicenseApplication.objects.get(pk=app.pk).status == "surrendered"


def test_undoing_a_suspension_of_an_exhausted_license_follows_what_is_drawn_now():
    app = approved_general()
    shipment = new_shipment(app, quantity="1000", value="5000")
    app = fresh(app)
    assert app.status == "exhausted"
    move(app, "suspend", "now")
    shipping.shipment_cancel(shipment=fresh(shipment), at=NOW, now=NOW, actor=None)
    assert fresh(app).status == "suspended" and fresh(app).drawn_quantity == 0
    correct(fresh(app), undo=True)
    app = fresh(app)
    assert app.status == "approved"
    undo = Event.objects.filter(application=app, kind="correction").last()
    assert (undo.from_status, undo.to_status) == ("suspended", "approved")


# --- the move table, from every state these moves concern ------------------------------------

AFTER_APPROVAL = (
    "suspend",
    "reinstate",
    "revoke",
    "surrender",
    "amend",
    "approve_amendment",
    "refuse_amendment",
)
NEW_MOVES = {name: LEGAL[name] for name in AFTER_APPROVAL}
# `referred` and `returned` are reached by moves of their own (refer/, return/), not built here.
REACHABLE = sorted(set(Status.values) - {"referred", "returned"})


@pytest.mark.parametrize("name", NEW_MOVES)
def test_each_new_move_is_legal_exactly_from_its_states(name):
    for status in REACHABLE:
        app = put_in(status)
        before = LicenseApplication.objects.get(pk=app.pk)
        count = Event.objects.filter(application=app).count()
        if status in NEW_MOVES[name]:
            make_move(app, name, at("2026-10-01"))
            assert fresh(app).status != status
        else:
            with pytest.raises(IllegalMove):
                make_move(app, name, at("2026-10-01"))
            after = LicenseApplication.objects.get(pk=app.pk)
            assert (after.status, after.last_moved_at) == (before.status, before.last_moved_at)
            assert Event.objects.filter(application=app).count() == count
