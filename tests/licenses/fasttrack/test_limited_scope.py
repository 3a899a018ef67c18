"""A manager limited to some exporters logs, edits and revokes only decisions whose scope names
exporters, every one of them theirs: any other decision moves other exporters' due dates. The
services refuse it, so every surface does; the figures of a decision count only what the
caller may see."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotFound
from licenses.fasttrack import decision_edit, decision_figures, decision_revoke
from licenses.models import Event, FastTrackDecision, LicenseApplication

from ...helpers import NOW
from .builders import log, pending

pytestmark = pytest.mark.django_db

# Scopes that could move an exporter the limited manager (Ganzhou) does not act for.
FOREIGN_SCOPES = {
    "any exporter": lambda ganzhou, baotou: [],
    "another exporter": lambda ganzhou, baotou: [baotou],
    "theirs and another": lambda ganzhou, baotou: [ganzhou, baotou],
}


def stored() -> tuple:
    """Everything a refused write must leave as it was."""
    return (
        list(LicenseApplication.objects.order_by("id").values_list("id", "due_at", "window_days")),
        list(Event.objects.order_by("id").values_list("id", flat=True)),
        list(
            FastTrackDecision.objects.order_by("id").values_list(
                "id", "source", "note", "revoked_at", "applied"
            )
        ),
    )


@pytest.fixture
def both(ganzhou, baotou):
    """A pending application of each exporter, due on 3 December under the 45-day window."""
    return pending(exporter=ganzhou), pending(exporter=baotou)


@pytest.mark.parametrize("scope", FOREIGN_SCOPES)
def test_a_limited_manager_may_not_revoke_a_decision_that_moves_other_exporters(
    manager, limited_manager, ganzhou, baotou, both, scope
):
    decision = log(actor=manager, exporters=FOREIGN_SCOPES[scope](ganzhou, baotou))
    before = stored()
    with pytest.raises(NotFound) as refused:
        decision_revoke(decision=decision, actor=limited_manager, now=NOW, note="talks failed")
    assert "names exporters, all of them yours" in refused.value.message
    assert stored() == before


@pytest.mark.parametrize("scope", FOREIGN_SCOPES)
def test_a_limited_manager_may_not_reword_a_decision_that_moves_other_exporters(
    manager, limited_manager, ganzhou, baotou, both, scope
):
    decision = log(actor=manager, exporters=FOREIGN_SCOPES[scope](ganzhou, baotou))
    before = stored()
    with pytest.raises(NotFound):
        decision_edit(decision=decision, actor=limited_manager, now=NOW, source="Reworded")
    assert stored() == before


def test_a_limited_manager_revokes_and_rewords_a_decision_naming_only_their_exporter(
    manager, limited_manager, ganzhou, both
):
    mine, theirs = both
    decision = log(actor=manager, exporters=[ganzhou])
    mine.refresh_from_db()
    assert mine.due_at != theirs.due_at  # the decision moved Ganzhou's application only

    decision_edit(decision=decision, actor=limited_manager, now=NOW, note="Green channel")
    decision_revoke(decision=decision, actor=limited_manager, now=NOW, note="talks failed")

    decision.refresh_from_db()
    assert decision.note == "Green channel" and decision.revoked_by == limited_manager
    mine.refresh_from_db()
    assert mine.due_at == theirs.due_at


def test_the_daily_job_is_not_limited(both):
    decision = log(announced_on="2026-10-30", effective_from="2026-11-01")
    revoked = decision_revoke(decision=decision, actor=None, now=NOW)
    assert revoked.revoked_at == NOW


def test_a_limited_manager_must_name_exporters_even_when_naming_their_applications(
    limited_manager, both
):
    mine, _theirs = both
    with pytest.raises(InvalidInput) as refused:
        log(actor=limited_manager, applications=[mine])
    assert list(refused.value.fields) == ["exporters"]
    assert not FastTrackDecision.objects.exists()


def test_a_decisions_figures_count_only_the_applications_the_user_may_see(
    manager, limited, ganzhou, baotou
):
    pending(exporter=ganzhou, accepted_on="2026-11-02")
    pending(exporter=baotou)
    pending(exporter=baotou)
    decision = log(actor=manager)
    everyone = decision_figures(decisions=[decision], user=manager)[decision.pk]
    mine = decision_figures(decisions=[decision], user=limited)[decision.pk]
    assert (everyone.affected_count, everyone.median_change_days) == (
        decision.affected_count,
        decision.median_change_days,
    )
    assert everyone.affected_count == 3
    assert mine.affected_count == 1 and mine.median_change_days != everyone.median_change_days
    later = log(actor=manager, announced_on="2026-11-28", effective_from="2026-12-20")
    figures = decision_figures(decisions=[decision, later], user=limited)
    assert figures[later.pk].affected_count == 0 and figures[later.pk].median_change_days is None
