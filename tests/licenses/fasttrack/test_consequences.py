"""What logging a decision sets off at once — due dates moved, flags raised and cleared,
e-mails queued — found by logging it in a savepoint that is rolled back: exactly what logging
it then does, and nothing left behind."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection, transaction

from licenses import consequences
from licenses.fasttrack import decision_consequences
from licenses.models import Event, EventKind, FastTrackDecision, LicenseApplication
from monitoring import scan
from monitoring.models import Alert, Flag
from shipments.models import Shipment

from ...factories import ExporterFactory, ShipmentFactory, authority, item
from ...helpers import NOW
from .builders import D, log, pending

pytestmark = pytest.mark.django_db

FACTS = {
    "announced_on": "2026-10-30",
    "effective_from": "2026-11-01",
    "source": "Ministerial trade talks, MOFCOM press release",
}


def consequences_of(*, window_days, actor, items=(), exporters=(), now=NOW, **overrides):
    facts = {**FACTS, **overrides}
    return decision_consequences(
        authority=authority(),
        announced_on=D(facts["announced_on"]),
        source=facts["source"],
        window_days=window_days,
        effective_from=D(facts["effective_from"]),
        effective_until=D(facts["effective_until"]) if facts.get("effective_until") else None,
        items=[item(c) for c in items],
        exporters=exporters,
        actor=actor,
        now=now,
    )


def snapshot():
    """Every row a log could write or change."""
    return (
        Event.objects.count(),
        Flag.objects.count(),
        Flag.objects.filter(cleared_at__isnull=True).count(),
        Alert.objects.count(),
        FastTrackDecision.objects.count(),
        sorted(LicenseApplication.objects.values_list("pk", "due_at")),
        sorted(Shipment.objects.values_list("pk", "deadline__file_by_date")),
    )


@pytest.fixture
def book(officer):
    """Two exporters' pending MOFCOM applications (accepted on different days) with shipments.
    The officer gets every alert by default; each exporter has one contact address."""
    north, south = ExporterFactory(), ExporterFactory()
    apps = {
        # due 3 December (due soon); with 40 days 26 November: overdue at once
        "late": pending(exporter=north, accepted_on="2026-09-24"),
        # due 4 December (due soon); with 40 days 27 November: overdue at once
        "soon": pending(exporter=north, accepted_on="2026-09-28"),
        # accepted 2 November: due 8 January; with 40 days 31 December
        # accepted 9 October: due 10 December; with 40 days 3 December: due soon at once
        "coming": pending(exporter=south, accepted_on="2026-10-09"),
        # accepted 2 November: due 5 January; with 40 days 28 December
        "far": pending(exporter=south, accepted_on="2026-11-02"),
    }
    # planned before its due date moves back: at risk now, not with 40 days
    ShipmentFactory(
        exporter=south,
        application=apps["far"],
        status="awaiting_license",
        planned_ship_date=dt.date(2027, 1, 4),
    )
    # planned well after: never at risk
    ShipmentFactory(
        exporter=north,
        application=apps["soon"],
        status="awaiting_license",
        planned_ship_date=dt.date(2027, 3, 1),
    )
    scan.scan(now=NOW)
    return apps


def what_logging_did(decision, *, marker, open_before):
    moves = Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    changes = [e.data["change_days"] for e in moves]
    raised = Counter(
        Flag.objects.filter(raised_at=NOW, pk__gt=marker).values_list("kind", flat=True)
    )
    cleared = Counter(
        Flag.objects.filter(pk__in=open_before, cleared_at__isnull=False).values_list(
            "kind", flat=True
        )
    )
    alerts = Alert.objects.filter(flag__raised_at=NOW, flag__pk__gt=marker)
    return {
        "moved": moves.count(),
        "earlier": sum(1 for c in changes if c < 0),
        "later": sum(1 for c in changes if c > 0),
        "raised": dict(raised),
        "cleared": dict(cleared),
        "emails": alerts.count(),
        "recipients": len({a.lower() for a in alerts.values_list("recipient", flat=True)}),
    }


def seen(result):
    return {
        "moved": result.moved,
        "earlier": result.earlier,
        "later": result.later,
        "raised": result.raised,
        "cleared": result.cleared,
        "emails": result.emails,
        "recipients": result.recipients,
    }


def logged(*, window_days, actor, **kwargs):
    """Log for real; what it raised, cleared and queued."""
    marker = Flag.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    open_before = list(Flag.objects.filter(cleared_at__isnull=True).values_list("pk", flat=True))
    decision = log(window_days=window_days, actor=actor, **kwargs)
    return what_logging_did(decision, marker=marker, open_before=open_before)


def test_the_consequences_are_exactly_what_logging_then_does(book, manager):
    result = consequences_of(window_days=40, actor=manager)

    assert seen(result) == logged(window_days=40, actor=manager)
    assert (result.moved, result.earlier, result.later) == (4, 4, 0)
    assert (result.overdue, result.due_soon) == (2, 1)
    assert (result.at_risk, result.no_longer_at_risk) == (0, 1)
    assert result.cleared == {"due_soon": 2, "at_risk": 1}
    # of those only `overdue` is e-mailed at once: two flags, to the officer and the contact
    assert (result.emails, result.recipients) == (4, 2)


def test_the_sample_lists_the_soonest_due_first_with_old_and_new_dates_and_flags(book, manager):
    result = consequences_of(window_days=40, actor=manager)

    rows = [
        (r.application, local(r.old_due_at), local(r.new_due_at), r.flags) for r in result.sample
    ]
    assert rows == [
        (book["late"], D("2026-12-03"), D("2026-11-26"), ("overdue",)),
        (book["soon"], D("2026-12-04"), D("2026-11-27"), ("overdue",)),
        (book["coming"], D("2026-12-10"), D("2026-12-03"), ("due_soon",)),
        (book["far"], D("2027-01-05"), D("2026-12-28"), ()),
    ]
    assert result.sample[0].exporter_name == book["late"].exporter.name


def test_a_longer_window_puts_a_shipment_at_risk_exactly_as_logging_does(book, manager):
    ShipmentFactory(
        exporter=book["late"].exporter,
        application=book["late"],
        status="awaiting_license",
        planned_ship_date=dt.date(2026, 12, 20),
    )
    scan.scan(now=NOW)

    result = consequences_of(window_days=60, actor=manager)

    assert seen(result) == logged(window_days=60, actor=manager)
    assert result.later == 4 and result.at_risk == 1
    assert result.cleared.get("due_soon") == 2


def test_the_preview_writes_nothing_and_queues_nothing(
    book, manager, django_capture_on_commit_callbacks
):
    before = snapshot()
    with django_capture_on_commit_callbacks() as callbacks:
        result = consequences_of(window_days=40, actor=manager)
    assert result.emails == 4
    assert snapshot() == before
    assert callbacks == []  # no e-mail, no task
    assert not consequences.active()

    # the same facts logged for real do queue the e-mails' sending
    with django_capture_on_commit_callbacks() as callbacks:
        log(window_days=40, actor=manager)
    assert callbacks


def test_the_preview_rolls_back_inside_an_outer_transaction_too(book, manager):
    before = snapshot()
    with transaction.atomic():
        waiting = list(connection.run_on_commit)  # the builders' moves, never committed
        consequences_of(window_days=40, actor=manager)
        assert snapshot() == before
        assert connection.run_on_commit == waiting
    assert snapshot() == before


def test_a_decision_not_in_force_today_sets_off_nothing_now(book, manager):
    result = consequences_of(
        window_days=40, actor=manager, announced_on="2026-11-27", effective_from="2026-12-15"
    )

    assert not result.applies_now
    assert seen(result) == logged(
        window_days=40, actor=manager, announced_on="2026-11-27", effective_from="2026-12-15"
    )
    assert result.moved == result.emails == 0


def test_a_scope_logged_in_a_task_is_not_simulated(book, manager, settings):
    settings.FAST_TRACK_INLINE_LIMIT = 2
    before = snapshot()

    result = consequences_of(window_days=40, actor=manager)

    assert result.applies_now and not result.simulated
    assert result.in_scope == 4 and result.moved == 0
    assert snapshot() == before


def test_bad_facts_are_refused_naming_the_field(manager):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        consequences_of(window_days=0, actor=manager, source=" ")
    assert set(refused.value.fields) == {"window_days", "source"}


def test_a_scope_limited_to_one_exporter_counts_only_its_consequences(book, manager):
    north = book["late"].exporter

    result = consequences_of(window_days=40, actor=manager, exporters=[north])

    assert result.in_scope == 2
    assert (result.moved, result.overdue, result.due_soon) == (2, 2, 0)
    assert seen(result) == logged(window_days=40, actor=manager, exporters=[north])


def test_reporting_without_a_tally_does_nothing_and_tallies_do_not_leak():
    consequences.report_flags("overdue", raised=3, cleared=1)  # no tally: ignored
    with consequences.tallying() as outer:
        with consequences.tallying() as inner:
            consequences.report_flags("overdue", raised=1, cleared=0)
            consequences.report_alerts(["A@example.com", "a@example.com "])
        assert (inner.raised["overdue"], inner.alerts, len(inner.recipients)) == (1, 2, 1)
        assert not outer.raised and outer.alerts == 0
    assert not consequences.active()


def local(moment):
    if moment is None:
        return None
    from ...helpers import SHANGHAI

    return (moment.astimezone(SHANGHAI) - dt.timedelta(microseconds=1)).date()
