"""Builders for the window-scan tests: moves are recorded when they happened (`now` = `at`),
so that flags are raised by the scan at the moment under test, not by the recording."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from licenses import services
from monitoring.models import Flag
from shipments import services as shipping

from ..factories import ApplicationFactory, ConsigneeFactory, item
from ..helpers import SHANGHAI, at


def moment(day: str, hour: int = 10, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    return at(day, hour, tz)


def submit(app, day: str, tz: dt.tzinfo = SHANGHAI):
    when = moment(day, tz=tz)
    return services.application_submit(application=app, at=when, now=when, actor=None)


def accept(app, day: str, tz: dt.tzinfo = SHANGHAI):
    when = moment(day, tz=tz)
    return services.application_accept(application=app, at=when, now=when, actor=None)


def approve(app, day: str, valid_until: str = "2027-12-31"):
    when = moment(day)
    return services.application_approve(
        application=app,
        at=when,
        now=when,
        actor=None,
        license_number=f"LIC-{app.pk}",
        valid_until=dt.date.fromisoformat(valid_until),
    )


def mofcom_application(exporter=None, *, submitted: str | None, accepted: str | None = None):
    app = ApplicationFactory(**({"exporter": exporter} if exporter else {}))
    if submitted:
        submit(app, submitted)
    if accepted:
        accept(app, accepted)
    return app


def shipment(
    exporter,
    *,
    ship: str,
    application=None,
    reference: str | None = None,
    recorded: dt.datetime | None = None,
    **fields,
):
    """A shipment recorded through the service (at `recorded`, by default 1 June 2026)."""
    now = recorded or moment("2026-06-01")
    shipment.counter += 1  # type: ignore[attr-defined]
    return shipping.shipment_create(
        now=now,
        actor=None,
        exporter=exporter,
        reference=reference or f"SHP-T{shipment.counter:04d}",  # type: ignore[attr-defined]
        item=fields.pop("item", None) or item(),
        quantity=Decimal("100"),
        value=Decimal("1000"),
        currency=application.currency if application else "USD",
        destination=application.destination if application else "DE",
        planned_ship_date=dt.date.fromisoformat(ship),
        consignee=ConsigneeFactory(exporter=exporter),
        application=application,
        **fields,
    )


shipment.counter = 0  # type: ignore[attr-defined]


def open_kinds(subject) -> set[str]:
    field = "application" if subject._meta.model_name == "licenseapplication" else "shipment"
    return set(
        Flag.objects.filter(cleared_at__isnull=True, **{field: subject}).values_list(
            "kind", flat=True
        )
    )
