"""Build a PostgreSQL database of a given size for the benchmark, fast (COPY).

Shape, for N shipments (like real data: most exporters small, a few large; most licenses
MOFCOM; a large minority pending):

- exporters: max(20, N / 5,000), 5 consignees each (5 of 10 destinations), sizes skewed
  (weight 1/rank^0.8: at 1,000,000 shipments the largest exporter holds about a tenth);
- applications: 0.28·N individual (one shipment each) + 0.045·N general (10 to 18 shipments
  each); the remaining ~9 % of shipments are planned and not filed yet;
- authorities: MOFCOM 75 %, BIS 12.5 %, ECJU 12.5 %; destinations over ten countries;
- states (`STATES`): 5 % draft, 12 % submitted, 22 % accepted, 6 % information requested
  (an open `ClockPause`), 32 % approved, 5 % rejected, 5 % withdrawn, 10 % expired, 3 %
  exhausted (general licenses only; an individual one drawn is `approved`). So 40 % of the
  applications are pending: at 1,000,000 shipments about 105,000 of them are MOFCOM's, the
  scope of the fast-track benchmark;
- shipments follow their application (pending: awaiting license, a tenth on hold; approved:
  cleared, shipped or delivered; rejected/withdrawn: mostly cancelled, the rest planned);
- general licenses draw down what their shipments reserve (cancelled ones released): the
  approved quantity and value cover the drawn totals, and an exhausted one is drawn exactly to
  its approved quantity and value;
- due dates are computed by the product's own clock arithmetic (`licenses.calendars`, the
  authority's default window, the acceptance window before acceptance at MOFCOM), and every
  shipment's file-by deadline likewise (`FilingDeadline`, what
  `monitoring.scan.file_by_dates` stores when no rule or decision exists);
- events: `created` per application and shipment, `status_changed` per move (with the moves'
  names as the services write them), `drawdown` per shipment on a general license.

The scan benchmark needs exactly `newly_due` pending applications to become overdue between
`baseline` and `now`, and nothing else to change in that minute (see `Boundary`): a local
midnight of one authority lies in it (at the default instants, MOFCOM's: 16:00 UTC), so the
generator gives exactly `newly_due` pending applications of that authority the due date that
ends there, and keeps every other date that the minute would move across a threshold — a
pending due date entering the `due_soon` horizon, a licence's validity entering the `expiring`
horizon, a planned shipment's file-by deadline — off those days.

Columns are read from the live schema; any column the generator does not fill gets the Django
model field's default, so the generator keeps working as models grow.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from licenses import tallies
from licenses.calendars import WorkCalendar, add_days, subtract_days
from licenses.clock import _public_calendar, end_of_day, local_date
from licenses.models import (
    Authority,
    ClockPause,
    ClockStart,
    ControlledItem,
    Event,
    Exporter,
    LicenseApplication,
)
from shipments.models import Consignee, FilingDeadline, Shipment

from .plan import (
    AUTHORITY_SHARES,
    DESTINATIONS,
    DUE,
    PENDING,
    SEED,
    Sizes,
    pending_count,
    states,
)

# The measured scan's `now` and the baseline scan's: 16:00 UTC is midnight in Shanghai (the
# end of MOFCOM's 1 December), mid-morning in New York and 4 pm in London (no day ends there).
NOW = dt.datetime(2026, 12, 1, 16, 0, 30, tzinfo=dt.UTC)
BASELINE = NOW - dt.timedelta(minutes=1)

# --- COPY --------------------------------------------------------------------------------------


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
            "AND table_schema = current_schema() ORDER BY ordinal_position",
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


# --- the quiet minute ----------------------------------------------------------------------------


@dataclass
class Boundary:
    """One authority's view of the minute (baseline, now]: which local days end in it (their
    due dates become overdue, their file-by deadlines pass), and which days enter the
    `due_soon` and `expiring` horizons (from `monitoring.scan.thresholds` at both instants)."""

    ending: set[dt.date] = field(default_factory=set)
    due_soon_entering: set[dt.date] = field(default_factory=set)
    expiring_entering: set[dt.date] = field(default_factory=set)


def _days_ending_in(lo: dt.datetime, hi: dt.datetime, tz: zoneinfo.ZoneInfo) -> set[dt.date]:
    """Local days whose end lies in (lo, hi]."""
    out = set()
    day = local_date(lo, tz) - dt.timedelta(days=1)
    while end_of_day(day, tz) <= hi:
        if end_of_day(day, tz) > lo:
            out.add(day)
        day += dt.timedelta(days=1)
    return out


def boundaries(*, baseline: dt.datetime, now: dt.datetime) -> dict[int, Boundary]:
    from monitoring.scan import thresholds

    th0, th1 = thresholds(now=baseline), thresholds(now=now)
    out = {}
    for a0, a1 in zip(th0.authorities, th1.authorities, strict=True):
        tz = a0.authority.tz
        b = Boundary(ending=_days_ending_in(baseline, now, tz))
        b.due_soon_entering = _days_ending_in(a0.due_soon_until, a1.due_soon_until, tz)
        day = a0.expiring_until + dt.timedelta(days=1)
        while day <= a1.expiring_until:
            b.expiring_entering.add(day)
            day += dt.timedelta(days=1)
        out[a0.authority.pk] = b
    return out


# --- clock arithmetic (the product's, with the default windows of a fresh database) ------------


@dataclass
class Clock:
    authority: Authority
    calendar: WorkCalendar
    tz: zoneinfo.ZoneInfo
    boundary: Boundary
    _file_by: dict[dt.date, dt.date] = field(default_factory=dict)

    @property
    def at_acceptance(self) -> bool:
        return self.authority.clock_starts == ClockStart.ACCEPTED

    def due(self, start: dt.date, *, accepted: bool) -> dt.date:
        """The due date of a clock started on local day `start` (no pause)."""
        a = self.authority
        days = a.window_days if (accepted or not self.at_acceptance) else a.acceptance_window_days
        due = add_days(calendar=self.calendar, start=start, n=days, unit=a.window_unit)
        assert due is not None
        return due

    def file_by(self, ship: dt.date) -> dt.date:
        """`monitoring.scan.file_by_dates` with the default window (no rules, no decisions)."""
        cached = self._file_by.get(ship)
        if cached is not None:
            return cached
        a = self.authority
        last = subtract_days(calendar=self.calendar, end=ship, n=a.window_days, unit=a.window_unit)
        if self.at_acceptance:
            last = subtract_days(
                calendar=self.calendar, end=last, n=a.acceptance_window_days, unit=a.window_unit
            )
        self._file_by[ship] = last
        return last

    def at(self, day: dt.date, rng: random.Random) -> dt.datetime:
        """A moment in office hours of a local day, in UTC."""
        local = dt.datetime.combine(day, dt.time(9), tzinfo=self.tz) + dt.timedelta(
            minutes=rng.randint(0, 8 * 60)
        )
        return local.astimezone(dt.UTC)


# --- the plan ------------------------------------------------------------------------------------


@dataclass
class App:
    id: int
    exporter: int
    clock: Clock
    item: int
    destination: str
    status: str
    general: bool
    row: dict[str, Any] = field(default_factory=dict)
    moves: list[tuple[str, str, str, dt.datetime]] = field(default_factory=list)
    pause: tuple[dt.datetime, str] | None = None


def _weights(n: int) -> list[float]:
    return [1 / (i**0.8) for i in range(1, n + 1)]


def generate(
    *,
    shipments: int,
    now: dt.datetime = NOW,
    baseline: dt.datetime = BASELINE,
    newly_due: int | None = None,
    seed: int = SEED,
) -> dict[str, int]:
    """Fill an empty, migrated database (seed data present). Returns row counts.

    `newly_due` pending applications (default: 1 % of the pending ones) become overdue in
    (baseline, now] — exactly that many, and nothing else changes across that minute (see the
    module docstring)."""
    if newly_due is None:
        newly_due = pending_count(shipments=shipments, seed=seed) // 100
    rng = random.Random(seed)
    sizes = Sizes(shipments)
    authorities = {a.code: a for a in Authority.objects.all()}
    for code, extra in (("BIS", ["3A001", "1C011"]), ("ECJU", ["ML8", "1C990"])):
        for item_code in extra:
            ControlledItem.objects.get_or_create(
                authority=authorities[code],
                code=item_code,
                defaults={"description": f"Benchmark item {item_code}", "unit": "kg"},
            )
    items = {
        code: list(
            ControlledItem.objects.filter(authority=a).order_by("pk").values_list("pk", flat=True)
        )
        for code, a in authorities.items()
    }
    bounds = boundaries(baseline=baseline, now=now)
    clocks = {
        code: Clock(
            authority=a,
            calendar=_public_calendar(a.calendar_country, a.calendar_subdivision),
            tz=a.tz,
            boundary=bounds[a.pk],
        )
        for code, a in authorities.items()
    }
    counts: dict[str, int] = {}

    # Exporters and their consignees.
    counts["exporters"] = copy_rows(
        Exporter,
        (
            {
                "id": i,
                "name": f"Bench Exporter {i:05d} Co., Ltd.",
                "registration_number": f"BENCH-{i:08d}",
                "country": "CN",
                "address": f"{i} Industrial Road, Ganzhou",
                "contact_emails": json.dumps([f"compliance{i}@bench.example.com"]),
                "created_at": now - dt.timedelta(days=800),
            }
            for i in range(1, sizes.exporters + 1)
        ),
    )
    consignee_of: dict[tuple[int, str], int] = {}
    destinations_of: dict[int, list[str]] = {}
    consignee_rows = []  # type: ignore[var-annotated]
    for e in range(1, sizes.exporters + 1):
        destinations_of[e] = rng.sample(DESTINATIONS, 5)
        for dest in destinations_of[e]:
            cid = len(consignee_rows) + 1
            consignee_of[(e, dest)] = cid
            consignee_rows.append(
                {
                    "id": cid,
                    "exporter_id": e,
                    "name": f"Consignee {cid} ({dest})",
                    "country": dest,
                    "end_use": "Magnets for electric motors",
                }
            )
    counts["consignees"] = copy_rows(Consignee, consignee_rows)

    # Applications: exporter, authority, item, destination and state first.
    exporter_ids = list(range(1, sizes.exporters + 1))
    total_apps = sizes.individual + sizes.general
    exporters_for = rng.choices(exporter_ids, weights=_weights(sizes.exporters), k=total_apps)
    authority_pool = [c for c, w in AUTHORITY_SHARES for _ in range(w)]
    plan: list[App] = []
    for app_id, (code, status) in enumerate(states(sizes, seed), 1):
        general = app_id > sizes.individual
        exporter = exporters_for[app_id - 1]
        plan.append(
            App(
                id=app_id,
                exporter=exporter,
                clock=clocks[code],
                item=rng.choice(items[code]),
                destination=rng.choice(destinations_of[exporter]),
                status=status,
                general=general,
            )
        )
    # The applications that become overdue in the measured minute.
    eligible = [a for a in plan if a.status in DUE and a.clock.boundary.ending]
    if newly_due > len(eligible):
        raise ValueError(f"only {len(eligible)} applications can become due, not {newly_due}")
    designated = {a.id for a in rng.sample(eligible, newly_due)} if newly_due else set()
    today = {code: local_date(now, c.tz) for code, c in clocks.items()}

    for app in plan:
        _dates(app, designated=app.id in designated, now=now, rng=rng)

    # Shipments: per application (general ones several), then the unfiled ones.
    ship_rows: list[dict[str, Any]] = []
    for app in plan:
        n = rng.randint(10, 18) if app.general else 1
        for _ in range(n):
            ship_rows.append(_shipment(app, now=now, rng=rng))
    unfiled = max(0, shipments - len(ship_rows))
    for _ in range(unfiled):
        exporter = rng.choices(exporter_ids, weights=_weights(sizes.exporters))[0]
        code = rng.choice(authority_pool)
        clock = clocks[code]
        ship = today[code] + dt.timedelta(days=rng.randint(10, 240))
        ship_rows.append(
            {
                "exporter_id": exporter,
                "item_id": rng.choice(items[code]),
                "clock": clock,
                "destination": rng.choice(destinations_of[exporter]),
                "planned_ship_date": ship,
                "application_id": None,
                "status": "planned",
                "currency": "USD",
                "quantity": Decimal(rng.randint(5, 500)),
                "value": Decimal(rng.randint(1_000, 500_000)),
                "created_at": now
                - dt.timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600)),
            }
        )
    rng.shuffle(ship_rows)
    del ship_rows[shipments:]
    by_app: dict[int, list[dict[str, Any]]] = {}
    for sid, row in enumerate(ship_rows, 1):
        row["id"] = sid
        row["reference"] = f"SHP-{sid:08d}"
        row["consignee_id"] = consignee_of[(row["exporter_id"], row["destination"])]
        clock = row.pop("clock")
        # A planned shipment's file-by deadline must not pass in the measured minute.
        while row["status"] == "planned" and clock.file_by(row["planned_ship_date"]) in (
            clock.boundary.ending
        ):
            row["planned_ship_date"] += dt.timedelta(days=1)
        file_by = clock.file_by(row["planned_ship_date"])
        row["file_by_date"], row["file_by_at"] = file_by, end_of_day(file_by, clock.tz)
        row["unit"] = "kg"
        row["updated_at"] = row["created_at"]
        if row["application_id"]:
            by_app.setdefault(row["application_id"], []).append(row)
    for app in plan:
        _amounts(app, by_app.get(app.id, []), rng=rng)

    counts["applications"] = copy_rows(LicenseApplication, (a.row for a in plan))
    copy_rows(
        LicenseApplication.items.through,
        ({"id": a.id, "licenseapplication_id": a.id, "controlleditem_id": a.item} for a in plan),
    )
    counts["pauses"] = copy_rows(
        ClockPause,
        (
            {
                "id": i,
                "application_id": a.id,
                "requested_at": a.pause[0],  # type: ignore[index]
                "provided_at": None,
                "resume_status": a.pause[1],  # type: ignore[index]
            }
            for i, a in enumerate((a for a in plan if a.pause), 1)
        ),
    )
    counts["shipments"] = copy_rows(Shipment, ship_rows)
    copy_rows(
        FilingDeadline,
        (
            {
                "shipment_id": r["id"],
                "file_by_date": r["file_by_date"],
                "file_by_at": r["file_by_at"],
                "planned": r["status"] == "planned",
            }
            for r in ship_rows
        ),
    )
    counts["events"] = copy_rows(Event, _events(plan, ship_rows))
    reset_sequences(
        [
            Exporter,
            Consignee,
            LicenseApplication,
            Shipment,
            Event,
            ClockPause,
            LicenseApplication.items.through,
        ]
    )
    counts["pending"] = sum(a.status in PENDING for a in plan)
    counts["newly_due"] = len(designated)
    tallies.rebuild()  # the states were copied in, not moved: count them once
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def _dates(app: App, *, designated: bool, now: dt.datetime, rng: random.Random) -> None:
    """The application's moves and dates, due date included."""
    clock, status = app.clock, app.status
    tz, b = clock.tz, clock.boundary
    today = local_date(now, tz)
    row = app.row
    row.update(
        id=app.id,
        exporter_id=app.exporter,
        authority_id=clock.authority.pk,
        license_type="general" if app.general else "individual",
        destination=app.destination,
        reference=f"APP-{app.id:08d}",
        currency="USD",
        status=status,
        window_days=clock.authority.window_days,
        window_source="default",
    )
    if status == "draft":
        created = now - dt.timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 600))
        row.update(created_at=created, updated_at=created)
        return
    accepted_day: dt.date | None = None
    if status in PENDING:
        mofcom_accepted = clock.at_acceptance and status != "submitted"
        if designated:
            # Due exactly on the day that ends in the measured minute.
            target = min(b.ending)
            candidates = [
                target - dt.timedelta(days=d)
                for d in range(1, 150)
                if clock.due(target - dt.timedelta(days=d), accepted=mofcom_accepted) == target
            ]
            start = rng.choice(candidates)
        else:
            oldest = 30 if status == "submitted" else 100
            while True:
                start = today - dt.timedelta(days=rng.randint(1, oldest))
                if status == "info_requested":
                    break
                due = clock.due(start, accepted=mofcom_accepted)
                if due not in b.ending and due not in b.due_soon_entering:
                    break
        if mofcom_accepted:
            accepted_day = start
            submitted_day = start - dt.timedelta(days=rng.randint(1, 9))
        else:
            submitted_day = start
            if status != "submitted":
                accepted_day = min(
                    start + dt.timedelta(days=rng.randint(1, 5)), today - dt.timedelta(days=1)
                )
    else:
        submitted_day = today - dt.timedelta(days=rng.randint(120, 700))
        accepted_day = submitted_day + dt.timedelta(days=rng.randint(1, 9))
    submitted = clock.at(submitted_day, rng)
    created = submitted - dt.timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
    row.update(created_at=created, submitted_at=submitted, last_moved_at=submitted)
    app.moves.append(("submit", "draft", "submitted", submitted))
    current = "submitted"
    if accepted_day is not None:
        accepted = max(clock.at(accepted_day, rng), submitted + dt.timedelta(hours=1))
        if accepted < now:
            row.update(accepted_at=accepted, last_moved_at=accepted)
            app.moves.append(("accept", "submitted", "accepted", accepted))
            current = "accepted"
    if status in DUE:
        started = row.get("accepted_at") if clock.at_acceptance else submitted
        due = clock.due(local_date(started or submitted, tz), accepted=bool(started))
        row["due_at"] = end_of_day(due, tz)
        row["updated_at"] = row["last_moved_at"]
        if designated:
            assert due in b.ending, (app.id, due)
        return
    if status == "info_requested":
        low = row["last_moved_at"] + dt.timedelta(hours=2)
        requested = low + (now - low) * rng.random() * 0.9
        app.pause = (requested, current)
        row.update(last_moved_at=requested, updated_at=requested)
        app.moves.append(("request_info", current, "info_requested", requested))
        return
    decided = min(row["last_moved_at"] + dt.timedelta(days=rng.randint(20, 60)), now)
    if status == "withdrawn":
        withdrawn = row["last_moved_at"] + dt.timedelta(days=rng.randint(1, 10))
        row.update(last_moved_at=withdrawn, updated_at=withdrawn)
        app.moves.append(("withdraw", current, "withdrawn", withdrawn))
        return
    if status == "rejected":
        row.update(
            decided_at=decided,
            last_moved_at=decided,
            updated_at=decided,
            rejection_reason="End use not demonstrated.",
        )
        app.moves.append(("reject", current, "rejected", decided))
        return
    # approved, expired, exhausted: approved first.
    row.update(decided_at=decided, last_moved_at=decided, license_number=f"LIC-{app.id:08d}")
    app.moves.append(("approve", current, "approved", decided))
    if status == "expired":
        valid = decided.date() + dt.timedelta(days=rng.randint(30, 365))
        valid = max(min(valid, today - dt.timedelta(days=1)), decided.date())
        ended = max(end_of_day(valid, tz), decided)
        row.update(valid_until=valid, last_moved_at=ended)
        app.moves.append(("expire", "approved", "expired", ended))
    else:
        while True:
            valid = today + dt.timedelta(days=rng.randint(0, 700))
            if valid not in b.expiring_entering:
                break
        row["valid_until"] = valid
        if status == "exhausted":
            drawn = min(decided + dt.timedelta(days=rng.randint(1, 60)), now)
            row["last_moved_at"] = drawn
            app.moves.append(("exhaust", "approved", "exhausted", drawn))
    row["updated_at"] = row["last_moved_at"]


