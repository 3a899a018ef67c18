"""Review-window rules: creating, changing or retiring one moves exactly the pending
applications it governs, and each due date it moves is logged with the rule."""

from __future__ import annotations

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event, EventKind, WindowRule
from licenses.rules import rule_create, rule_retire, rule_update

from ...factories import ApplicationFactory, authority, item
from ...helpers import NOW, at, local_due
from .builders import D, log, pending

pytestmark = pytest.mark.django_db


def due(app):
    app.refresh_from_db()
    return local_due(app)


def rule_events(rule):
    return Event.objects.filter(kind=EventKind.DUE_DATE_CHANGED, data__rule=rule.pk)


def test_creating_a_rule_moves_exactly_the_applications_it_governs(manager):
    governed = pending(destination="US", items=("1C902",))
    general = pending(destination="US", items=("1C902",), license_type="general")
    other_item = pending(destination="US", items=("1C903",))
    to_germany = pending(destination="DE", items=("1C902",))
    withdrawn = pending(destination="US")
    services.application_withdraw(application=withdrawn, at=at("2026-10-01"), now=NOW, actor=None)

    rule = rule_create(
        authority=authority(),
        item=item("1C902"),
        destination="us",
        license_type="individual",
        window_days=30,
        actor=manager,
        now=NOW,
    )

    assert rule.destination == "US" and rule.created_by == manager
    assert due(governed) == D("2026-11-12")
    assert due(general) == due(other_item) == due(to_germany) == D("2026-12-03")
    assert due(withdrawn) is None
    [event] = rule_events(rule)
    assert event.application == governed and event.actor == manager
    assert event.data["rule"] == rule.pk and event.data["rule_change"] == "created"
    assert event.data["source"] == f"rule:{rule.pk}"
    assert event.data["change_days"] == -21
    assert "rule" in event.note.lower()


def test_changing_a_rule_moves_the_applications_it_matched_and_now_matches(manager):
    us = pending(destination="US")
    de = pending(destination="DE")
    rule = rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    assert due(us) == D("2026-11-12")

    rule_update(rule=rule, destination="DE", actor=manager, now=NOW)

    assert due(us) == D("2026-12-03")  # back to the default
    assert due(de) == D("2026-11-12")
    changed = rule_events(rule).filter(data__rule_change="changed")
    assert {e.application_id for e in changed} == {us.pk, de.pk}
    assert changed.get(application=us).data["source"] == "default"

    rule_update(rule=rule, window_days=60, actor=manager, now=NOW)
    assert due(de) == D("2026-12-24") and due(us) == D("2026-12-03")


def test_a_change_of_its_note_alone_moves_nothing(manager):
    pending(destination="US")
    rule = rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    before = Event.objects.count()
    rule_update(rule=rule, note="per MOFCOM guidance", actor=manager, now=NOW)
    rule.refresh_from_db()
    assert rule.note == "per MOFCOM guidance"
    assert Event.objects.count() == before


def test_retiring_a_rule_restores_the_window_that_governs_without_it(manager):
    app = pending(destination="US")
    broad = rule_create(
        authority=authority(), destination="US", window_days=40, actor=None, now=NOW
    )
    narrow = rule_create(
        authority=authority(),
        item=item("1C902"),
        destination="US",
        window_days=30,
        actor=None,
        now=NOW,
    )
    assert due(app) == D("2026-11-12")

    rule_retire(rule=narrow, actor=manager, now=NOW, note="superseded")

    assert due(app) == D("2026-11-26")  # the broader rule's 40 days
    [event] = rule_events(narrow).filter(data__rule_change="retired")
    assert event.data["source"] == f"rule:{broad.pk}"
    narrow.refresh_from_db()
    assert narrow.retired_at == NOW and "superseded" in narrow.note
    assert WindowRule.objects.filter(pk=narrow.pk).exists()
    with pytest.raises(IllegalMove):
        rule_retire(rule=narrow, actor=manager, now=NOW)
    with pytest.raises(IllegalMove):
        rule_update(rule=narrow, window_days=10, actor=manager, now=NOW)


def test_a_rule_does_not_move_applications_a_decision_governs(manager):
    app = pending(destination="US")
    log(window_days=20)
    rule = rule_create(authority=authority(), destination="US", window_days=60, actor=None, now=NOW)
    assert due(app) == D("2026-10-29")
    assert not rule_events(rule).exists()


def test_a_rule_of_another_authority_moves_nothing_here():
    app = pending(destination="US")
    rule_create(authority=authority("BIS"), destination="US", window_days=30, actor=None, now=NOW)
    assert due(app) == D("2026-12-03")


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"window_days": 0}, "window_days"),
        ({"destination": "USA"}, "destination"),
        ({"license_type": "blanket"}, "license_type"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_field(fields, bad):
    with pytest.raises(InvalidInput) as refused:
        rule_create(
            **{"authority": authority(), "window_days": 30, "actor": None, "now": NOW, **fields}
        )
    assert bad in refused.value.fields
    assert not WindowRule.objects.exists()


def test_a_rule_for_another_authoritys_item_is_refused():
    bis_item = authority("BIS").items.create(code="3A001", description="Electronics")
    with pytest.raises(InvalidInput) as refused:
        rule_create(authority=authority(), item=bis_item, window_days=30, actor=None, now=NOW)
    assert "item" in refused.value.fields


def test_a_rule_over_many_applications_costs_a_bounded_number_of_queries(
    django_assert_max_num_queries,
):
    from .test_scale import bulk_pending

    bulk_pending(3000)
    ApplicationFactory()
    # two chunks: 7 queries each, the scan's flag evaluation of the moved ones, the file-by
    # refresh of the authority's shipments
    with django_assert_max_num_queries(70):
        rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    assert (
        Event.objects.filter(kind=EventKind.DUE_DATE_CHANGED, data__rule__isnull=False).count()
        == 3000
    )
