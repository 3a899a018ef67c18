"""Recomputing every forecast, at scale: the product's pass against a floor.

`product()` is `licenses.services.forecasts.forecasts_refresh(now)` over every authority: it
reads each authority's started applications and their pauses, counts durations, estimates the
curves, writes the rows whose forecast differs (every one, on a database built without
forecasts), and announces them, so that the `likely_late` flags are raised (with their
events).

`floor()` does the same writes by hand: one raw SQL read of the same inputs per authority (the
first item by a correlated MIN), one of the pauses, the same pure computation
(`licenses.forecasts`, which the floor cannot do without: the estimate is the work), then one
`UPDATE … FROM unnest(…)` per authority, and one INSERT … SELECT of the `likely_late` flags with
their `flag_raised` events. Both run inside a transaction the worker rolls back.

`python -m bench.forecasts` with `BENCH_DATABASE` set runs both once each, alternating, and
prints their times and rows written; `make bench` runs them in its worker (`forecasts_*`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import defaultdict
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.db import connection  # noqa: E402

from licenses.calendars import add_days  # noqa: E402
from licenses.clock import calendar_for, local_date  # noqa: E402
from licenses.events import flag_source, linked_insert  # noqa: E402
from licenses.forecasts import choose_level, conditional_quantiles, elapsed, kaplan_meier  # noqa: E402
from licenses.models import Authority, ClockStart, LicenseApplication  # noqa: E402
from licenses.services.forecasts import forecasts_refresh  # noqa: E402
from monitoring.models import Flag  # noqa: E402

from . import floor as floors  # noqa: E402
from . import generate  # noqa: E402

PENDING = floors.PENDING


def info() -> dict[str, Any]:
    return {
        "applications": LicenseApplication.objects.count(),
        "started": LicenseApplication.objects.filter(submitted_at__isnull=False).count(),
    }


def _written() -> dict[str, int]:
    return {
        "forecasts": LicenseApplication.objects.filter(history_units__isnull=False).count(),
        "with_p50": LicenseApplication.objects.filter(forecast_p50__isnull=False).count(),
        "likely_late": Flag.objects.filter(kind="likely_late", cleared_at__isnull=True).count(),
    }


def product() -> dict[str, Any]:
    started = time.perf_counter()
    changed = forecasts_refresh(now=generate.NOW)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "changed": len(changed), "written": _written()}


READ = """
SELECT a.id, a.status, a.submitted_at, a.accepted_at, a.decided_at, a.last_moved_at,
       a.destination,
       (SELECT min(ai.controlleditem_id) FROM licenses_licenseapplication_items ai
        WHERE ai.licenseapplication_id = a.id)
FROM licenses_licenseapplication a
WHERE a.authority_id = %s AND a.status <> 'draft' AND a.{started} IS NOT NULL
"""
PAUSES = """
SELECT p.application_id, p.requested_at, p.provided_at
FROM licenses_clockpause p JOIN licenses_licenseapplication a ON a.id = p.application_id
WHERE a.authority_id = %s
"""
WRITE = """
UPDATE licenses_licenseapplication a SET
  forecast_p50 = v.p50, forecast_p90 = v.p90, forecast_level = v.level,
  forecast_decided = v.decided, forecast_censored = v.censored, history_units = v.units
FROM unnest(%s::integer[], %s::date[], %s::date[], %s::varchar[], %s::integer[],
            %s::integer[], %s::integer[]) AS v(id, p50, p90, level, decided, censored, units)
