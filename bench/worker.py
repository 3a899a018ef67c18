"""One benchmark database's measuring process: `python -m bench.worker` with `BENCH_DATABASE`
set reads one JSON command per line on stdin and answers one JSON line on stdout.

The runner keeps one worker per database alive and alternates commands between them (and
between the product and its floor), so that both sizes and both implementations are measured
side by side under the same load of a shared machine.

Every measured operation runs inside a transaction that is rolled back afterwards: the event
log is append-only (its triggers refuse DELETE), so nothing is ever reset by deleting; the same
work recurs on every repetition because the database is left exactly as it was.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from urllib.parse import urlparse  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import floor, generate  # noqa: E402
from monitoring import scan  # noqa: E402


class Rollback(Exception):
    pass


def rolled_back(work: Callable[[], Any]) -> tuple[float, Any]:
    """Run `work` in a transaction that is rolled back; return (seconds, its result)."""
    result: Any = None
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = work()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed, result


def _summary(result: scan.ScanResult) -> dict[str, Any]:
    return {
        "raised": {k: len(r.raised) for k, r in result.kinds.items()},
        "cleared": {k: len(r.cleared) for k, r in result.kinds.items()},
        "alerts": result.alerts,
        "incremental": result.since is not None,
    }


def product_scan() -> dict[str, Any]:
    return _summary(scan.scan(now=generate.NOW, incremental=True))


def full_scan() -> dict[str, Any]:
    return _summary(scan.scan(now=generate.NOW))


def floor_statements() -> tuple[list[tuple[str, str]], dict[str, Any]]:
    since = scan.scanned_through()
    assert since is not None, "prepare first"
    th = scan.thresholds(now=generate.NOW)
    earlier = scan.thresholds(now=since - scan.OVERLAP)
    return floor.scan_statements(th, earlier)


def written_rows() -> dict[str, list]:
    """What a scan at NOW wrote, to compare the product with the floor."""
    now = generate.NOW
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, application_id, shipment_id, raised_at = %s, cleared_at = %s "
            "FROM monitoring_flag WHERE raised_at = %s OR cleared_at = %s ORDER BY 1, 2, 3, 4",
            [now, now, now, now],
        )
        flags = [list(r) for r in cursor.fetchall()]
        cursor.execute(
            "SELECT kind, application_id, shipment_id, data - 'flag_id' FROM licenses_event "
            "WHERE recorded_at = %s ORDER BY 1, 2, 3, 4::text",
            [now],
        )
        events = [[k, a, s, json.loads(d) if isinstance(d, str) else d] for k, a, s, d in cursor]
        cursor.execute(
            "SELECT f.kind, f.application_id, f.shipment_id, a.recipient, a.user_id, a.state, "
            "a.next_attempt_at, a.message_id = '<alert-' || a.id || '@' || %s || '>' "
            "FROM monitoring_alert a JOIN monitoring_flag f ON f.id = a.flag_id "
            "WHERE a.created_at = %s ORDER BY 1, 2, 3, 4",
            [urlparse(settings.SITE_URL).hostname or "localhost", now],
        )
        alerts = [[str(x) for x in r] for r in cursor.fetchall()]
    return {"flags": flags, "events": events, "alerts": alerts}


def command_prepare(_: dict) -> dict:
    """The baseline scan (committed, untimed): a database reused from an earlier build, or
    migrated since, gets its flags and the scan's watermark as of BASELINE."""
    started = time.perf_counter()
    result = scan.scan(now=generate.BASELINE, incremental=True)
    return {
        "seconds": time.perf_counter() - started,
        "summary": result.summary(),
        "since": str(scan.scanned_through()),
    }


VACUUMED = (
    "licenses_licenseapplication",
    "shipments_shipment",
    "shipments_filingdeadline",
    "monitoring_flag",
    "licenses_event",
    "licenses_eventchain",
    "monitoring_alert",
    "licenses_statustally",
    "monitoring_flagtally",
    "licenses_historytally",
    "monitoring_approvalmonth",
)


