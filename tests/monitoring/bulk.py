"""A realistic book of applications and shipments, written in bulk (no services, no signals):
what a team that has used the tracker for a few years has, and what the scan has never seen.

Of the applications about 5 % are drafts, 14 % pending (submitted, accepted, information
requested) with due dates from six weeks ago to two months ahead, 35 % approved (a few running
out within a month), 5 % exhausted, 25 % expired and 16 % rejected or withdrawn. Each has a
shipment in the state its application gives it (most delivered long ago); a few shipments have
no application yet. About 1 % of the shipments before shipping need a license on their ship
date but not today (a suspension ends before they ship: `control_change`).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from licenses import tallies
from licenses.clock import end_of_day
from licenses.models import Authority, ControlledItem, Exporter, LicenseApplication
from shipments.models import FilingDeadline, Shipment

KG = "kg"


def _items() -> list[ControlledItem]:
    items = list(ControlledItem.objects.filter(authority__code="MOFCOM"))
    for code, authority_code in (("3A001", "BIS"), ("ML22", "ECJU")):
        item, _ = ControlledItem.objects.get_or_create(
            authority=Authority.objects.get(code=authority_code),
            code=code,
            defaults={"description": "Bulk test item", "unit": KG},
        )
        items.append(item)
    return items


def load(
    applications: int, *, now: dt.datetime, seed: int = 20261129, exporters: int = 50
) -> dict[str, int]:
    rng = random.Random(seed)
    today = now.date()
    made = Exporter.objects.bulk_create(
        Exporter(
            name=f"Bulk exporter {n}",
            registration_number=f"BULK{seed % 1000:03d}{n:06d}",
            country="CN",
            contact_emails=[f"compliance{n}@bulk.example"],
        )
        for n in range(exporters)
    )
    items = _items()
    apps: list[LicenseApplication] = []
    plans: list[tuple[str, ControlledItem]] = []
    for n in range(applications):
        item = rng.choice(items)
        authority = item.authority
        r = rng.random()
        submitted = now - dt.timedelta(days=rng.randint(30, 900))
        decided = min(
            submitted + dt.timedelta(days=rng.randint(20, 90)), now - dt.timedelta(days=1)
        )
        app = LicenseApplication(
            exporter=rng.choice(made),
            authority=authority,
            license_type=rng.choice(["individual", "individual", "general"]),
            destination=rng.choice(["DE", "JP", "US", "KR", "NL", "FR"]),
            reference=f"BULK-{seed % 1000:03d}-{n:06d}",
            quantity=Decimal(rng.randint(10, 5000)),
            value=Decimal(rng.randint(1000, 900000)),
            currency="USD",
            window_days=authority.window_days,
            window_source="default",
        )
        if r < 0.05:
            app.status = "draft"
        else:
            app.submitted_at = submitted
            app.last_moved_at = submitted
        if 0.05 <= r < 0.19:
            app.status = rng.choice(["submitted", "accepted", "accepted", "info_requested"])
            app.submitted_at = app.last_moved_at = now - dt.timedelta(days=rng.randint(1, 120))
            if app.status != "info_requested":
                due_day = today + dt.timedelta(days=rng.randint(-42, 60))
                app.due_at = end_of_day(due_day, authority.tz)
            else:  # a reply due between ten days ago and a month ahead (rng stream untouched)
                app.pause_reason = "information"
                app.reply_due_at = end_of_day(today + dt.timedelta(days=n % 40 - 10), authority.tz)
        elif 0.19 <= r < 0.59:
            app.status = "approved" if r < 0.54 else "exhausted"
            app.decided_at = app.last_moved_at = decided
            soon = rng.random() < 0.04
            app.valid_until = today + dt.timedelta(
                days=rng.randint(0, 30) if soon else rng.randint(31, 720)
            )
            app.license_number = f"L{n:07d}"
            app.approved_quantity, app.approved_value = app.quantity, app.value
        elif 0.59 <= r < 0.84:
            app.status = "expired"
            app.decided_at = app.last_moved_at = decided
            app.valid_until = min(
                today - dt.timedelta(days=1), app.decided_at.date() + dt.timedelta(days=365)
            )
            app.license_number = f"L{n:07d}"
            app.approved_quantity, app.approved_value = app.quantity, app.value
        elif r >= 0.84:
            app.status = rng.choice(["rejected", "withdrawn"])
            app.decided_at = app.last_moved_at = decided
        apps.append(app)
        plans.append((app.status, item))
    LicenseApplication.objects.bulk_create(apps, batch_size=2000)
    through = LicenseApplication.items.through
    through.objects.bulk_create(
        [
            through(licenseapplication_id=app.pk, controlleditem_id=item.pk)
            for app, (_status, item) in zip(apps, plans, strict=True)
        ],
        batch_size=5000,
    )
    shipments = []
    for n, (app, (status, item)) in enumerate(zip(apps, plans, strict=True)):
        if status in ("submitted", "accepted", "info_requested"):
            ship_status = "on_hold" if rng.random() < 0.1 else "awaiting_license"
            ship = today + dt.timedelta(days=rng.randint(-10, 120))
        elif status in ("approved", "exhausted"):
            ship_status = rng.choice(["cleared", "shipped", "delivered", "delivered", "delivered"])
            ship = today + dt.timedelta(days=rng.randint(-300, 90))
        elif status == "expired":
            ship_status = "planned" if rng.random() < 0.05 else "delivered"
            ship = today + dt.timedelta(days=rng.randint(-900, 120))
        elif status == "draft":
            ship_status = "planned"
            ship = today + dt.timedelta(days=rng.randint(10, 200))
        else:
            ship_status = "cancelled" if rng.random() < 0.7 else "planned"
            ship = today + dt.timedelta(days=rng.randint(-400, 150))
        shipments.append(_shipment(n, app.exporter, item, app, ship_status, ship, app.destination))
    for n in range(applications // 20):  # not filed yet
        item = rng.choice(items)
        ship = today + dt.timedelta(days=rng.randint(10, 240))
        shipments.append(
            _shipment(applications + n, rng.choice(made), item, None, "planned", ship, "DE")
        )
    # A generator of its own: the book above stays what it was for the same seed.
    control = random.Random(seed + 1)
    for shipment in shipments:
        if shipment.status in ("planned", "awaiting_license", "cleared", "on_hold"):
            shipment.license_required_today = control.random() >= 0.01
    Shipment.objects.bulk_create(shipments, batch_size=2000)
    FilingDeadline.objects.bulk_create(
        [
            FilingDeadline(
                shipment=s,
                file_by_date=_file_by(s.planned_ship_date),
                file_by_at=end_of_day(_file_by(s.planned_ship_date), s.item.authority.tz),
                planned=s.status == "planned",
            )
            for s in shipments
        ],
        batch_size=2000,
    )
    tallies.rebuild()  # bulk-created: no events kept them
    return {"applications": len(apps), "shipments": len(shipments)}


def _file_by(ship: dt.date) -> dt.date:
    """A plausible stored deadline (the scan and the daily job keep the real one)."""
    return ship - dt.timedelta(days=80)


def _shipment(n, exporter, item, app, status, ship, destination) -> Shipment:
    return Shipment(
        exporter=exporter,
        reference=f"BULK-S-{n:06d}",
        item=item,
        quantity=Decimal("10"),
        unit=KG,
        value=Decimal("1000"),
        currency="USD",
        destination=destination,
        planned_ship_date=ship,
        application=app,
        status=status,
    )
