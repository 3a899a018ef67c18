"""A measure's suspension ending, at scale: `BENCH_DATABASE=bench_1m python -m bench.measure_change
[--items 3A001,1C011]` on a database built by `bench.build`.

Logs a `control` measure on the given items (BIS items that no seeded measure names) suspended
for two years, so that none of their shipments needs a license; ends the suspension in 60
days, so that the shipments planned after it need one again (states, file-by deadlines,
`control_change` flags with their events and alerts); then takes the end back. Each step goes
through the measure services, with the set-based re-evaluation they announce, and prints its
time and number of queries. Everything runs in one transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", default="3A001,1C011", help="item codes, comma-separated")
    args = parser.parse_args()
    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from licenses.models import ControlledItem
    from licenses.services.measures import measure_create, measure_update
    from shipments.models import Shipment

    from . import generate

    now = generate.NOW
    items = list(ControlledItem.objects.filter(code__in=args.items.split(",")))
    authority = items[0].authority
    today = now.astimezone(authority.tz).date()
    scope = Shipment.objects.filter(
        item__in=items, status__in=["planned", "awaiting_license", "cleared", "on_hold"]
    )
    open_changes = Shipment.objects.filter(
        flags__kind="control_change", flags__cleared_at__isnull=True
    )
    print(f"shipments of {args.items} before shipping: {scope.count()}")

    def step(label: str, work: Callable[[], Any]) -> Any:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = work()
            elapsed = time.perf_counter() - started
        print(f"{label}: {elapsed:.2f} s, {len(captured.captured_queries)} queries")
        return result

    def suspension(until_days: int) -> list[dict[str, str]]:
        return [
            {
                "from": (today - dt.timedelta(days=30)).isoformat(),
                "until": (today + dt.timedelta(days=until_days)).isoformat(),
                "reference": "Bench suspension",
            }
        ]

    try:
        with transaction.atomic():
            measure = step(
                "log the measure, suspended for two years",
                lambda: measure_create(
                    authority=authority,
                    reference="Bench measure",
                    title="Bench measure",
                    kind="control",
                    announced_on=today - dt.timedelta(days=400),
                    effective_from=today - dt.timedelta(days=365),
                    suspensions=suspension(700),
                    items=items,
                    actor=None,
                    now=now,
                ),
            )
            print(f"  needing no license: {scope.filter(license_required=False).count()}")
            step(
                "end the suspension in 60 days",
                lambda: measure_update(
                    measure=measure, actor=None, now=now, suspensions=suspension(60)
                ),
            )
            print(
                f"  needing a license: {scope.filter(license_required=True).count()}, "
                f"control_change open: {open_changes.count()}"
            )
            step(
                "take the end back",
                lambda: measure_update(
                    measure=measure, actor=None, now=now, suspensions=suspension(700)
                ),
            )
            print(f"  control_change open: {open_changes.count()}")
            raise _Rollback
    except _Rollback:
        print("rolled back")


if __name__ == "__main__":
    main()
