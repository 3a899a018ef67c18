"""A new shipment is planned for today or later, "today" being the date at `now` where its
item's authority is; an edit checks a changed date the same way and never an unchanged one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from licenses.models import ControlledItem
from shipments import services as shipping

from ..factories import ConsigneeFactory, ExporterFactory, authority, item

pytestmark = pytest.mark.django_db

# 17:00 in London on 4 December is already 01:00 on 5 December in Beijing.
EVENING_IN_LONDON = dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC)


def ecju_item() -> ControlledItem:
    return ControlledItem.objects.create(
        authority=authority("ECJU"), code="6A003", description="Cameras", unit="pcs"
    )


def create(day: dt.date, *, goods: ControlledItem | None = None, now=EVENING_IN_LONDON):
    exporter = ExporterFactory()
    return shipping.shipment_create(
        now=now,
        actor=None,
        exporter=exporter,
        reference="S-1",
        item=goods or item("1C902"),
        quantity=Decimal("10"),
        value=Decimal("1000"),
        currency="USD",
        destination="DE",
        consignee=ConsigneeFactory(exporter=exporter),
        planned_ship_date=day,
    )


def test_a_day_past_in_beijing_is_refused_for_a_mofcom_item():
    with pytest.raises(InvalidInput) as refused:
        create(dt.date(2026, 12, 4))
    assert refused.value.fields == {
        "planned_ship_date": (
            "4 December 2026 is in the past: plan the shipment for today (5 December 2026) "
            "or later."
        )
    }


def test_today_in_beijing_is_accepted():
    assert create(dt.date(2026, 12, 5)).planned_ship_date == dt.date(2026, 12, 5)


def test_the_same_day_is_still_today_in_london_for_an_ecju_item():
    shipment = create(dt.date(2026, 12, 4), goods=ecju_item())
    assert shipment.planned_ship_date == dt.date(2026, 12, 4)


def test_an_edit_that_moves_the_date_into_the_past_is_refused_and_an_unchanged_one_is_not():
    shipment = create(dt.date(2026, 12, 10))
    later = dt.datetime(2026, 12, 20, 2, 0, tzinfo=dt.UTC)
    shipping.shipment_update(shipment=shipment, now=later, actor=None, quantity=Decimal("9"))
    shipment.refresh_from_db()
    assert shipment.quantity == Decimal("9")
    with pytest.raises(InvalidInput) as refused:
        shipping.shipment_update(
            shipment=shipment, now=later, actor=None, planned_ship_date=dt.date(2026, 12, 11)
        )
    assert set(refused.value.fields) == {"planned_ship_date"}
