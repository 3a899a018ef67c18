"""The scan finds what is due through indexes built for it: on 10,000 applications and their
shipments, after ANALYZE, no query of the scan reads either table sequentially."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses.models import LicenseApplication
from monitoring import scan
from monitoring.models import Flag
from shipments.models import Shipment

from . import bulk

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOW = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)
BIG_TABLES = ("licenses_licenseapplication", "shipments_shipment")
SEQ_SCAN = re.compile(r"Seq Scan on (licenses_licenseapplication|shipments_shipment)\b")


def plans_of(queries: list[dict]) -> list[tuple[str, str]]:
    """EXPLAIN (without running) every statement that touches the big tables."""
    out = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            verbs = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
            if not sql.lstrip().upper().startswith(verbs):
                continue
            if not any(table in sql for table in BIG_TABLES):
                continue
            cursor.execute("EXPLAIN " + sql)
            out.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return out


@pytest.fixture
def ten_thousand(db):
    counts = bulk.load(10_000, now=NOW)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def assert_no_sequential_scan(queries: list[dict]) -> int:
    plans = plans_of(queries)
    offending = [(sql, plan) for sql, plan in plans if SEQ_SCAN.search(plan)]
    assert not offending, "\n\n".join(f"{sql}\n{plan}" for sql, plan in offending)
    return len(plans)


def test_no_query_of_the_scan_reads_the_applications_or_shipments_sequentially(ten_thousand):
    assert LicenseApplication.objects.count() >= 10_000
    with CaptureQueriesContext(connection) as captured:
        result = scan.scan(now=NOW)
    # The book has work of every kind: the first scan raises its whole backlog.
    assert set(result.kinds) == set(scan.KINDS)
    raised = {k for k in result.kinds if result.kinds[k].raised}
    assert raised >= {
        "overdue",
        "due_soon",
        "expiring",
        "reply_due",
        "at_risk",
        "file_by",
        "control_change",
    }
    assert assert_no_sequential_scan(captured.captured_queries) >= 10

    # A day later some causes have gone and new ones have come: raises and clears.
    with CaptureQueriesContext(connection) as captured:
        later = scan.scan(now=NOW + dt.timedelta(days=1))
    assert later.raised and later.cleared
    assert_no_sequential_scan(captured.captured_queries)

    # And each kind's read and clear on its own, with flags to clear.
    th = scan.thresholds(now=NOW + dt.timedelta(days=3))
    with connection.cursor() as cursor:
        for kind in scan.KINDS:
            try:
                statements = {
                    "read": scan.candidates_query(kind, th).query.sql_with_params(),
                    "clear": scan.clear_statement(kind, th),
                }
            except EmptyResultSet:  # a kind whose condition matches nothing yet
                continue
            for name, (sql, params) in statements.items():
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert not SEQ_SCAN.search(plan), f"{kind} {name}:\n{plan}"


def test_re_evaluating_one_application_reads_by_key(ten_thousand):
    app = LicenseApplication.objects.filter(status="accepted").order_by("pk").first()
    with CaptureQueriesContext(connection) as captured:
        scan.evaluate(now=NOW, application_ids=[app.pk])  # raises what it needs
    assert_no_sequential_scan(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        scan.evaluate(now=NOW, application_ids=[app.pk])  # nothing to change
    assert_no_sequential_scan(captured.captured_queries)
    assert len(captured.captured_queries) <= 7


def test_the_daily_expiry_finds_licenses_past_their_validity_by_index(ten_thousand):
    # Licenses that ran out yesterday and that the daily job has not seen yet.
    stale = list(
        LicenseApplication.objects.filter(status="approved")
        .order_by("pk")[:5]
        .values_list("pk", flat=True)
    )
    LicenseApplication.objects.filter(pk__in=stale).update(valid_until=dt.date(2026, 11, 27))
    with CaptureQueriesContext(connection) as captured:
        expired = scan.expire_licenses(now=NOW)
    assert sorted(expired) == sorted(stale)
    first_query = plans_of(captured.captured_queries)[0]
    assert "application_approved_valid" in first_query[1]
    assert not Shipment.objects.filter(application_id__in=stale, status="cleared").exists()
    assert not Flag.objects.filter(application_id__in=stale, cleared_at__isnull=True).exists()
