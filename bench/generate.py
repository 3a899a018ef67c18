"""Build a PostgreSQL database of a given size for the benchmark, fast (COPY).

Shape, for N shipments (like real data: most exporters small, a few large; most licenses
MOFCOM; a minority pending):
- exporters: max(20, N / 5,000), 5 consignees each, sizes skewed (Zipf-like);
- applications: 0.30·N individual (one shipment each) + 0.05·N general (about 14 shipments
  each); states: 5% draft, 10% submitted, 20% accepted, 5% information requested, 40%
  approved, 5% rejected, 5% withdrawn, 8% expired, 2% exhausted;
- authorities: MOFCOM 70%, BIS 15%, ECJU 15%; destinations over ten countries;
- due dates computed by the product's own clock arithmetic (`licenses.calendars`) from the
  submission/acceptance dates, so they are what the product would store;
- events: one `created` per application and shipment, one `status_changed` per move.

Columns are read from the live schema; any column the generator does not fill gets the Django
model field's default, so the generator keeps working as models grow.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection

from licenses.calendars import add_days
from licenses.clock import CALENDAR_YEARS, _public_calendar

DESTINATIONS = ["DE", "JP", "US", "KR", "FR", "NL", "GB", "IT", "IN", "VN"]
STATES = [
    ("draft", 5),
    ("submitted", 10),
    ("accepted", 20),
    ("info_requested", 5),
    ("approved", 40),
    ("rejected", 5),
    ("withdrawn", 5),
    ("expired", 8),
    ("exhausted", 2),
]
PENDING = {"submitted", "accepted", "info_requested"}
FOLLOW = {
    "draft": "planned",
    "rejected": "planned",
    "withdrawn": "planned",
    "expired": "planned",
    "submitted": "awaiting_license",
    "accepted": "awaiting_license",
    "info_requested": "awaiting_license",
    "approved": "cleared",
    "exhausted": "cleared",
}


@dataclass
class Sizes:
    shipments: int

    @property
    def exporters(self) -> int:
        return max(20, self.shipments // 5000)

    @property
    def individual(self) -> int:
        return int(self.shipments * 0.30)

    @property
    def general(self) -> int:
        return max(1, int(self.shipments * 0.05))


def _defaults(model: Any) -> dict[str, Any]:
    """Database values for the fields a generator leaves out."""
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.has_default():
            default = f.get_default()
            values[f.column] = (
                json.dumps(default) if f.get_internal_type() == "JSONField" else default
            )
        elif f.null:
            values[f.column] = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
            values[f.column] = ""
    return values


def copy_rows(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY dict rows into a model's table; missing columns get the field defaults."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [r[0] for r in cursor.fetchall()]
    defaults = _defaults(model)
    count = 0
    raw = connection.connection  # psycopg 3 connection
    assert raw is not None
    with raw.cursor() as cur:
        cols = ", ".join(f'"{c}"' for c in columns)
        with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[c] if c in row else defaults.get(c) for c in columns])
                count += 1
    return count


def reset_sequences(models: Iterable[Any]) -> None:
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
            )


def generate(*, shipments: int, now: dt.datetime, seed: int = 2026) -> dict[str, int]:
    """Fill an empty, migrated database (seed data present). Returns row counts."""
    rng = random.Random(seed)
    Authority = apps.get_model("licenses", "Authority")
    ControlledItem = apps.get_model("licenses", "ControlledItem")
    Exporter = apps.get_model("licenses", "Exporter")
    Consignee = apps.get_model("shipments", "Consignee")
    Application = apps.get_model("licenses", "LicenseApplication")
    Shipment = apps.get_model("shipments", "Shipment")
    Event = apps.get_model("licenses", "Event")
    through = Application.items.through

    sizes = Sizes(shipments)
    authorities = {a.code: a for a in Authority.objects.all()}
    items: dict[str, list[Any]] = {}
    for code, extra in (("BIS", ["3A001", "1C011"]), ("ECJU", ["ML8", "1C990"])):
        for item_code in extra:
            ControlledItem.objects.get_or_create(
                authority=authorities[code],
                code=item_code,
                defaults={"description": f"Benchmark item {item_code}", "unit": "kg"},
            )
    for code, authority in authorities.items():
        items[code] = list(ControlledItem.objects.filter(authority=authority))
    calendars = {
        code: (
            _public_calendar(a.calendar_country, a.calendar_subdivision),
            zoneinfo.ZoneInfo(a.time_zone),
        )
        for code, a in authorities.items()
    }
    assert CALENDAR_YEARS

    counts: dict[str, int] = {}
    counts["exporters"] = copy_rows(
        Exporter,
        (
            {
                "id": i,
                "name": f"Bench Exporter {i:05d} Co., Ltd.",
                "registration_number": f"BENCH-{i:08d}",
                "country": "CN",
                "contact_emails": json.dumps([f"compliance{i}@bench.example.com"]),
                "created_at": now,
            }
            for i in range(1, sizes.exporters + 1)
        ),
    )
    consignee_of: dict[tuple[int, str], int] = {}
    consignee_rows = []
    cid = 0
    for e in range(1, sizes.exporters + 1):
        for dest in rng.sample(DESTINATIONS, 5):
            cid += 1
            consignee_of[(e, dest)] = cid
            consignee_rows.append(
                {
                    "id": cid,
                    "exporter_id": e,
                    "name": f"Consignee {cid}",
                    "country": dest,
                    "end_use": "Benchmark end use",
                }
            )
    counts["consignees"] = copy_rows(Consignee, consignee_rows)

    # Skewed exporter sizes: a few exporters hold much of the data.
    weights = [1 / (i**0.8) for i in range(1, sizes.exporters + 1)]
    exporter_ids = list(range(1, sizes.exporters + 1))
    authority_codes = ["MOFCOM"] * 70 + ["BIS"] * 15 + ["ECJU"] * 15
    state_pool = [s for s, w in STATES for _ in range(w)]

    apps_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    ship_plan: list[
        tuple[int, int, str, str, int, str]
    ] = []  # app, exporter, dest, status, item, currency
    total_apps = sizes.individual + sizes.general
    exporters_for = rng.choices(exporter_ids, weights=weights, k=total_apps)
    for app_id in range(1, total_apps + 1):
        general = app_id > sizes.individual
        exporter = exporters_for[app_id - 1]
        dest = rng.choice([d for (e, d) in consignee_of if e == exporter]) if app_id % 7 else "DE"
        dest = (
            dest
            if (exporter, dest) in consignee_of
            else next(d for (e, d) in consignee_of if e == exporter)
        )
        code = rng.choice(authority_codes)
        item = rng.choice(items[code])
        status = rng.choice(state_pool)
        if general and status == "exhausted":
            status = "approved"
        if not general and status == "exhausted":
            status = "approved"
        row = _application_row(
            app_id,
            exporter,
            authorities[code],
            calendars[code],
            item,
            dest,
            status,
            general,
            now,
            rng,
        )
        apps_rows.append(row)
        item_rows.append(
            {"id": app_id, "licenseapplication_id": app_id, "controlleditem_id": item.pk}
        )
        n_ship = 1 if not general else rng.randint(10, 18)
        for _ in range(n_ship):
            ship_plan.append((app_id, exporter, dest, status, item.pk, row["currency"]))
    # Trim or pad with unassigned shipments to exactly N.
    rng.shuffle(ship_plan)
    ship_plan = ship_plan[:shipments]
    while len(ship_plan) < shipments:
        exporter = rng.choice(exporter_ids)
        dest = next(d for (e, d) in consignee_of if e == exporter)
        ship_plan.append((0, exporter, dest, "none", items["MOFCOM"][0].pk, "USD"))

    counts["applications"] = copy_rows(Application, apps_rows)
    copy_rows(through, item_rows)

    def shipment_rows() -> Iterator[dict[str, Any]]:
        for sid, (app_id, exporter, dest, status, item_id, currency) in enumerate(ship_plan, 1):
            ship_status = FOLLOW.get(status, "planned")
            roll = rng.random()
            if ship_status == "cleared" and roll < 0.5:
                ship_status = "shipped" if roll < 0.2 else "delivered"
            elif roll > 0.97:
                ship_status = "cancelled"
            yield {
                "id": sid,
                "exporter_id": exporter,
                "reference": f"SHP-{sid:08d}",
                "item_id": item_id,
                "quantity": Decimal(rng.randint(5, 500)),
                "unit": "kg",
                "value": Decimal(rng.randint(1_000, 500_000)),
                "currency": currency,
                "destination": dest,
                "consignee_id": consignee_of[(exporter, dest)],
                "planned_ship_date": (now + dt.timedelta(days=rng.randint(-120, 180))).date(),
                "application_id": app_id or None,
                "status": ship_status,
                "created_at": now,
                "updated_at": now,
            }

    counts["shipments"] = copy_rows(Shipment, shipment_rows())

    def event_rows() -> Iterator[dict[str, Any]]:
        eid = 0
        for row in apps_rows:
            eid += 1
            yield {
                "id": eid,
                "kind": "created",
                "application_id": row["id"],
                "to_status": "draft",
                "occurred_at": row["created_at"],
                "recorded_at": row["created_at"],
                "data": "{}",
            }
            if row.get("submitted_at"):
                eid += 1
                yield {
                    "id": eid,
                    "kind": "status_changed",
                    "application_id": row["id"],
                    "from_status": "draft",
                    "to_status": "submitted",
                    "occurred_at": row["submitted_at"],
                    "recorded_at": row["submitted_at"],
                    "data": json.dumps({"move": "submit"}),
                }
            if row["status"] not in ("draft", "submitted"):
                eid += 1
                when = row["last_moved_at"]
                yield {
                    "id": eid,
                    "kind": "status_changed",
                    "application_id": row["id"],
                    "from_status": "submitted",
                    "to_status": row["status"],
                    "occurred_at": when,
                    "recorded_at": when,
                    "data": "{}",
                }
        for sid in range(1, shipments + 1):
            eid += 1
            yield {
                "id": eid,
                "kind": "created",
                "shipment_id": sid,
                "to_status": "planned",
                "occurred_at": now,
                "recorded_at": now,
                "data": "{}",
            }

    counts["events"] = copy_rows(Event, event_rows())
    reset_sequences([Exporter, Consignee, Application, Shipment, Event, through])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def _application_row(
    app_id, exporter, authority, calendar_tz, item, dest, status, general, now, rng
) -> dict[str, Any]:
    calendar, tz = calendar_tz
    created = now - dt.timedelta(days=rng.randint(60, 400))
    row: dict[str, Any] = {
        "id": app_id,
        "exporter_id": exporter,
        "authority_id": authority.pk,
        "license_type": "general" if general else "individual",
        "destination": dest,
        "reference": f"APP-{app_id:08d}",
        "quantity": Decimal(rng.randint(100, 10_000)),
        "value": Decimal(rng.randint(10_000, 5_000_000)),
        "currency": "USD",
        "status": status,
        "created_at": created,
        "updated_at": created,
        "window_days": authority.window_days,
        "window_source": "default",
        "drawn_quantity": Decimal(0),
        "drawn_value": Decimal(0),
    }
    if status == "draft":
        return row
    # Pending applications are spread so that due dates fall from weeks ago to months ahead.
    age = rng.randint(1, 110) if status in PENDING else rng.randint(120, 380)
    submitted = now - dt.timedelta(days=age, hours=rng.randint(0, 8))
    row["submitted_at"] = row["last_moved_at"] = submitted
    accepted = None
    if status != "submitted" and authority.clock_starts == "accepted":
        accepted = submitted + dt.timedelta(days=min(age - 1, rng.randint(1, 10)) if age > 1 else 0)
        row["accepted_at"] = row["last_moved_at"] = accepted
    if status in ("submitted", "accepted"):
        if authority.clock_starts == "accepted" and accepted is None:
            start, days = submitted, authority.acceptance_window_days
        else:
            start, days = (accepted or submitted), authority.window_days
        due = add_days(
            calendar=calendar, start=start.astimezone(tz).date(), n=days, unit=authority.window_unit
        )
        assert due is not None
        row["due_at"] = dt.datetime.combine(due + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    if status in ("approved", "rejected", "expired", "exhausted"):
        decided = (accepted or submitted) + dt.timedelta(days=rng.randint(20, 60))
        row["decided_at"] = row["last_moved_at"] = min(decided, now)
    if status in ("approved", "expired", "exhausted"):
        row["license_number"] = f"LIC-{app_id:08d}"
        valid = (now + dt.timedelta(days=rng.randint(5, 700))).date()
        if status == "expired":
            valid = (now - dt.timedelta(days=rng.randint(1, 60))).date()
        row["valid_until"] = valid
        row["approved_quantity"], row["approved_value"] = row["quantity"], row["value"]
    if status == "withdrawn":
        row["last_moved_at"] = submitted + dt.timedelta(days=3)
    if status == "rejected":
        row["rejection_reason"] = "Benchmark rejection"
    return row
