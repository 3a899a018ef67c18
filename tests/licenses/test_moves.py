"""Application moves: exactly the legal ones, dated by their caller, nothing changed on refusal."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput
from licenses import services
from licenses.models import Event, LicenseApplication, Status

from ..factories import ApplicationFactory
from ..helpers import NOW, accepted, at, submitted

pytestmark = pytest.mark.django_db

ALL = set(Status.values)
LEGAL = {
    "submit": {"draft"},
    "accept": {"submitted"},
    "request_info": {"submitted", "accepted"},
    "provide_info": {"info_requested"},
    "approve": {"submitted", "accepted", "referred"},
    "reject": {"submitted", "accepted", "referred"},
    "withdraw": {"submitted", "accepted", "info_requested", "referred"},
    "refer": {"submitted", "accepted", "info_requested"},
    "return": {"submitted", "accepted", "info_requested", "referred"},
    "resubmit": {"returned"},
    "suspend": {"approved", "exhausted"},
    "reinstate": {"suspended"},
    "revoke": {"approved", "exhausted", "suspended"},
    "surrender": {"approved", "exhausted"},
    "amend": {"approved", "exhausted"},
    "approve_amendment": {"amendment_requested"},
    "refuse_amendment": {"amendment_requested"},
}


def put_in(status: str) -> LicenseApplication:
    """An application brought to `status` through legal moves."""
    app = ApplicationFactory(license_type="general")
    if status == "draft":
        return app
    submitted(app, "2026-09-01")
    path = {
        "submitted": [],
        "accepted": ["accept"],
        "info_requested": ["request_info"],
        "approved": ["accept", "approve"],
        "rejected": ["reject"],
        "withdrawn": ["withdraw"],
        "expired": ["accept", "approve", "expire"],
        "exhausted": ["accept", "approve", "exhaust"],
        "suspended": ["accept", "approve", "suspend"],
        "revoked": ["accept", "approve", "revoke"],
        "surrendered": ["accept", "approve", "surrender"],
        "amendment_requested": ["accept", "approve", "amend"],
        "referred": ["refer"],
        "returned": ["return"],
    }[status]
    day = 2
    for move in path:
        make(app, move, at(f"2026-09-{day:02d}"))
        day += 1
    assert app.status == status
    return app


def make(app, move: str, when=None, now=NOW):
    kwargs = {"application": app, "now": now}
    if move in ("expire",):
        return services.application_expire(**kwargs, at=when)
    if move == "exhaust":
        return services._move(app, "exhaust", at=when, now=now, actor=None)
    kwargs.update(at=when, actor=None)
    if move == "approve":
        kwargs.update(
            license_number="L-1",
            valid_until=dt.date(2027, 9, 1),
            approved_quantity=app.quantity,
            approved_value=app.value,
        )
    if move == "reject":
        kwargs.update(reason="End use not credible")
    if move == "amend":
        kwargs.update(quantity=app.quantity * 2, note="More orders")
    if move == "refer":
        kwargs.update(reason="watch_list")
    return getattr(services, f"application_{move}")(**kwargs)


@pytest.mark.parametrize(
    "move,sources,status",
    [(move, sources, status) for move, sources in LEGAL.items() for status in sorted(ALL)],
)
def test_every_legal_move_is_made_and_every_illegal_one_refused(move, sources, status):
    if True:
        app = put_in(status)
        before = LicenseApplication.objects.get(pk=app.pk)
        events_before = Event.objects.filter(application=app).count()
        if status in sources:
            make(app, move, at("2026-10-01"))
            app.refresh_from_db()
            assert app.status != status or move == "provide_info"
            last = Event.objects.filter(application=app, kind="status_changed").last()
            assert last.from_status == status and last.data["move"] == move
        else:
            with pytest.raises(IllegalMove):
                make(app, move, at("2026-10-01"))
            after = LicenseApplication.objects.get(pk=app.pk)
            assert after.status == before.status and after.due_at == before.due_at
            assert after.last_moved_at == before.last_moved_at
            assert Event.objects.filter(application=app).count() == events_before


def test_the_whole_table_is_the_specs():
    table = {name: set(m.sources) for name, m in services.MOVES.items() if m.by_officer}
    assert table == LEGAL
    assert services.MOVES["expire"].sources == {"approved", "suspended", "amendment_requested"}
    assert services.MOVES["exhaust"].sources == {"approved"}
    assert services.MOVES["replenish"].sources == {"exhausted"}


def test_a_move_cannot_be_dated_in_the_future():
    app = ApplicationFactory()
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(
            application=app, at=NOW + dt.timedelta(minutes=1), now=NOW, actor=None
        )
    assert "at" in exc.value.fields
    app.refresh_from_db()
    assert app.status == "draft"


def test_a_move_cannot_be_dated_before_the_previous_move():
    app = ApplicationFactory()
    submitted(app, "2026-09-10")
    with pytest.raises(InvalidInput) as exc:
        accepted(app, "2026-09-09")
    assert "at" in exc.value.fields
    assert LicenseApplication.objects.get(pk=app.pk).status == "submitted"


def test_a_fresh_record_accepts_a_move_months_in_the_past():
    app = ApplicationFactory()  # created today
    submitted(app, "2026-03-02")
    assert app.submitted_at == at("2026-03-02")
    event = app.events.get(kind="status_changed")
    assert event.occurred_at == at("2026-03-02") and event.recorded_at == NOW


def test_omitted_at_means_now():
    app = ApplicationFactory()
    services.application_submit(application=app, now=NOW, actor=None)
    assert app.submitted_at == NOW


def test_approval_needs_license_number_validity_and_for_general_the_amounts():
    app = put_in("accepted")
    with pytest.raises(InvalidInput) as exc:
        services.application_approve(
            application=app,
            at=at("2026-10-01"),
            now=NOW,
            actor=None,
            license_number="",
            valid_until=None,
        )
    assert {"license_number", "valid_until", "approved_quantity", "approved_value"} <= set(
        exc.value.fields
    )


def test_rejection_needs_a_reason():
    app = put_in("accepted")
    with pytest.raises(InvalidInput) as exc:
        services.application_reject(
            application=app, at=at("2026-10-01"), now=NOW, actor=None, reason=" "
        )
    assert "reason" in exc.value.fields


def test_a_move_on_a_stale_copy_loses_the_race():
    app = put_in("submitted")
    stale = LicenseApplication.objects.get(pk=app.pk)
    accepted(app, "2026-09-05")
    with pytest.raises(ConcurrentUpdate):
        services.application_withdraw(application=stale, at=at("2026-09-06"), now=NOW, actor=None)
    assert LicenseApplication.objects.get(pk=app.pk).status == "accepted"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_moves_one_wins_one_gets_the_domain_error():
    app = put_in("submitted")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(move: str) -> None:
        try:
            copy = LicenseApplication.objects.get(pk=app.pk)
            barrier.wait()
            make(copy, move, at("2026-09-05"))
            outcomes.append("won")
        except ConcurrentUpdate:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(m,)) for m in ("accept", "withdraw")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert Event.objects.filter(application=app, kind="status_changed").count() == 2  # submit + 1