def command_vacuum(_: dict) -> dict:
    """VACUUM ANALYZE the tables the measurements write (untimed, between sections): each
    rolled-back repetition leaves dead row versions and index entries behind — the fast-track
    pass a hundred thousand of them — which autovacuum would clear in a live database but
    which would otherwise slow the next section's index scans."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"seconds": time.perf_counter() - started}


def command_scan_product(_: dict) -> dict:
    seconds, summary = rolled_back(product_scan)
    return {"seconds": seconds, "summary": summary}


def command_scan_full(_: dict) -> dict:
    seconds, summary = rolled_back(full_scan)
    return {"seconds": seconds, "summary": summary}


def command_scan_floor(_: dict) -> dict:
    statements, params = floor_statements()
    seconds, counts = rolled_back(lambda: floor.run_scan_floor(statements, params))
    return {"seconds": seconds, "summary": counts}


def command_scan_verify(_: dict) -> dict:
    """Run each once (rolled back) and compare every row they wrote."""
    product: dict[str, list] = rolled_back(lambda: (product_scan(), written_rows())[1])[1]
    statements, params = floor_statements()
    hand: dict[str, list] = rolled_back(
        lambda: (floor.run_scan_floor(statements, params), written_rows())[1]
    )[1]
    same = {name: product[name] == hand[name] for name in product}
    return {
        "same": same,
        "counts": {name: len(rows) for name, rows in product.items()},
        "floor_counts": {name: len(rows) for name, rows in hand.items()},
        "first_difference": {
            name: next(
                ([p, h] for p, h in zip(product[name], hand[name], strict=False) if p != h),
                None,
            )
            for name in product
            if not same[name]
        },
    }


BIG_TABLES = ("licenses_licenseapplication", "shipments_shipment")


def _explain(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def command_scan_explain(_: dict) -> dict:
    """The plan of every statement of the product's scan (and of the floor) that reads the
    applications or shipments."""

    def capture() -> list[dict]:
        with CaptureQueriesContext(connection) as captured:
            product_scan()
        plans = []
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "WITH")):
                continue
            if not any(t in sql for t in BIG_TABLES):
                continue
            plans.append({"sql": sql, "plan": _explain(sql, None)})
        return plans

    product = rolled_back(capture)[1]
    statements, params = floor_statements()
    hand = [{"sql": name, "plan": _explain(sql, params)} for name, sql in statements]
    queries = rolled_back(lambda: _count_queries(product_scan))[1]
    return {"product": product, "floor": hand, "queries": queries}


def _count_queries(work: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured.captured_queries)


def command_counts(_: dict) -> dict:
    tables = {
        "exporters": "licenses_exporter",
        "applications": "licenses_licenseapplication",
        "shipments": "shipments_shipment",
        "events": "licenses_event",
        "flags": "monitoring_flag",
        "open flags": "monitoring_flag WHERE cleared_at IS NULL",
        "alerts": "monitoring_alert",
        "pending applications": "licenses_licenseapplication "
        "WHERE status IN ('submitted', 'accepted', 'info_requested')",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[name] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        out["database bytes"] = cursor.fetchone()[0]
    return out


def _officer() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bench-officer")


def command_session(_: dict) -> dict:
    """A signed-in session of the officer (for the dashboard over HTTP), and how many queries
    one dashboard costs (the test client, same settings)."""
    import time_machine
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from bench import web

    session_key = web.sessions(1)[0]
    client = Client(HTTP_HOST="localhost")
    client.cookies["sessionid"] = session_key
    counts = []
    cache.clear()
    # One instant for both requests: the cache key holds the minute, which must not turn
    # between them.
    with time_machine.travel(timezone.now(), tick=False):
        for _round in range(2):  # afresh, then cached
            with CaptureQueriesContext(connection) as captured:
                response = client.get("/")
            assert response.status_code == 200, response.status_code
            counts.append(len(captured.captured_queries))
    return {"sessionid": session_key, "dashboard_queries": f"{counts[1]} / {counts[0]}"}


def command_dashboard_cold(request: dict) -> dict:
    """The dashboard computed afresh (its cache emptied before each request), as the first
    request after a change pays: the test client in this process, same settings."""
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(_officer())
    seconds = []
    for _ in range(int(request.get("reps", 5))):
        cache.clear()
        started = time.perf_counter()
        response = client.get("/")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200
    return {"seconds": seconds}


def command_api_info(_: dict) -> dict:
    from bench import web

    return web.api_info()


def command_load_info(_: dict) -> dict:
    from bench import web

    return web.load_info()


def command_sessions(request: dict) -> dict:
    from bench import web

    return {"sessions": web.sessions(int(request["n"]))}


def command_end_sessions(request: dict) -> dict:
    from bench import web

    return {"deleted": web.end_sessions(list(request["sessions"]))}


def command_fold_tallies(_: dict) -> dict:
    """Fold the status and flag tallies, as the periodic scan does every minute."""
    from django.utils import timezone

    from licenses import tallies
    from monitoring import flag_tallies

    return {"folded": tallies.compact() + flag_tallies.compact(now=timezone.now())}


def command_load_cleanup(request: dict) -> dict:
    from bench import web

    cancelled, created = web.load_cleanup(str(request["run"]))
    return {"cancelled": cancelled, "created": created}


def command_fasttrack_info(_: dict) -> dict:
    from bench import fasttrack

    return fasttrack.info()


def command_fasttrack_product(_: dict) -> dict:
    from bench import fasttrack

    _elapsed, summary = rolled_back(fasttrack.product)
    # the pass alone: the file-by follow-up it queues is timed apart (`file_by_seconds`)
    return {"seconds": summary["seconds"], "summary": summary}


def command_fasttrack_floor(_: dict) -> dict:
    from bench import fasttrack

    prepared = fasttrack.prepare_floor()
    seconds, summary = rolled_back(lambda: fasttrack.floor(prepared))
    return {"seconds": seconds, "summary": summary}


def command_forecasts_product(_: dict) -> dict:
    from bench import forecasts

    _elapsed, summary = rolled_back(forecasts.product)
    return {"seconds": summary["seconds"], "summary": summary}


def command_forecasts_floor(_: dict) -> dict:
    from bench import forecasts

    _elapsed, summary = rolled_back(forecasts.floor)
    return {"seconds": summary["seconds"], "summary": summary}


COMMANDS: dict[str, Callable[[dict], dict]] = {
    name.removeprefix("command_"): fn
    for name, fn in globals().items()
    if name.startswith("command_") and callable(fn)
}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = COMMANDS[request["command"]](request)
        except Exception as exc:  # reported to the runner, which stops
            import traceback

            answer = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