WHERE a.id = v.id
"""
_LIKELY_LATE_EVENTS = flag_source(
    "flag_raised",
    "shipment_id",
    subject_id="r.subject",
    moment="%(now)s",
    data="jsonb_build_object('flag', 'likely_late', 'flag_id', r.id, "
    "'planned_ship_date', to_char(d.planned_ship_date, 'YYYY-MM-DD'), "
    "'application_id', d.application_id, "
    "'application_forecast_p50', to_char(d.forecast_p50, 'YYYY-MM-DD'))",
    ord="r.id",
)
LIKELY_LATE = f"""
WITH due AS (
  SELECT s.id, s.exporter_id, s.planned_ship_date, s.application_id, a.forecast_p50
  FROM shipments_shipment s JOIN licenses_licenseapplication a ON a.id = s.application_id
  WHERE s.status IN ('planned', 'awaiting_license', 'cleared') AND a.status IN {PENDING}
    AND a.forecast_p50 > s.planned_ship_date
    AND NOT EXISTS (SELECT 1 FROM monitoring_flag f WHERE f.shipment_id = s.id
                    AND f.kind = 'likely_late' AND f.cleared_at IS NULL)
),
raised AS (
  INSERT INTO monitoring_flag (shipment_id, exporter_id, kind, raised_at)
  SELECT id, exporter_id, 'likely_late', %(now)s FROM due ORDER BY id
  ON CONFLICT DO NOTHING
  RETURNING id, shipment_id AS subject
),
ev_source AS (
  SELECT {_LIKELY_LATE_EVENTS}
  FROM raised r JOIN due d ON d.id = r.subject
),
{linked_insert("ev_source")}
SELECT count(*) FROM ev
"""


def _authority_floor(authority: Authority, now: dt.datetime, cursor: Any) -> int:
    tz = authority.tz
    today = local_date(now, tz)
    calendar = calendar_for(authority)
    unit = authority.window_unit
    at_acceptance = authority.clock_starts == ClockStart.ACCEPTED
    cursor.execute(
        READ.format(started="accepted_at" if at_acceptance else "submitted_at"), [authority.pk]
    )
    rows = cursor.fetchall()
    cursor.execute(PAUSES, [authority.pk])
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for app_id, requested, provided in cursor.fetchall():
        pauses[app_id].append((requested, provided))
    records = []
    for pk, status, submitted, accepted, decided_at, moved, destination, item in rows:
        start_at = accepted if at_acceptance else submitted
        local = [
            (local_date(a, tz), local_date(b, tz) if b else None)
            for a, b in pauses.get(pk, ())
            if a >= (submitted or start_at)
        ]
        if decided_at is not None:
            end = local_date(decided_at, tz)
        elif status in ("submitted", "accepted", "info_requested", "referred"):
            end = today
        elif status in ("withdrawn", "returned"):
            end = local_date(moved, tz)
        else:
            continue
        start = local_date(start_at, tz)
        units = elapsed(calendar=calendar, start=start, end=end, unit=unit, pauses=local)
        records.append((pk, status, start, local, item, destination, units, decided_at is not None))
    members: dict[tuple, list] = defaultdict(list)
    for r in records:
        members[("destination", r[4], r[5])].append(r)
        members[("item", r[4])].append(r)
        members[("authority",)].append(r)
    decided = {k: sum(1 for r in v if r[7]) for k, v in members.items()}
    curves: dict[tuple, Any] = {}
    out: list[list[Any]] = [[], [], [], [], [], [], []]
    for pk, status, start, local, item, destination, units, _is_event in records:
        keys = {
            "destination": ("destination", item, destination),
            "item": ("item", item),
            "authority": ("authority",),
        }
        level = choose_level({lvl: decided[key] for lvl, key in keys.items()})
        running = status in ("submitted", "accepted") and all(b is not None for _a, b in local)
        p50 = p90 = None
        n_decided = n_censored = None
        if running and level is not None:
            key = keys[level]
            if key not in curves:
                curves[key] = kaplan_meier((r[6], r[7]) for r in members[key])
            curve = curves[key]
            q50, q90 = conditional_quantiles(curve, units)
            p50 = (
                add_days(calendar=calendar, start=start, n=q50, unit=unit, pauses=local)
                if (q50 is not None)
                else None
            )
            p90 = (
                add_days(calendar=calendar, start=start, n=q90, unit=unit, pauses=local)
                if (q90 is not None)
                else None
            )
            n_decided, n_censored = curve.decided, curve.censored
        else:
            level = None
        for column, value in zip(
            out, (pk, p50, p90, level or "", n_decided, n_censored, units), strict=True
        ):
            column.append(value)
    cursor.execute(WRITE, out)
    return cursor.rowcount


def floor() -> dict[str, Any]:
    started = time.perf_counter()
    written = 0
    with connection.cursor() as cursor:
        for authority in Authority.objects.order_by("pk"):
            written += _authority_floor(authority, generate.NOW, cursor)
        cursor.execute(LIKELY_LATE, {"now": generate.NOW})
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "changed": written, "written": _written()}


def main() -> None:
    import argparse
    import statistics

    from bench.worker import rolled_back

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    print(info())
    timings: dict[str, list[float]] = {"product": [], "floor": []}
    written: dict[str, Any] = {}
    for rep in range(args.reps):
        for which in ("product", "floor") if rep % 2 == 0 else ("floor", "product"):
            _seconds, result = rolled_back(product if which == "product" else floor)
            timings[which].append(result["seconds"])
            written[which] = result["written"]
            print(f"{rep + 1} {which}: {result['seconds']:.2f} s, {result['written']}")
    p, f = statistics.median(timings["product"]), statistics.median(timings["floor"])
    print(
        f"median product {p:.2f} s, floor {f:.2f} s, ratio {p / f:.2f}x; same rows:"
        f" {written['product'] == written['floor']}"
    )


if __name__ == "__main__":
    main()
