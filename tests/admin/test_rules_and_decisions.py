"""Review-window rules and fast-track decisions in the back-office: their change forms and
actions go through `licenses.rules` and `licenses.fasttrack`; what those refuse is refused on
the field, and a refusal changes no rule, decision or due date."""

from __future__ import annotations

import pytest

from licenses.fasttrack import decision_revoke
from licenses.models import EventKind, FastTrackDecision, WindowRule
from licenses.rules import rule_create, rule_retire

from ..factories import authority
from ..helpers import NOW, local_due
from ..licenses.fasttrack.builders import D, log, pending
from .forms import field_errors, page_messages, post_action, post_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def us_rule():
    return rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)


class TestWindowRules:
    def test_changing_a_rule_moves_the_due_dates_it_governs(self, client, manager, us_rule):
        us = pending(destination="US")
        client.force_login(manager)
        assert post_change(client, us_rule, window_days="60").status_code == 302
        us.refresh_from_db()
        assert local_due(us) == D("2026-12-24")
        event = us.events.filter(kind=EventKind.DUE_DATE_CHANGED).latest("id")
        assert event.actor == manager and event.data["rule"] == us_rule.pk

    def test_a_bad_destination_is_refused_on_the_field_and_nothing_moves(
        self, client, manager, us_rule
    ):
        us = pending(destination="US")
        before = us.due_at
        client.force_login(manager)
        page = post_change(client, us_rule, destination="Germany", window_days="60")
        assert field_errors(page, "destination")
        us_rule.refresh_from_db()
        assert us_rule.destination == "US" and us_rule.window_days == 30
        us.refresh_from_db()
        assert us.due_at == before

    def test_the_retire_action_retires_through_the_service(self, client, manager, us_rule):
        us = pending(destination="US")
        client.force_login(manager)
        page = post_action(client, WindowRule, "retire_selected", [us_rule])
        assert "1 rules retired." in page_messages(page)
        us_rule.refresh_from_db()
        assert us_rule.retired_at is not None
        us.refresh_from_db()
        assert local_due(us) == D("2026-12-03")

    def test_retiring_a_retired_rule_again_changes_nothing(self, client, manager, us_rule):
        rule_retire(rule=us_rule, actor=None, now=NOW)
        us_rule.refresh_from_db()
        client.force_login(manager)
        page = post_action(client, WindowRule, "retire_selected", [us_rule])
        assert "0 rules retired." in page_messages(page)
        retired = us_rule.retired_at
        us_rule.refresh_from_db()
        assert us_rule.retired_at == retired


class TestDecisions:
    def test_a_decision_without_a_source_is_refused_on_the_field(self, client, manager):
        decision = log()
        client.force_login(manager)
        page = post_change(client, decision, source="   ", note="reworded")
        assert field_errors(page, "source")
        decision.refresh_from_db()
        assert decision.source.startswith("Ministerial") and decision.note == ""

    def test_the_revoke_action_revokes_through_the_service(self, client, manager):
        app = pending()
        decision = log()
        client.force_login(manager)
        page = post_action(client, FastTrackDecision, "revoke_selected", [decision])
        assert "1 decisions revoked." in page_messages(page)
        decision.refresh_from_db()
        assert decision.revoked_by == manager
        app.refresh_from_db()
        assert app.events.filter(kind=EventKind.FAST_TRACK_REMOVED).exists()

    def test_revoking_a_revoked_decision_again_changes_nothing(self, client, manager):
        decision = log()
        decision_revoke(decision=decision, actor=None, now=NOW)
        decision.refresh_from_db()
        client.force_login(manager)
        page = post_action(client, FastTrackDecision, "revoke_selected", [decision])
        assert "0 decisions revoked." in page_messages(page)
        revoked = decision.revoked_at
        decision.refresh_from_db()
        assert decision.revoked_at == revoked and decision.revoked_by is None
