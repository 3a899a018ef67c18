"""`license_expires`: before shipping, the shipment's license ends before its planned ship date.
Raised as soon as a move or an edit makes it so (time alone never changes it), e-mailed like
`at_risk`, cleared when the ship date or the license's validity moves, or the shipment ships."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring import scan
from monitoring.models import Alert, Flag
from shipments import services as shipping

from .builders import accept, approve, mofcom_application, moment, open_kinds, shipment, submit

pytestmark = pytest.mark.django_db


def licensed(exporter, *, valid_until: str):
    app = mofcom_application(exporter, submitted="2026-09-01", accepted="2026-09-03")
    approve(app, "2026-10-15", valid_until=valid_until)
    app.refresh_from_db()
    return app


def test_a_shipment_after_its_license_ends_is_flagged_at_once_and_alerted(exporter):
    late, early, on_the_day = (
        shipment(
            exporter,
            ship=day,
            application=licensed(exporter, valid_until="2026-12-25"),
            recorded=moment("2026-10-20"),
        )
        for day in ("2027-01-14", "2026-12-20", "2026-12-25")
    )
    assert "license_expires" in open_kinds(late)
    assert "license_expires" not in open_kinds(early) | open_kinds(on_the_day)
    flag = Flag.objects.get(shipment=late, kind="license_expires", cleared_at__isnull=True)
    assert Alert.objects.filter(flag=flag).exists()
    # A full scan agrees and changes nothing.
    result = scan.scan(now=moment("2026-10-21"))
    assert "license_expires" not in {k for k, r in result.kinds.items() if r.raised or r.cleared}


def test_it_clears_when_the_ship_date_moves_inside_the_validity(exporter):
    app = licensed(exporter, valid_until="2026-12-25")
    late = shipment(exporter, ship="2027-01-14", application=app, recorded=moment("2026-10-20"))
    when = moment("2026-10-22")
    shipping.shipment_update(
        shipment=late, now=when, actor=None, planned_ship_date=dt.date(2026, 12, 24)
    )
    assert "license_expires" not in open_kinds(late)


def test_it_clears_when_the_shipment_ships(exporter):
    app = licensed(exporter, valid_until="2026-12-25")
    late = shipment(exporter, ship="2027-01-14", application=app, recorded=moment("2026-10-20"))
    late.refresh_from_db()
    when = moment("2026-10-23")
    shipping.shipment_ship(shipment=late, at=when, now=when, actor=None)
    assert "license_expires" not in open_kinds(late)


def test_a_pending_application_raises_nothing_until_its_license_is_approved(exporter):
    app = mofcom_application(exporter, submitted=None)
    submit(app, "2026-09-01")
    accept(app, "2026-09-03")
    goods = shipment(exporter, ship="2027-01-14", application=app, recorded=moment("2026-09-05"))
    assert "license_expires" not in open_kinds(goods)
    approve(app, "2026-10-15", valid_until="2026-12-25")
    assert "license_expires" in open_kinds(goods)


def test_an_open_flag_keeps_the_day_its_license_ends_when_an_amendment_moves_it(exporter):
    from licenses import services

    app = licensed(exporter, valid_until="2026-12-25")
    late = shipment(exporter, ship="2027-01-14", application=app, recorded=moment("2026-10-20"))
    flag = Flag.objects.get(shipment=late, kind="license_expires", cleared_at__isnull=True)
    assert flag.deciding_date == dt.date(2026, 12, 25)  # the work queue's date for the row
    asked, granted = moment("2026-10-22"), moment("2026-10-25")
    services.application_amend(
        application=app,
        at=asked,
        now=asked,
        actor=None,
        note="Longer validity",
        valid_until=dt.date(2027, 1, 5),
    )
    services.application_approve_amendment(application=app, at=granted, now=granted, actor=None)
    flag.refresh_from_db()
    # Still ends before the ship date: the same open flag, the license's new end.
    assert (flag.cleared_at, flag.deciding_date) == (None, dt.date(2027, 1, 5))
