"""The preview: before a decision is saved, how many pending applications it would move and
by how much — exactly what logging it then does, with no write."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses.fasttrack import decision_preview
from licenses.models import Event, EventKind, LicenseApplication

from ...factories import authority, item
from ...helpers import NOW, at
from .builders import D, log, pending

pytestmark = pytest.mark.django_db


def preview(**kwargs):
    fields = {
        "authority": authority(),
        "window_days": 20,
        "effective_from": D("2026-11-01"),
        "now": NOW,
    }
    return decision_preview(**{**fields, **kwargs})


def test_the_preview_matches_what_applying_then_does():
    pending(destination="US")
    pending(destination="US", accepted_on="2026-11-02")
    # gadolinium gets 30 days from the first decision, samarium 20 from the new one: 30
    pending(destination="US", items=("1C902", "1C903"))
    pending(destination="DE")
    log(window_days=30, announced_on="2026-10-01", effective_from="2026-10-01", items=["1C903"])
    before = {a.pk: a.due_at for a in LicenseApplication.objects.all()}

    seen = preview(destinations=["US"], items=[item("1C902")], announced_on=D("2026-10-30"))
    decision = log(window_days=20, destinations=["US"], items=["1C902"])

    moved = Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    assert seen.count == decision.affected_count == moved.count() == 3
    assert seen.median_change_days == decision.median_change_days == Decimal("-35.0")
    assert (seen.min_change_days, seen.max_change_days) == (-36, -21)
    assert seen.in_scope == 3
    after = {a.pk: a.due_at for a in LicenseApplication.objects.all()}
    assert {row.application.pk: row.new_due_at for row in seen.sample} == {
        pk: due for pk, due in after.items() if due != before[pk]
    }
    assert all(row.old_due_at == before[row.application.pk] for row in seen.sample)


def test_the_preview_writes_nothing():
    app = pending()
    events = Event.objects.count()
    with CaptureQueriesContext(connection) as queries:
        seen = preview()
    assert seen.count == 1
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    assert Event.objects.count() == events
    app.refresh_from_db()
    assert app.window_days == 45


def test_a_decision_that_begins_later_is_previewed_for_its_first_day():
    pending()
    seen = preview(effective_from=D("2026-12-01"))
    assert not seen.in_force_now and seen.as_of == D("2026-12-01")
    assert seen.count == 1 and seen.sample[0].change_days == -35


def test_a_decision_that_already_ended_would_move_nothing():
    pending()
    seen = preview(effective_from=D("2026-10-01"), effective_until=D("2026-10-31"))
    assert seen.count == 0 and seen.median_change_days is None


def test_an_earlier_announcement_is_overridden_in_the_preview_too():
    app = pending()
    log(window_days=30, announced_on="2026-11-10")
    seen = preview(window_days=20, announced_on=D("2026-10-30"))
    assert seen.count == 0  # the newer announcement keeps governing
    seen = preview(window_days=20)  # announced today: it would win
    assert seen.count == 1 and seen.sample[0].application == app


def test_the_preview_validates_like_logging():
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        preview(window_days=0, destinations=["usa"])
    assert set(refused.value.fields) == {"window_days", "destinations"}


def test_an_application_waiting_for_information_is_not_counted():
    from licenses import services

    app = pending()
    services.application_request_info(application=app, at=at("2026-10-12"), now=NOW, actor=None)
    assert preview().count == 0
