"""Flags and file-by deadlines are re-evaluated because a service says so, with the caller's
`now` — never because a row was saved. The one write path is the services (and the admin, API,
imports and commands that call them); a plain `Model.save()` re-evaluates nothing."""

from __future__ import annotations

import datetime as dt
import weakref

import pytest
import time_machine
from django.apps import apps
from django.db.models.signals import post_delete, post_save

from licenses import services
from licenses.authorities import authority_update, calendar_day_delete, calendar_day_save
from licenses.models import CalendarDay, EventKind, LicenseApplication
from licenses.rules import rule_create
from monitoring.models import Flag
from shipments import services as shipping
from shipments.models import FilingDeadline, Shipment

from ..admin.forms import post_change
from ..factories import ApplicationFactory, ShipmentFactory, authority, item
from ..helpers import NOW, accepted, at, local_due, submitted
from .builders import open_kinds, shipment

pytestmark = pytest.mark.django_db

PRODUCT_APPS = ("licenses", "shipments", "monitoring")
# Planned far ahead: under the default 45-day window its file-by deadline is in April 2027.
FAR_SHIP = "2027-06-15"


def product_models():
    return [m for label in PRODUCT_APPS for m in apps.get_app_config(label).get_models()]


def deadline(goods: Shipment) -> dt.date | None:
    return (
        FilingDeadline.objects.filter(shipment=goods).values_list("file_by_date", flat=True).first()
    )


def fresh(app: LicenseApplication) -> LicenseApplication:
    app.refresh_from_db()
    return app


@pytest.fixture
def pending():
    """Accepted on 4 November: its due date counts the authority's 45 working days."""
    return accepted(submitted(ApplicationFactory(), "2026-11-02"), "2026-11-04")


# --- no business rule hangs on post_save ------------------------------------------------------


def test_no_post_save_or_post_delete_receiver_is_connected_for_the_products_models():
    for model in product_models():
        for signal in (post_save, post_delete):
            sync_receivers, async_receivers = signal._live_receivers(model)
            ours = [
                r
                for r in [*sync_receivers, *async_receivers]
                if getattr(r, "__module__", "").split(".")[0] in (*PRODUCT_APPS, "core")
            ]
            assert ours == [], (model, signal)
    # nor for any sender at all
    for signal in (post_save, post_delete):
        for _key, ref, *_rest in signal.receivers:
            receiver = ref() if isinstance(ref, weakref.ReferenceType) else ref
            module = getattr(receiver, "__module__", "") or ""
            assert module.split(".")[0] not in (*PRODUCT_APPS, "core"), receiver


def test_a_plain_save_of_a_calendar_day_moves_no_due_date(pending):
    """Documents the one write path: only `calendar_day_save` recomputes."""
    before = fresh(pending).due_at
    CalendarDay.objects.create(authority=authority(), date=dt.date(2026, 11, 10), kind="holiday")
    assert fresh(pending).due_at == before
    calendar_day_save(
        now=NOW, actor=None, authority=authority(), date=dt.date(2026, 11, 11), kind="holiday"
    )
    assert fresh(pending).due_at > before  # now both holidays count


def test_a_plain_save_of_an_authority_moves_nothing(pending, ganzhou):
    goods = shipment(ganzhou, ship=FAR_SHIP)
    before_due, before_deadline = fresh(pending).due_at, deadline(goods)
    mofcom = authority()
    mofcom.window_days = 150
    mofcom.save()
    assert fresh(pending).due_at == before_due
    assert deadline(goods) == before_deadline
    assert "file_by" not in open_kinds(goods)


def test_a_plain_save_of_a_shipment_stores_no_deadline_and_raises_no_flag(ganzhou):
    goods = Shipment.objects.create(
        exporter=ganzhou,
        reference="SHP-PLAIN",
        item=item(),
        quantity=1,
        value=1,
        currency="USD",
        destination="DE",
        planned_ship_date=dt.date(2026, 12, 1),
        consignee=shipment(ganzhou, ship=FAR_SHIP).consignee,
    )
    assert deadline(goods) is None
    assert not Flag.objects.filter(shipment=goods).exists()


# --- services re-evaluate with the caller's now -----------------------------------------------


def test_an_authority_edit_moves_due_dates_file_by_deadlines_and_flags_at_the_given_now(
    pending, ganzhou
):
    goods = shipment(ganzhou, ship=FAR_SHIP)
    before_due, before_deadline = fresh(pending).due_at, deadline(goods)
    assert before_deadline is not None and "file_by" not in open_kinds(goods)

    authority_update(authority=authority(), now=NOW, actor=None, window_days=150)

    assert fresh(pending).due_at > before_due
    event = pending.events.filter(kind=EventKind.DUE_DATE_CHANGED).latest("id")
    assert event.recorded_at == NOW and event.data["window_days"] == 150
    new_deadline = deadline(goods)
    assert new_deadline is not None and new_deadline < NOW.date() < before_deadline
    flag = Flag.objects.get(shipment=goods, kind="file_by", cleared_at__isnull=True)
    assert flag.raised_at == NOW


