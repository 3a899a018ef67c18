"""Flags follow a decision straight away: the scan's receiver of `due_dates_changed`
re-evaluates the applications whose due date moved, inside the same transaction."""

from __future__ import annotations

import pytest

from licenses.fasttrack import decision_revoke
from licenses.rules import rule_create
from monitoring.models import Flag

from ...factories import authority
from ...helpers import NOW
from .builders import log, pending

pytestmark = pytest.mark.django_db


def overdue(app) -> bool:
    return Flag.objects.filter(application=app, kind="overdue", cleared_at__isnull=True).exists()


@pytest.fixture
def on_time_and_late(manager):
    # due on 3 December: on time on 29 November
    on_time = pending(destination="US")
    # 30 working days for Germany: accepted on 12 October, due on 23 November, overdue now
    late = pending(destination="DE", accepted_on="2026-10-12")
    rule_create(authority=authority(), destination="DE", window_days=30, actor=manager, now=NOW)
    assert overdue(late) and not overdue(on_time)
    return on_time, late


def test_a_decision_clears_one_overdue_flag_and_raises_another_at_once(on_time_and_late, manager):
    on_time, late = on_time_and_late

    decision = log(window_days=40, actor=manager)  # 40 working days for everything

    on_time.refresh_from_db()
    late.refresh_from_db()
    assert on_time.due_at < NOW and late.due_at > NOW  # 26 November and 7 December
    assert overdue(on_time)
    assert not overdue(late)
    latest = Flag.objects.filter(application=late, kind="overdue").order_by("-id").first()
    assert latest is not None and latest.cleared_at == NOW
    assert decision.affected_count == 2


def test_revoking_the_decision_puts_the_flags_back(on_time_and_late, manager):
    on_time, late = on_time_and_late
    decision = log(window_days=40, actor=manager)
    raised_before = Flag.objects.filter(application=late, kind="overdue").count()

    decision_revoke(decision=decision, actor=manager, now=NOW)

    assert not overdue(on_time)
    assert overdue(late)  # raised again: a new flag for a new cause
    assert Flag.objects.filter(application=late, kind="overdue").count() == raised_before + 1


def test_a_decision_that_begins_with_the_daily_job_moves_flags_too(on_time_and_late, manager):
    from licenses.fasttrack import decisions_daily

    from ...helpers import at

    on_time, late = on_time_and_late
    log(window_days=40, announced_on="2026-11-28", effective_from="2026-11-30", actor=manager)
    assert overdue(late) and not overdue(on_time)
    decisions_daily(now=at("2026-11-30", 0))  # its first day has just begun in Beijing
    assert overdue(on_time) and not overdue(late)


def test_the_last_day_to_file_a_shipment_follows_a_decision_and_its_revocation(manager, ganzhou):
    import datetime as dt

    from ...factories import ShipmentFactory

    goods = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 15))
    assert goods.file_by_date == dt.date(2026, 9, 22)  # 45 + 10 working days back

    decision = log(window_days=20, actor=manager)
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 11, 3)  # 20 + 10

    decision_revoke(decision=decision, actor=manager, now=NOW)
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 9, 22)


def test_the_last_day_to_file_follows_a_retired_rule(manager, ganzhou):
    import datetime as dt

    from licenses.rules import rule_retire

    from ...factories import ShipmentFactory

    goods = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 15))
    rule = rule_create(authority=authority(), window_days=20, actor=manager, now=NOW)
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 11, 3)
    rule_retire(rule=rule, actor=manager, now=NOW)
    goods.refresh_from_db()
    assert goods.file_by_date == dt.date(2026, 9, 22)
