"""The event log is append-only in the database itself, and corrections are new events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event

from ..factories import ApplicationFactory
from ..helpers import NOW, accepted, at, local_due, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    return app.events.get(kind="status_changed")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE licenses_event SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM licenses_event WHERE id = %s",
    ],
)
def test_raw_sql_cannot_rewrite_history_on_postgresql(event, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).note == ""


def test_bulk_queryset_update_is_refused_too(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(note="x")


def test_a_correction_re_dates_the_latest_move_and_the_due_date_follows(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-25")
    services.application_correct(
        application=app,
        at=at("2026-09-24"),
        now=NOW,
        actor=officer,
        note="Acceptance letter was dated the 24th",
    )
    assert app.accepted_at == at("2026-09-24")
    assert local_due(app) == dt.date(2026, 12, 3)
    correction = app.events.get(kind="correction")
    accept_event = app.events.get(kind="status_changed", to_status="accepted")
    assert correction.corrects == accept_event and correction.data["action"] == "redate"
    assert accept_event.occurred_at == at("2026-09-25")  # the original stays as it was


def test_a_correction_undoes_the_latest_move_and_shipments_follow(officer):
    from ..shipments.test_shipments import new_shipment

    app = ApplicationFactory()
    shipment = new_shipment(app)
    submitted(app, "2026-09-20")
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_license"
    services.application_correct(
        application=app, undo=True, now=NOW, actor=officer, note="Submitted to the wrong authority"
    )
    assert app.status == "draft" and app.submitted_at is None and app.due_at is None
    shipment.refresh_from_db()
    assert shipment.status == "planned"
    # after the undo, the application can be submitted again, with any past date
    submitted(app, "2026-09-01")
    assert app.status == "submitted"


def test_undoing_twice_walks_back_two_moves(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="a")
    assert app.status == "submitted" and app.accepted_at is None
    assert app.last_moved_at == at("2026-09-20")
    services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="b")
    assert app.status == "draft"
    with pytest.raises(IllegalMove):
        services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="c")


def test_a_re_date_cannot_go_before_the_previous_move(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    with pytest.raises(InvalidInput) as exc:
        services.application_correct(
            application=app, at=at("2026-09-19"), now=NOW, actor=officer, note="x"
        )
    assert "at" in exc.value.fields


def test_undoing_an_information_request_restores_the_clock(officer):
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    services.application_request_info(application=app, at=at("2026-10-12"), now=NOW, actor=None)
    assert app.due_at is None
    services.application_correct(application=app, undo=True, now=NOW, actor=officer, note="x")
    assert app.status == "accepted" and local_due(app) == dt.date(2026, 12, 3)
    assert not app.pauses.exists()