SHIPMENT_STATE = {
    "draft": [("planned", 1)],
    "submitted": [("awaiting_license", 9), ("on_hold", 1)],
    "accepted": [("awaiting_license", 9), ("on_hold", 1)],
    "info_requested": [("awaiting_license", 9), ("on_hold", 1)],
    "approved": [("cleared", 3), ("shipped", 2), ("delivered", 5)],
    "exhausted": [("cleared", 2), ("shipped", 2), ("delivered", 6)],
    "expired": [("delivered", 18), ("planned", 1), ("cancelled", 1)],
    "rejected": [("cancelled", 7), ("planned", 3)],
    "withdrawn": [("cancelled", 7), ("planned", 3)],
}


def _shipment(app: App, *, now: dt.datetime, rng: random.Random) -> dict[str, Any]:
    states = SHIPMENT_STATE[app.status]
    status = rng.choices([s for s, _w in states], weights=[w for _s, w in states])[0]
    today = local_date(now, app.clock.tz)
    if status in ("shipped", "delivered"):
        ship = today - dt.timedelta(days=rng.randint(1, 300))
    elif status == "cleared":
        ship = today + dt.timedelta(days=rng.randint(-5, 90))
    elif app.status in PENDING:
        ship = today + dt.timedelta(days=rng.randint(-10, 120))
    elif app.status == "draft":
        ship = today + dt.timedelta(days=rng.randint(10, 200))
    else:
        ship = today + dt.timedelta(days=rng.randint(-300, 150))
    created = app.row["created_at"] + dt.timedelta(minutes=rng.randint(1, 600))
    row: dict[str, Any] = {
        "exporter_id": app.exporter,
        "item_id": app.item,
        "clock": app.clock,
        "destination": app.destination,
        "planned_ship_date": ship,
        "application_id": app.id,
        "status": status,
        "currency": "USD",
        "quantity": Decimal(rng.randint(5, 500)),
        "value": Decimal(rng.randint(1_000, 500_000)),
        "created_at": created,
    }
    moved = app.row.get("last_moved_at") or created
    if status in ("shipped", "delivered"):
        row["shipped_at"] = min(moved + dt.timedelta(days=rng.randint(1, 30)), now)
        row["last_moved_at"] = row["shipped_at"]
        if status == "delivered":
            row["delivered_at"] = min(
                row["shipped_at"] + dt.timedelta(days=rng.randint(3, 40)), now
            )
            row["last_moved_at"] = row["delivered_at"]
    elif status in ("on_hold", "cancelled"):
        row["last_moved_at"] = min(moved + dt.timedelta(days=rng.randint(0, 5)), now)
    return row


