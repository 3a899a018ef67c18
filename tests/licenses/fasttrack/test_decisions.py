"""Fast-track decisions: logging applies them, the newest announcement wins, revocation and the
daily job un-apply them, and every due date they move is logged with the decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.fasttrack import (
    decision_edit,
    decision_effect,
    decision_recompute_scope,
    decision_revoke,
    decisions_daily,
)
from licenses.models import Event, EventKind, FastTrackDecision, LicenseApplication

from ...factories import ApplicationFactory, authority, item
from ...helpers import NOW, SHANGHAI, at, local_due, submitted
from .builders import D, log, pending

pytestmark = pytest.mark.django_db

NOTHING = {"applied": [], "removed": [], "queued": [], "resumed": []}


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def end_of(day: str) -> dt.datetime:
    """The instant a day ends in Beijing: when an application due that day is overdue."""
    return dt.datetime.combine(D(day) + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)


def due(app) -> dt.date | None:
    app.refresh_from_db()
    return local_due(app)


def test_a_decision_for_us_and_1c902_moves_exactly_the_pending_applications_in_its_scope(
    manager, ganzhou
):
    in_scope = pending(destination="US", items=("1C902",))
    other_in_scope = pending(destination="US", items=("1C902",), accepted_on="2026-11-02")
    to_germany = pending(destination="DE", items=("1C902",))
    gadolinium = pending(destination="US", items=("1C903",))
    decided = pending(destination="US", items=("1C902",))
    services.application_withdraw(application=decided, at=at("2026-10-01"), now=NOW, actor=None)
    draft = ApplicationFactory(destination="US")

    decision = log(window_days=20, destinations=["US"], items=["1C902"], actor=manager)

    assert due(in_scope) == D("2026-10-29")  # 20 working days after 24 September
    assert due(other_in_scope) == D("2026-11-30")  # 20 working days after 2 November
    assert due(to_germany) == D("2026-12-03")
    assert due(gadolinium) == D("2026-12-03")
    assert due(decided) is None and due(draft) is None
    assert in_scope.window_source == f"decision:{decision.pk}"

    moved = Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    assert {e.application_id for e in moved} == {in_scope.pk, other_in_scope.pk}
    event = moved.get(application=in_scope)
    assert moment(event.data["from"]) == end_of("2026-12-03")
    assert moment(event.data["to"]) == end_of("2026-10-29")
    assert event.data["change_days"] == -35
    assert event.actor == manager
    assert decision.applied is True
    assert decision.affected_count == 2
    assert decision.median_change_days == Decimal("-35.5")  # -35 and -36 days
    assert decision.created_by == manager


def test_the_slowest_item_still_governs_an_application_only_partly_fast_tracked():
    both = pending(destination="US", items=("1C902", "1C903"))
    log(window_days=20, items=["1C902"])
    # gadolinium is not fast-tracked and the authority decides the application as a whole
    assert due(both) == D("2026-12-03")
    log(window_days=30, items=["1C903"], announced_on="2026-10-31")
    assert due(both) == D("2026-11-12")  # now the longest is gadolinium's 30 days


def test_a_decision_overrides_every_rule(manager):
    from licenses.rules import rule_create

    app = pending(destination="US")
    rule_create(
        authority=authority(),
        item=item("1C902"),
        destination="US",
        window_days=60,
        actor=None,
        now=NOW,
    )
    assert due(app) == D("2026-12-24")
    log(window_days=30)  # names nothing: covers all of MOFCOM
    assert due(app) == D("2026-11-12")


def test_of_two_decisions_in_force_the_most_recently_announced_wins():
    app = pending(destination="US")
    newer = log(window_days=30, announced_on="2026-11-10", destinations=["US"])
    older = log(window_days=20, announced_on="2026-10-30", items=["1C902"])
    assert due(app) == D("2026-11-12")  # the newer announcement's 30 days, logged first
    assert app.window_source == f"decision:{newer.pk}"
    assert older.affected_count == 0  # nothing it covers is governed by it


def test_of_two_decisions_announced_the_same_day_the_most_recently_logged_wins():
    app = pending(destination="US")
    log(window_days=20, announced_on="2026-11-10")
    second = log(window_days=30, announced_on="2026-11-10")
    assert due(app) == D("2026-11-12")
    assert app.window_source == f"decision:{second.pk}"
    assert second.affected_count == 1


def test_revocation_restores_the_previous_due_dates_and_logs_it(manager):
    app = pending(destination="US")
    other = pending(destination="US", accepted_on="2026-11-02")
    first = log(window_days=30, announced_on="2026-10-01", effective_from="2026-10-01")
    assert due(app) == D("2026-11-12")
    second = log(window_days=20, destinations=["US"])
    assert due(app) == D("2026-10-29")

    decision_revoke(decision=second, actor=manager, now=NOW, note="Talks collapsed")

    # back to what governs without it: the first decision's 30 days
    assert due(app) == D("2026-11-12")
    second.refresh_from_db()
    assert second.revoked_at == NOW and second.revoked_by == manager
    assert second.revocation_note == "Talks collapsed"
    assert second.applied is False
    removed = Event.objects.filter(decision=second, kind=EventKind.FAST_TRACK_REMOVED)
    assert {e.application_id for e in removed} == {app.pk, other.pk}
    assert moment(removed.get(application=app).data["to"]) == end_of("2026-11-12")

    decision_revoke(decision=first, actor=manager, now=NOW)
    assert due(app) == D("2026-12-03")
    assert due(other) == D("2027-01-05")
    assert FastTrackDecision.objects.count() == 2  # never deleted


def test_revoking_twice_is_refused(manager):
    decision = log()
    decision_revoke(decision=decision, actor=manager, now=NOW)
    with pytest.raises(IllegalMove):
        decision_revoke(decision=decision, actor=manager, now=NOW)


def test_a_decision_that_begins_tomorrow_is_applied_by_the_daily_job_on_its_first_day():
    app = pending()
    decision = log(announced_on="2026-11-28", effective_from="2026-11-30")
    assert decision.applied is False
    assert due(app) == D("2026-12-03")

    assert decisions_daily(now=NOW) == NOTHING
    assert due(app) == D("2026-12-03")

    # just after midnight in Beijing on Monday 30 November (still Sunday in UTC)
    first_day = dt.datetime(2026, 11, 30, 0, 5, tzinfo=SHANGHAI)
    assert decisions_daily(now=first_day)["applied"] == [decision.pk]
    assert due(app) == D("2026-10-29")
    decision.refresh_from_db()
    assert decision.applied and decision.affected_count == 1
    event = Event.objects.get(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    assert event.actor is None and event.occurred_at == first_day


def test_a_decision_that_ended_yesterday_is_un_applied_by_the_daily_job():
    app = pending()
    decision = log(effective_from="2026-11-01", effective_until="2026-11-29")
    assert due(app) == D("2026-10-29")
    assert decisions_daily(now=NOW)["removed"] == []  # its last day is today

    next_day = at("2026-11-30", 1)
    assert decisions_daily(now=next_day)["removed"] == [decision.pk]
    assert due(app) == D("2026-12-03")
    decision.refresh_from_db()
    assert decision.applied is False
    assert decision.affected_count == 1  # the effect it had is kept for the log
    assert Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_REMOVED).count() == 1
    assert decisions_daily(now=next_day) == NOTHING


def test_applying_the_same_decision_twice_changes_nothing():
    app = pending()
    decision = log()
    events_before = Event.objects.count()
    due_before = due(app)

    assert decisions_daily(now=NOW) == NOTHING
    assert (
        decision_recompute_scope(decision=decision, kind=EventKind.FAST_TRACK_APPLIED, now=NOW) == 0
    )

    assert Event.objects.count() == events_before
    assert due(app) == due_before
    decision.refresh_from_db()
    assert decision.affected_count == 1


def test_a_decision_that_ended_before_it_was_logged_moves_nothing():
    app = pending()
    decision = log(effective_from="2026-10-01", effective_until="2026-10-31")
    assert decision.applied is False and due(app) == D("2026-12-03")
    assert decisions_daily(now=NOW)["applied"] == []


def test_an_application_moved_after_the_decision_began_gets_its_window():
    decision = log(window_days=20)
    app = ApplicationFactory()
    submitted(app, "2026-11-20")
    services.application_accept(application=app, at=at("2026-11-23"), now=NOW, actor=None)
    app.refresh_from_db()
    assert app.window_source == f"decision:{decision.pk}" and app.window_days == 20


def test_a_decision_naming_applications_moves_only_those():
    named = pending()
    other = pending()
    log(applications=[named])
    assert due(named) == D("2026-10-29")
    assert due(other) == D("2026-12-03")


def test_a_decision_naming_exporters_moves_only_theirs(ganzhou, baotou):
    theirs = pending(exporter=ganzhou)
    others = pending(exporter=baotou)
    log(exporters=[ganzhou])
    assert due(theirs) == D("2026-10-29")
    assert due(others) == D("2026-12-03")


def test_an_application_waiting_for_information_has_no_due_date_to_move():
    app = pending()
    services.application_request_info(application=app, at=at("2026-10-12"), now=NOW, actor=None)
    decision = log()
    app.refresh_from_db()
    assert app.due_at is None and app.window_days == 20
    assert decision.affected_count == 0
    services.application_provide_info(application=app, at=at("2026-10-19"), now=NOW, actor=None)
    # 20 working days, the paused week skipped
    assert due(app) == D("2026-11-05")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_days": 0}, "window_days"),
        ({"window_days": -3}, "window_days"),
        ({"effective_until": "2026-10-01"}, "effective_until"),
        ({"destinations": ["USA"]}, "destinations"),
        ({"items": ["3A001"]}, "items"),
        ({"source": "  "}, "source"),
        ({"announced_on": "2026-12-01"}, "announced_on"),
    ],
)
def test_an_invalid_decision_is_refused_naming_the_field(changes, field):
    if changes.get("items") == ["3A001"]:
        authority("BIS").items.create(code="3A001", description="Electronics")
    before = FastTrackDecision.objects.count()
    with pytest.raises(InvalidInput) as refused:
        log(**changes)
    assert field in refused.value.fields
    assert FastTrackDecision.objects.count() == before


def test_a_decision_may_not_name_another_authoritys_application():
    bis = authority("BIS")
    bis_item = bis.items.create(code="3A001", description="Electronics")
    theirs = ApplicationFactory(authority=bis, items=[bis_item])
    with pytest.raises(InvalidInput) as refused:
        log(applications=[theirs])
    assert "applications" in refused.value.fields


def test_destinations_are_stored_in_upper_case_once():
    decision = log(destinations=["us", "US", "de"])
    assert decision.destinations == ["US", "DE"]


def test_a_limited_manager_must_name_their_own_exporters(ganzhou, baotou):
    from licenses import roles

    from ...conftest import make_user

    limited_manager = make_user("lim_manager", roles.MANAGER, limited_to=[ganzhou], staff=True)
    with pytest.raises(InvalidInput) as refused:
        log(actor=limited_manager)
    assert "exporters" in refused.value.fields
    with pytest.raises(InvalidInput):
        log(actor=limited_manager, exporters=[baotou])
    decision = log(actor=limited_manager, exporters=[ganzhou])
    assert decision.created_by == limited_manager


def test_the_log_entry_names_who_when_source_scope_and_effect(manager, ganzhou):
    pending(destination="US", exporter=ganzhou)
    decision = log(destinations=["US"], items=["1C902"], exporters=[ganzhou], actor=manager)
    entry = decision_effect(decision, now=NOW)
    assert entry.logged_by == manager.username
    assert entry.logged_at == decision.created_at
    assert entry.source.startswith("Ministerial")
    assert entry.destinations == ["US"] and entry.items == ["1C902"]
    assert entry.exporters == [ganzhou.name]
    assert entry.state == "in force"
    assert (entry.affected_count, entry.median_change_days) == (1, Decimal("-35.0"))


def test_a_limited_user_sees_only_the_effect_on_their_exporters(limited, ganzhou, baotou):
    pending(exporter=ganzhou)
    pending(exporter=baotou)
    pending(exporter=baotou, accepted_on="2026-11-02")
    decision = log()
    assert decision.affected_count == 3
    entry = decision_effect(decision, user=limited, now=NOW)
    assert entry.affected_count == 1 and entry.median_change_days == Decimal("-35.0")


def test_only_the_wording_of_a_logged_decision_can_change(manager):
    decision = log()
    decision_edit(decision=decision, actor=manager, now=NOW, source="Press release of 30 Oct")
    decision.refresh_from_db()
    assert decision.source == "Press release of 30 Oct"
    with pytest.raises(InvalidInput):
        decision_edit(decision=decision, actor=manager, now=NOW, source=" ")


def test_revoking_a_decision_that_has_not_begun_moves_nothing(manager):
    app = pending()
    decision = log(announced_on="2026-11-28", effective_from="2026-12-10")
    decision_revoke(decision=decision, actor=manager, now=NOW)
    assert due(app) == D("2026-12-03")
    # and the daily job never applies it
    assert decisions_daily(now=at("2026-12-10", 1))["applied"] == []
    assert not Event.objects.filter(decision=decision).exists()


def test_due_dates_unchanged_outside_the_scope_get_no_event():
    pending(destination="DE")
    decision = log(destinations=["US"])
    assert not Event.objects.filter(decision=decision).exists()
    assert LicenseApplication.objects.get().window_days == 45
