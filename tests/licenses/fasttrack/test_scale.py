"""Large scopes: one set-based pass with a bounded number of queries, and the Celery task that
works through a scope chunk by chunk with visible progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from licenses import fasttrack
from licenses.fasttrack import apply as fasttrack_pass
from licenses.fasttrack import decision_recompute_scope, decision_revoke
from licenses.models import Event, EventKind, FastTrackDecision, LicenseApplication
from licenses.tasks import recompute_decision_scope

from ...factories import ExporterFactory, authority, item
from ...helpers import NOW, SHANGHAI, at
from .builders import log, pending

pytestmark = pytest.mark.django_db

DUE_3_DEC = dt.datetime(2026, 12, 4, tzinfo=SHANGHAI)  # 45 working days after 24 September
DUE_29_OCT = dt.datetime(2026, 10, 30, tzinfo=SHANGHAI)  # 20 working days after it


def bulk_pending(n: int, *, destination: str = "US") -> list[LicenseApplication]:
    """n accepted MOFCOM applications for 1C902, inserted in two queries."""
    exporter = ExporterFactory()
    mofcom = authority()
    apps = LicenseApplication.objects.bulk_create(
        LicenseApplication(
            exporter=exporter,
            authority=mofcom,
            destination=destination,
            reference=f"BULK-{i:05d}",
            quantity=Decimal("10"),
            value=Decimal("1000"),
            currency="USD",
            status="accepted",
            submitted_at=at("2026-09-20"),
            accepted_at=at("2026-09-24"),
            last_moved_at=at("2026-09-24"),
            window_days=45,
            window_source="default",
            due_at=DUE_3_DEC,
        )
        for i in range(n)
    )
    through = LicenseApplication.items.through
    samarium = item("1C902")
    through.objects.bulk_create(
        through(licenseapplication_id=a.pk, controlleditem_id=samarium.pk) for a in apps
    )
    return apps


@pytest.fixture
def inline_up_to_20000(settings):
    settings.FAST_TRACK_INLINE_LIMIT = 20000


def test_ten_thousand_pending_applications_are_recomputed_with_a_bounded_number_of_queries(
    inline_up_to_20000, django_assert_max_num_queries, manager
):
    # a decision over one application: the fixed cost of logging and of one chunk
    single = pending()
    with django_assert_max_num_queries(60) as one:
        log(window_days=30, applications=[single], actor=manager)

    bulk_pending(10_000)
    # 5 chunks of 2,000, all made overdue. Each chunk costs the same queries whatever its
    # size: savepoint, decision lock, applications, items, pauses, authority, calendar, rules,
    # decisions and their 3 scope lists, one UPDATE, one INSERT of events, progress, release
    # (17) — plus the flags and alerts the scan's receiver raises for them, set-based too.
    with django_assert_max_num_queries(220) as many:
        decision = log(window_days=20, destinations=["US"], items=["1C902"], actor=manager)
    assert len(many.captured_queries) - len(one.captured_queries) <= 4 * 40
    assert decision.affected_count == 10_000
    assert decision.median_change_days == Decimal("-35.0")
    assert decision.progress_done == decision.progress_total == 10_000
    assert set(
        LicenseApplication.objects.filter(destination="US").values_list("due_at", flat=True)
    ) == {DUE_29_OCT}
    assert Event.objects.filter(decision=decision).count() == 10_000


def test_a_large_scope_is_queued_and_the_task_records_its_progress(
    settings, manager, django_capture_on_commit_callbacks, monkeypatch
):
    settings.FAST_TRACK_INLINE_LIMIT = 20
    settings.FAST_TRACK_CHUNK_SIZE = 10
    bulk_pending(35)
    queued: list[tuple] = []
    monkeypatch.setattr(recompute_decision_scope, "delay", lambda *args: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        decision = log(window_days=20, actor=manager)

    # logged and flagged as applied, but nothing moved yet: the worker does it
    assert decision.applied is True
    assert (decision.progress_total, decision.progress_done) == (35, 0)
    assert decision.progress_finished_at is None
    assert fasttrack.decision_effect(decision, now=NOW).state == "applying"
    assert set(LicenseApplication.objects.values_list("due_at", flat=True)) == {DUE_3_DEC}
    assert queued == [(decision.pk, EventKind.FAST_TRACK_APPLIED, NOW.isoformat(), manager.pk)]

    seen: list[int] = []
    original = fasttrack_pass.save_due_dates

    def watching(*args, **kwargs):
        seen.append(FastTrackDecision.objects.get(pk=decision.pk).progress_done)
        return original(*args, **kwargs)

    monkeypatch.setattr(fasttrack_pass, "save_due_dates", watching)
    assert recompute_decision_scope(*queued[0]) == 35  # the task function itself, no eager mode

    assert seen == [0, 10, 20, 30]  # four chunks, progress recorded after each
    decision.refresh_from_db()
    assert (decision.progress_total, decision.progress_done) == (35, 35)
    assert decision.progress_finished_at == NOW
    assert decision.affected_count == 35 and decision.median_change_days == Decimal("-35.0")
    assert set(LicenseApplication.objects.values_list("due_at", flat=True)) == {DUE_29_OCT}
    events = Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    assert events.count() == 35 and {e.actor_id for e in events} == {manager.pk}

    # run again (a redelivered task): nothing changes, the figures stay right
    assert recompute_decision_scope(*queued[0]) == 0
    decision.refresh_from_db()
    assert decision.affected_count == 35 and decision.progress_done == 35


def test_a_large_revocation_is_queued_too(
    settings, manager, django_capture_on_commit_callbacks, monkeypatch
):
    settings.FAST_TRACK_INLINE_LIMIT = 20
    settings.FAST_TRACK_CHUNK_SIZE = 10
    bulk_pending(25)
    queued: list[tuple] = []
    monkeypatch.setattr(recompute_decision_scope, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        decision = log(window_days=20)
    recompute_decision_scope(*queued.pop())
    with django_capture_on_commit_callbacks(execute=True):
        decision_revoke(decision=decision, actor=manager, now=NOW)
    assert queued == [(decision.pk, EventKind.FAST_TRACK_REMOVED, NOW.isoformat(), manager.pk)]
    recompute_decision_scope(*queued.pop())
    assert set(LicenseApplication.objects.values_list("due_at", flat=True)) == {DUE_3_DEC}
    assert Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_REMOVED).count() == 25


def test_an_apply_task_stops_when_the_decision_was_revoked_meanwhile(settings, manager):
    bulk_pending(5)
    settings.FAST_TRACK_INLINE_LIMIT = 2
    decision = log(window_days=20)  # queued (on commit, never run in this test)
    decision_revoke(decision=decision, actor=manager, now=NOW)  # queued as well
    assert (
        decision_recompute_scope(decision=decision, kind=EventKind.FAST_TRACK_APPLIED, now=NOW) == 0
    )
    assert not Event.objects.filter(decision=decision).exists()


def test_the_daily_job_queues_again_a_pass_whose_task_was_lost(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.FAST_TRACK_INLINE_LIMIT = 2
    bulk_pending(5)
    queued: list[tuple] = []

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(recompute_decision_scope, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        decision = log(window_days=20)  # the decision is kept although nothing was queued
    assert FastTrackDecision.objects.filter(pk=decision.pk, applied=True).exists()

    monkeypatch.setattr(recompute_decision_scope, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        assert fasttrack.decisions_daily(now=NOW)["resumed"] == []  # too early to call it lost
    next_day = at("2026-11-30", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert fasttrack.decisions_daily(now=next_day)["resumed"] == [decision.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert fasttrack.decisions_daily(now=next_day)["resumed"] == []  # once
    assert queued == [(decision.pk, EventKind.FAST_TRACK_APPLIED, next_day.isoformat(), None)]
    recompute_decision_scope(*queued[0])
    decision.refresh_from_db()
    assert decision.affected_count == 5 and decision.progress_done == 5
    assert decision.progress_finished_at == next_day