def _amounts(app: App, ships: list[dict[str, Any]], *, rng: random.Random) -> None:
    """Requested, approved and drawn quantity and value. An individual license matches its
    shipment; a general one draws down what its shipments (not cancelled) reserve."""
    row = app.row
    live = [s for s in ships if s["status"] != "cancelled"]
    drawn_q = sum((s["quantity"] for s in live), Decimal(0))
    drawn_v = sum((s["value"] for s in live), Decimal(0))
    if not app.general:
        q = ships[0]["quantity"] if ships else Decimal(rng.randint(5, 500))
        v = ships[0]["value"] if ships else Decimal(rng.randint(1_000, 500_000))
        row.update(quantity=q, value=v, drawn_quantity=Decimal(0), drawn_value=Decimal(0))
    elif app.status == "exhausted":
        row.update(quantity=drawn_q or Decimal(1), value=drawn_v or Decimal(1))
        row.update(drawn_quantity=drawn_q, drawn_value=drawn_v)
    else:
        factor = Decimal(rng.randint(115, 200)) / 100
        row.update(
            quantity=((drawn_q or Decimal(100)) * factor).quantize(Decimal(1)),
            value=((drawn_v or Decimal(10_000)) * factor).quantize(Decimal(1)),
            drawn_quantity=drawn_q,
            drawn_value=drawn_v,
        )
    if app.status in ("approved", "expired", "exhausted"):
        row.update(approved_quantity=row["quantity"], approved_value=row["value"])


