"""A small world for the web pages: two exporters (Ganzhou, seen by `limited`; Baotou, seen by
`outsider`), each with a consignee, an application under review and a shipment waiting on it,
built through the services and dated relative to the clock the pages read.

The pages read the clock (they are the outermost caller), so their tests pin it: every test
here runs at `WEB_NOW`, frozen, never on the real clock, which would turn a minute, a
midnight or a month end under a test now and then. Browser tests (`live_server`) keep the
real clock: a real browser judges cookies and dates by it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from licenses import services
from licenses.models import LicenseApplication
from monitoring import flag_tallies
from monitoring.models import Flag
from shipments import services as shipping
from shipments.models import Consignee, Shipment

from ..factories import ApplicationFactory, authority, item

UTC = dt.UTC
# A Wednesday morning in Beijing in mid-November: no Chinese holiday within weeks of it, and
# far from a midnight or a month end in any time zone a test shows.
WEB_NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_clock(request):
    if "live_server" in request.fixturenames:
        yield None
        return
    with time_machine.travel(WEB_NOW, tick=False) as traveller:
        yield traveller


def ago(days: float = 0, hours: float = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=hours)


def approve(exporter, reference: str, submitted_days_ago: float, decided_days_ago: float):
    """A new application of `exporter`, submitted and approved that many days ago."""
    now = timezone.now()
    app = ApplicationFactory(exporter=exporter, reference=reference)
    services.application_submit(application=app, at=ago(submitted_days_ago), now=now, actor=None)
    services.application_approve(
        application=app,
        at=ago(decided_days_ago),
        now=now,
        actor=None,
        license_number=reference,
        valid_until=(now + dt.timedelta(days=200)).date(),
    )
    return app


@dataclass
class Side:
    """What one exporter has in the world."""

    exporter: object
    consignee: Consignee
    application: LicenseApplication
    shipment: Shipment


def build_side(exporter, prefix: str, *, destination: str = "DE", submitted_days_ago: int = 90):
    now = timezone.now()
    consignee = shipping.consignee_create(
        now=now,
        actor=None,
        exporter=exporter,
        name=f"{prefix} Magnet Works GmbH",
        country=destination,
        end_use="Permanent magnets for electric motors",
    )
    application = services.application_create(
        now=now,
        actor=None,
        items=[item("1C902")],
        exporter=exporter,
        authority=authority("MOFCOM"),
        license_type="individual",
        destination=destination,
        reference=f"{prefix}-APP-1",
        authority_reference=f"{prefix}-CASE-1",  # MOFCOM's case number: acceptance needs it
        quantity=Decimal("500"),
        value=Decimal("120000"),
        currency="USD",
    )
    shipment = shipping.shipment_create(
        now=now,
        actor=None,
        exporter=exporter,
        reference=f"{prefix}-SHP-1",
        item=item("1C902"),
        quantity=Decimal("100"),
        value=Decimal("24000"),
        currency="USD",
        destination=destination,
        consignee=consignee,
        planned_ship_date=(now + dt.timedelta(days=5)).date(),
        application=application,
    )
    services.application_submit(
        application=application, at=ago(submitted_days_ago), now=now, actor=None
    )
    application.refresh_from_db()
    shipment.refresh_from_db()
    open_flag(application=application, exporter=exporter, kind="overdue", raised_at=ago(3))
    return Side(exporter, consignee, application, shipment)


@dataclass
class World:
    mine: Side  # Ganzhou: what `limited` sees
    theirs: Side  # Baotou: what `outsider` sees


@pytest.fixture
def world(ganzhou, baotou) -> World:
    return World(mine=build_side(ganzhou, "GZ"), theirs=build_side(baotou, "BT", destination="JP"))


@pytest.fixture
def nobody(db):
    """Signed in, but with no role at all."""
    from ..factories import UserFactory

    return UserFactory(username="nora_norole")


def open_flag(**fields):
    """An open flag as the test wants it; the scan may already have raised it. Written around
    the scan, so the flag tallies are recounted, as the daily job would."""
    flag, _created = Flag.objects.update_or_create(
        application=fields.pop("application", None),
        shipment=fields.pop("shipment", None),
        kind=fields.pop("kind"),
        cleared_at=None,
        defaults=fields,
    )
    flag_tallies.rebuild(now=timezone.now())
    return flag
