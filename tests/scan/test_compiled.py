"""The scan's statements are compiled once per shape and reused with the real instants and
days: a reused statement is exactly the statement compiled afresh."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from monitoring import scan

from ..helpers import SHANGHAI

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)


def builders(kind):
    def raise_sql(th, scope):
        return scan.recorded_raise_statement(kind, th, scope=scope)

    def clear_sql(th, scope):
        return scan.recorded_clear_statement(
            kind, scan.clear_statement(kind, th, scope=scope), now=th.now
        )

    return {"raise": raise_sql, "clear": clear_sql}


def moments():
    """Periodic scans every 50 minutes over four days (local midnights, weekends and the
    horizons of all three authorities turning), then a full scan."""
    for step in range(4 * 24 * 60 // 50):
        now = START + dt.timedelta(minutes=50 * step)
        th = scan.thresholds(now=now)
        yield th, scan.time_scopes(th, scan.thresholds(now=now - dt.timedelta(minutes=50)))
    th = scan.thresholds(now=START)
    yield th, dict.fromkeys(scan.KINDS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the recorded statements")
def test_a_reused_statement_is_the_statement_compiled_afresh():
    scan._COMPILED.clear()
    calls = 0
    for th, scopes in moments():
        for kind, scope in scopes.items():
            for name, build in builders(kind).items():
                assert scan._compiled(name, kind, th, scope, build=build) == build(th, scope)
                calls += 1
    assert 0 < len(scan._COMPILED) < calls / 10  # reused, not compiled at every call


def test_a_statement_whose_sql_depends_on_a_value_is_not_reused():
    th = scan.thresholds(now=START)

    def inlined(th, scope):
        return f"SELECT '{th.now.isoformat()}'::timestamptz", ()

    scan._COMPILED.clear()
    first = scan._compiled("inlined", "overdue", th, None, build=inlined)
    later = scan.thresholds(now=START + dt.timedelta(minutes=5))
    assert scan._compiled("inlined", "overdue", later, None, build=inlined) == inlined(later, None)
    assert first == inlined(th, None)
    assert not scan._COMPILED