def _events(plan: list[App], ships: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    eid = 0
    for app in plan:
        row = app.row
        eid += 1
        yield {
            "id": eid,
            "kind": "created",
            "application_id": app.id,
            "to_status": "draft",
            "occurred_at": row["created_at"],
            "recorded_at": row["created_at"],
            "data": "{}",
        }
        previous = None
        for move, old, new, at in app.moves:
            eid += 1
            yield {
                "id": eid,
                "kind": "status_changed",
                "application_id": app.id,
                "from_status": old,
                "to_status": new,
                "occurred_at": at,
                "recorded_at": at,
                "data": json.dumps(
                    {"move": move, "previous_moved_at": previous and previous.isoformat()}
                ),
            }
            previous = at
    general = {a.id for a in plan if a.general}
    for row in ships:
        eid += 1
        yield {
            "id": eid,
            "kind": "created",
            "shipment_id": row["id"],
            "application_id": row["application_id"],
            "to_status": "planned",
            "occurred_at": row["created_at"],
            "recorded_at": row["created_at"],
            "data": "{}",
        }
        if row["application_id"] in general:
            eid += 1
            yield {
                "id": eid,
                "kind": "drawdown",
                "shipment_id": row["id"],
                "application_id": row["application_id"],
                "occurred_at": row["created_at"],
                "recorded_at": row["created_at"],
                "data": json.dumps(
                    {"quantity": str(row["quantity"]), "value": str(row["value"]), "unit": "kg"}
                ),
            }
        if row["status"] != "planned":
            at = row.get("last_moved_at") or row["created_at"]
            eid += 1
            yield {
                "id": eid,
                "kind": "status_changed",
                "shipment_id": row["id"],
                "application_id": row["application_id"],
                "from_status": "planned",
                "to_status": row["status"],
                "occurred_at": at,
                "recorded_at": at,
                "data": json.dumps({"move": "follow"}),
            }
