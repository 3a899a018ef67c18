"""The benchmark at about 10,000 shipments, inside `make test`, so that it cannot rot: the
generator builds its book, the measured scan does exactly the arranged work as the floor does
(row for row), the periodic scan reads through indexes, and the query counts of the scan, the
digest, the dashboard and the API list hold. (`make bench` runs the same code at 1,000,000.)"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import build, floor, generate, web, worker
from monitoring import alerts, scan

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.urls("bench.urls")]

SHIPMENTS = 10_000
SEQ_SCAN = re.compile(r"Seq Scan on (licenses_licenseapplication|shipments_shipment)\b")


@pytest.fixture(scope="module", autouse=True)
def _no_bloat_left_behind(django_db_blocker):
    """Each test writes and rolls back 10,000 shipments and their book, and ANALYZE (run by the
    generator) updates the tables' size estimates in place, which the rollback does not undo:
    give the tables back as found (empty, no pages, no estimates) so that the query plans of
    later tests (tests/monitoring/test_explain.py) are the ones they expect."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for table in worker.VACUUMED:
            cursor.execute(f"VACUUM FULL {table}")


@pytest.fixture
def book(db):
    counts = generate.generate(shipments=SHIPMENTS)
    build.create_users()
    scan.scan(now=generate.BASELINE, incremental=True)  # the baseline: the whole backlog
    return counts


def test_the_generator_builds_the_shape_it_promises(book):
    assert book["shipments"] == SHIPMENTS
    assert book["exporters"] == 20
    assert book["newly_due"] == book["pending"] // 100 > 0
    assert book["pauses"] > 0  # information requests have their open clock pause
    assert scan.scanned_through() == generate.BASELINE


def test_the_measured_scan_does_the_arranged_work_and_the_floor_the_same(book):
    k = book["newly_due"]
    summary = worker.rolled_back(worker.product_scan)[1]
    assert summary["incremental"]
    assert summary["raised"] == {
        "overdue": k,
        "due_soon": 0,
        "expiring": 0,
        "reply_due": 0,
        "file_by": 0,
    }
    assert summary["cleared"] == {
        "overdue": 0,
        "due_soon": k,
        "expiring": 0,
        "reply_due": 0,
        "file_by": 0,
    }
    assert summary["alerts"] == 2 * k  # the exporter's contact and the officer
    verdict = worker.command_scan_verify({})
    assert verdict["same"] == {"flags": True, "events": True, "alerts": True}, verdict


def test_the_periodic_scan_reads_through_indexes_with_few_queries(book):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    answer = worker.command_scan_explain({})
    seq = [p["sql"] for p in answer["product"] if SEQ_SCAN.search(p["plan"])]
    assert seq == []
    assert answer["queries"] <= 40
    statements, _params = worker.floor_statements()
    assert len(statements) == len(floor.scan_statements(*_thresholds())[0]) >= 6


def _thresholds():
    since = scan.scanned_through()
    return scan.thresholds(now=generate.NOW), scan.thresholds(now=since - scan.OVERLAP)


def test_the_digest_job_counts_in_sql_and_loads_only_what_it_lists(book):
    def run():
        with CaptureQueriesContext(connection) as captured:
            sent = alerts.send_digests(now=generate.NOW)
        return sent, captured.captured_queries

    sent, queries = worker.rolled_back(run)[1]
    assert sent == 10
    flag_reads = [q["sql"] for q in queries if 'FROM "monitoring_flag"' in q["sql"]]
    assert all("COUNT(*)" in sql or "LIMIT 300" in sql for sql in flag_reads)


def test_the_dashboard_and_its_cached_reload_hold_their_query_counts(book):
    cache.clear()
    answer = worker.command_session({})
    cached, afresh = (int(n) for n in answer["dashboard_queries"].split(" / "))
    # a constant: 25, and the approval times' transaction for their SET LOCAL work_mem (its
    # savepoint, the SET and the release, in a test's transaction)
    assert afresh <= 28
    assert cached <= 8


def test_the_api_list_and_the_plain_view_serve_the_same_rows_with_few_queries(book):
    info = web.api_info()
    assert info["rows"] == [50, 50]
    # 8, and the measure registry read once per page for `measures` (measures, their
    # suspensions, their items): a constant, whatever the page size.
    assert info["queries"] <= 8 + 3
    assert info["plain_queries"] <= 6
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {build.OFFICER_TOKEN}")
    api = [r["id"] for r in client.get(web.API_PATH).json()["results"]]
    plain = [r["id"] for r in client.get(web.PLAIN_PATH).json()["results"]]
    assert api == plain


def test_the_fast_track_pass_and_its_floor_write_the_same_rows(book, settings):
    settings.FAST_TRACK_INLINE_LIMIT = 100  # queued, as at 1,000,000: the Celery task's path
    info = worker.command_fasttrack_info({})
    assert info["pending"] > 500
    product = worker.command_fasttrack_product({})
    written = product["summary"]["written"]
    assert product["summary"]["moved"] is not None  # the task's function ran the pass
    assert product["summary"]["progress"] == [info["pending"], info["pending"]]
    assert written["due_date_events"] > 0 and written["flags_raised"] > 0
    assert written["alerts"] > 0 and written["flags_cleared"] > 0
    assert product["summary"]["file_by_changed"] > 0  # the follow-up task moved deadlines
    floor_answer = worker.command_fasttrack_floor({})
    assert floor_answer["summary"]["written"] == written
    assert floor_answer["summary"]["updated"] == info["pending"]


def test_the_forecast_pass_and_its_floor_write_the_same_values(book):
    from bench import forecasts
    from licenses.models import LicenseApplication
    from monitoring.models import Flag

    def snapshot(work):
        def run():
            result = work()
            rows = sorted(
                LicenseApplication.objects.filter(history_units__isnull=False).values_list(
                    "pk", "forecast_p50", "forecast_p90", "forecast_level", "forecast_decided",
                    "forecast_censored", "history_units",
                )
            )  # fmt: skip
            late = sorted(
                Flag.objects.filter(kind="likely_late", cleared_at=None).values_list(
                    "shipment_id", flat=True
                )
            )
            return result, rows, late

        return worker.rolled_back(run)[1]

    product, product_rows, product_late = snapshot(forecasts.product)
    floor_answer, floor_rows, floor_late = snapshot(forecasts.floor)
    assert product_rows == floor_rows
    assert product_late == floor_late
    assert product["written"] == floor_answer["written"]
    assert product["written"]["with_p50"] > 100 and product["written"]["likely_late"] > 0