def test_the_same_authority_edit_at_an_earlier_now_raises_no_flag_yet(pending, ganzhou):
    goods = shipment(ganzhou, ship=FAR_SHIP)
    earlier = at("2026-06-02")
    authority_update(authority=authority(), now=earlier, actor=None, window_days=150)
    assert deadline(goods) is not None and earlier.date() < deadline(goods)  # type: ignore[operator]
    assert "file_by" not in open_kinds(goods)


def test_a_calendar_day_added_and_removed_moves_due_dates_and_deadlines(pending, ganzhou):
    goods = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 15))
    before_due, before_deadline = local_due(fresh(pending)), deadline(goods)
    day = calendar_day_save(
        now=NOW, actor=None, authority=authority(), date=dt.date(2026, 11, 10), kind="holiday"
    )
    assert local_due(fresh(pending)) == before_due + dt.timedelta(days=1)  # type: ignore[operator]
    assert deadline(goods) == before_deadline - dt.timedelta(days=1)  # type: ignore[operator]
    calendar_day_delete(day=day, now=NOW, actor=None)
    assert local_due(fresh(pending)) == before_due
    assert deadline(goods) == before_deadline


def test_an_authority_edit_through_the_admin_moves_deadlines_and_flags_at_its_clock(
    client, administrator, pending, ganzhou
):
    goods = shipment(ganzhou, ship=FAR_SHIP)
    before_due = fresh(pending).due_at
    client.force_login(administrator)
    with time_machine.travel(NOW, tick=False):  # the admin reads the clock: pin it
        assert post_change(client, authority(), window_days="150").status_code == 302
    assert fresh(pending).due_at > before_due  # type: ignore[operator]
    assert deadline(goods) < NOW.date()  # type: ignore[operator]
    flag = Flag.objects.get(shipment=goods, kind="file_by", cleared_at__isnull=True)
    assert flag.raised_at == NOW


def test_a_calendar_day_through_the_admin_inline_moves_the_deadlines(
    client, administrator, pending, ganzhou
):
    goods = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 15))
    before_due, before_deadline = local_due(fresh(pending)), deadline(goods)
    client.force_login(administrator)
    with time_machine.travel(NOW, tick=False):
        response = post_change(
            client,
            authority(),
            **{
                "calendar_days-TOTAL_FORMS": "1",
                "calendar_days-0-date": "2026-11-10",
                "calendar_days-0-kind": "holiday",
                "calendar_days-0-name": "Closure",
                "calendar_days-0-authority": str(authority().pk),
            },
        )
    assert response.status_code == 302
    assert CalendarDay.objects.filter(authority=authority(), date="2026-11-10").exists()
    assert local_due(fresh(pending)) == before_due + dt.timedelta(days=1)  # type: ignore[operator]
    assert deadline(goods) == before_deadline - dt.timedelta(days=1)  # type: ignore[operator]


# --- bulk paths re-evaluate too ---------------------------------------------------------------


def test_due_dates_moved_by_a_rule_in_bulk_raise_flags_at_the_given_now(pending):
    """A rule's pass stores due dates and writes their events in bulk (`events.bulk`): the
    flags still follow, at the rule's `now`."""
    assert "overdue" not in open_kinds(pending)
    rule_create(authority=authority(), item=item(), window_days=5, actor=None, now=NOW)
    assert local_due(fresh(pending)) < NOW.date()  # type: ignore[operator]
    flag = Flag.objects.get(application=pending, kind="overdue", cleared_at__isnull=True)
    assert flag.raised_at == NOW


def test_shipments_that_follow_a_moved_application_in_bulk_get_their_flags(ganzhou):
    """`follow_application` moves shipments with one UPDATE and `bulk_create`s their events;
    the flags are evaluated after, explicitly, so they see the shipments' new state."""
    app = ApplicationFactory(exporter=ganzhou)
    goods = shipment(ganzhou, ship="2026-12-15", application=app)
    assert goods.file_by_date is not None and goods.file_by_date < NOW.date()
    shipping.shipment_hold(shipment=goods, now=NOW, actor=None)
    shipping.shipment_release(shipment=goods, now=NOW, actor=None)
    assert "file_by" in open_kinds(goods)  # planned, past its file-by date, nothing filed
    submitted(app, "2026-11-28")
    goods.refresh_from_db()
    assert goods.status == "awaiting_license"
    assert "file_by" not in open_kinds(goods)


def test_a_drafts_license_type_edited_through_the_service_moves_its_shipments_deadlines(ganzhou):
    rule_create(authority=authority(), license_type="general", window_days=30, actor=None, now=NOW)
    draft = ApplicationFactory(exporter=ganzhou)  # individual: 45 days
    goods = shipment(ganzhou, ship="2026-12-15", application=draft)
    before = deadline(goods)
    draft.license_type = "general"
    draft.save()
    assert deadline(goods) == before  # a plain save: nothing follows
    draft.license_type = "individual"
    draft.save()
    services.application_update(application=draft, now=NOW, actor=None, license_type="general")
    assert deadline(goods) > before  # type: ignore[operator]
