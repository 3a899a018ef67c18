"""Every event is linked into its subject's chain, whoever writes it, and `verify_events`
re-computes the chains and names the first broken link."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from licenses import events, services
from licenses.events import chain
from licenses.events.verify import exporter_events, verify
from licenses.models import Event, EventChain
from monitoring import scan

from ..factories import ApplicationFactory, ExporterFactory
from ..helpers import NOW, SHANGHAI, accepted, at, submitted
from ..shipments.test_shipments import new_shipment
from .fasttrack.builders import log, pending

pytestmark = pytest.mark.django_db

GENESIS = "0" * 64


def links(**subject) -> list[tuple[int, str, str]]:
    """(seq, prev_hash, hash) of a chain's events, in order of position."""
    return list(
        Event.objects.filter(**subject).order_by("seq").values_list("seq", "prev_hash", "hash")
    )


def assert_linked(rows: list[tuple[int, str, str]]) -> None:
    """Positions 1, 2, …; each event's prev_hash is the hash before it."""
    assert [seq for seq, _p, _h in rows] == list(range(1, len(rows) + 1))
    previous = GENESIS
    for _seq, prev, digest in rows:
        assert prev == previous and len(digest) == 64 and digest != prev
        previous = digest


def stored_row(event_id: int) -> dict:
    """An event's columns as stored, `data` from its stored JSON text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kind, application_id, shipment_id, decision_id, from_status, to_status, "
            "occurred_at, recorded_at, actor_id, note, data::text, corrects_id, seq, prev_hash, "
            "hash FROM licenses_event WHERE id = %s",
            [event_id],
        )
        names = [c.name for c in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
    row["data"] = chain.parse_stored(row.pop("data"))
    return row


def tamper(sql: str, params: list) -> None:
    """Rewrite history as a database superuser could: with the triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def run_verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_events", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_broken_verify(*args: str) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("verify_events", *args, stdout=out, stderr=io.StringIO())
    assert refused.value.returncode == 1
    return out.getvalue()


# --- every writer links -----------------------------------------------------------------------


def test_a_single_event_is_linked_after_the_one_before_it_and_its_hash_covers_its_fields(
    officer,
):
    app = ApplicationFactory()
    submitted(app, "2026-09-01", actor=officer)  # its move, its due date, its flags
    moved, due = app.events.order_by("seq")[:2]
    assert (moved.kind, moved.seq, moved.prev_hash) == ("status_changed", 1, GENESIS)
    assert (due.kind, due.seq, due.prev_hash) == ("due_date_changed", 2, moved.hash)
    before = app.events.order_by("-seq").first()
    accept = services.application_accept(
        application=app, at=at("2026-09-03"), now=NOW, actor=officer
    ).events.get(kind="status_changed", to_status="accepted")
    assert (accept.seq, accept.prev_hash) == (before.seq + 1, before.hash)
    assert_linked(links(application=app, shipment=None))
    for event in app.events.all():
        row = stored_row(event.pk)
        assert chain.event_hash(row, seq=row["seq"], prev_hash=row["prev_hash"]) == row["hash"]
    last = app.events.order_by("-seq").first()
    head = EventChain.objects.get(subject_type="application", subject_id=app.pk)
    assert (head.length, head.head, head.last_event_id) == (last.seq, last.hash, last.pk)


def test_a_shipments_events_form_its_own_chain_even_when_they_name_its_application():
    app = ApplicationFactory()
    shipment = new_shipment(app)
    submitted(app, "2026-09-01")  # the shipment follows, in a set-based insert
    followed = Event.objects.get(shipment=shipment, kind="status_changed")
    assert followed.application_id == app.pk
    created = Event.objects.get(shipment=shipment, kind="created")
    assert created.seq < followed.seq
    assert_linked(links(shipment=shipment))
    assert_linked(links(application=app, shipment=None))


def test_the_scans_set_based_statements_link_the_flags_events():
    app = pending()  # accepted 24 September 2026, due on 3 December
    last = app.events.order_by("-seq").first()
    scan.scan(now=dt.datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI))
    raised = app.events.filter(kind="flag_raised", data__flag="overdue").order_by("-seq")[0]
    assert raised.seq > last.seq and raised.id > last.id
    assert_linked(links(application=app, shipment=None))
    assert verify().intact


def test_a_fast_track_pass_links_the_due_date_events_of_every_application_it_moves():
    apps = [pending() for _ in range(3)]
    log(window_days=20)
    for app in apps:
        moved = app.events.filter(kind="fast_track_applied").order_by("seq").first()
        accept = app.events.get(kind="status_changed", to_status="accepted")
        assert moved is not None and moved.seq > accept.seq
        assert_linked(links(application=app, shipment=None))
    assert verify().intact


MARKERS = [10**9 + 3, 10**9 + 1, 10**9 + 2]  # flag ids no real flag has, in no order


def test_bulk_links_several_events_of_one_subject_in_the_order_given():
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    before = app.events.count()
    rows = [
        events.flag_row(
            "flag_raised",
            subject="application_id",
            subject_id=app.pk,
            flag="due_soon",
            flag_id=n,
            now=NOW,
        )
        for n in MARKERS
    ]
    events.bulk(rows)
    flags = list(app.events.filter(kind="flag_raised", data__flag_id__in=MARKERS).order_by("seq"))
    assert [e.data["flag_id"] for e in flags] == MARKERS
    assert [e.seq for e in flags] == [before + 1, before + 2, before + 3]
    assert_linked(links(application=app, shipment=None))


def test_a_set_based_insert_links_many_subjects_several_events_each_and_new_ones_too():
    """`bulk` links its rows in its own statement (`linked_insert`): several rows of one
    subject in the order given, after what the chain held; a subject with no chain yet is
    linked by the trigger, in the same statement."""
    known = [ApplicationFactory() for _ in range(3)]
    for app in known:
        submitted(app, "2026-09-01")
    fresh = ApplicationFactory()  # no event yet: no chain
    rows = [
        events.flag_row(
            "flag_cleared",
            subject="application_id",
            subject_id=app.pk,
            flag="due_soon",
            flag_id=1000 * n + app.pk,
            now=NOW,
        )
        for n in range(3)
        for app in [*known, fresh]
    ]
    before = {app.pk: app.events.count() for app in known}
    assert events.bulk(rows) == 12
    for app in [*known, fresh]:
        cleared = list(app.events.filter(kind="flag_cleared", data__flag_id__gte=app.pk))
        ordered = sorted(cleared, key=lambda e: e.seq)
        assert [e.data["flag_id"] for e in ordered] == [app.pk, 1000 + app.pk, 2000 + app.pk]
        assert [e.id for e in ordered] == sorted(e.id for e in ordered)  # ids in order too
        assert_linked(links(application=app, shipment=None))
        head = EventChain.objects.get(subject_type="application", subject_id=app.pk)
        assert (head.length, head.head) == (ordered[-1].seq, ordered[-1].hash)
    assert [e.seq for e in fresh.events.order_by("seq")] == [1, 2, 3]
    for app in known:
        assert app.events.filter(kind="flag_cleared").order_by("seq").first().seq == (
            before[app.pk] + 1
        )
    assert verify().intact


def test_the_database_overwrites_a_link_a_caller_sends():
    app = ApplicationFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO licenses_event (kind, application_id, occurred_at, recorded_at, data, "
            "from_status, to_status, note, seq, prev_hash, hash) "
            "VALUES ('edited', %s, %s, %s, '{\"edited\": {}}', '', '', '', 7, %s, %s) "
            "RETURNING seq, prev_hash, hash",
            [app.pk, NOW, NOW, "f" * 64, "e" * 64],
        )
        seq, prev, digest = cursor.fetchone()
    assert (seq, prev) == (1, GENESIS) and digest not in ("e" * 64, "f" * 64)
    assert verify(subject=("application", app.pk)).intact


# --- one serialisation, in Python and in SQL -----------------------------------------------------

AWKWARD = {
    "b": 1,
    "a": 'Ganzhou 赣州 — "quoted" \\ back\nline\ttab\x01\x1f\x7f 🚢',
    "longer_key": [1, -2, 12345678901234567890, True, False, None, {"z": 0, "y": [], "x": {}}],
    "é": "non-ASCII key, two bytes",
    "ab": {"nested": {"deeper": "yes"}, "n": 3},
    "": "an empty key",
}


def test_sql_and_python_write_the_same_canonical_record_for_awkward_data():
    app = ApplicationFactory()
    event = events.edited(application=app, edited=AWKWARD, now=NOW, actor=None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT licenses_event_record(e, e.seq), "
            "jsonb_build_object('edited', %s::jsonb)::text, e.data::text "
            "FROM licenses_event e WHERE id = %s",
            [chain.canonical(AWKWARD), event.pk],
        )
        sql_record, jsonb_text, stored = cursor.fetchone()
    row = stored_row(event.pk)
    assert chain.record(row, seq=row["seq"]) == sql_record
    # The canonical form is PostgreSQL's own jsonb text, whatever order the keys came in.
    assert chain.canonical({"edited": AWKWARD}) == jsonb_text == stored
    assert chain.event_hash(row, seq=row["seq"], prev_hash=row["prev_hash"]) == event.hash


def test_canonical_numbers_are_plain_decimals_as_postgresql_prints_them():
    assert chain.canonical(1.5) == "1.5"
    assert chain.canonical(1e-7) == "0.0000001"
    assert chain.canonical(Decimal("1E+3")) == "1000"
    assert chain.canonical(-0.0) == "0.0"
    with connection.cursor() as cursor:
        cursor.execute("SELECT '[1.5, 1e-7, 1E+3, -0.0]'::jsonb::text")
        assert cursor.fetchone()[0] == chain.canonical([1.5, 1e-7, Decimal("1E+3"), -0.0])


def test_the_fold_the_migration_links_stored_events_with_gives_the_triggers_hashes():
    """The migration links the events already stored with a window aggregate; the trigger
    links each new one. Both must give the same chain."""
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-03")
    shipment = new_shipment(app)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, hash, licenses_event_chain_fold(%s, licenses_event_record(e, e.seq)) "
            "OVER (PARTITION BY COALESCE(shipment_id, application_id), shipment_id IS NULL "
            "ORDER BY seq ROWS UNBOUNDED PRECEDING) FROM licenses_event e "
            "WHERE application_id = %s OR shipment_id = %s",
            [GENESIS, app.pk, shipment.pk],
        )
        rows = cursor.fetchall()
    assert len(rows) >= 4
    assert all(stored == folded for _id, stored, folded in rows)


# --- two writers of one subject take turns ---------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_of_one_subject_take_turns_on_its_chain_and_never_fork_it():
    """A second transaction writing the same application's events waits on its chain's row
    until the first commits, then links after it."""
    import threading

    from django.db import connections, transaction

    app = ApplicationFactory()
    first_wrote, second_started, results = threading.Event(), threading.Event(), {}

    def write(name: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                if not hold:
                    second_started.set()
                event = events.edited(application=app, edited={"by": name}, now=NOW, actor=None)
                results[name] = event.seq
                if hold:
                    first_wrote.set()
                    assert second_started.wait(10)
                    wait_until_blocked(app.pk)
        finally:
            connections.close_all()

    def wait_until_blocked(app_id: int) -> None:
        """Until the other writer waits for a lock (it cannot link before we commit)."""
        import time

        deadline = time.monotonic() + 10
        with connections["default"].cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    return
        raise AssertionError("the second writer never waited")

    first = threading.Thread(target=write, args=("first", True))
    first.start()
    assert first_wrote.wait(10)
    second = threading.Thread(target=write, args=("second", False))
    second.start()
    first.join(20)
    second.join(20)
    assert results == {"first": 1, "second": 2}
    assert_linked(links(application=app, shipment=None))
    assert verify(subject=("application", app.pk)).intact


# --- verify_events ---------------------------------------------------------------------------


@pytest.fixture
def history(officer):
    """Two exporters' applications with a few moves each, and a shipment."""
    ganzhou, baotou = ExporterFactory(), ExporterFactory()
    apps = []
    for exporter in (ganzhou, baotou):
        app = ApplicationFactory(exporter=exporter)
        submitted(app, "2026-09-01", actor=officer)
        accepted(app, "2026-09-03", actor=officer)
        apps.append(app)
    shipment = new_shipment(apps[0])
    return {"ganzhou": ganzhou, "baotou": baotou, "apps": apps, "shipment": shipment}


def test_verify_events_says_how_many_chains_and_events_are_intact(history):
    out = run_verify()
    chains, count = EventChain.objects.count(), Event.objects.count()
    assert f"Intact: {chains:,} chains, {count:,} events verified." in out
    exporter = history["ganzhou"].pk
    mine = Event.objects.filter(exporter_events(exporter)).count()
    assert f"Intact: 2 chains, {mine:,} events verified." in run_verify(f"--exporter={exporter}")
    app = history["apps"][1]
    count = app.events.count()
    assert f"Intact: 1 chains, {count} events verified." in run_verify(
        f"--subject=application:{app.pk}"
    )


def test_a_payload_changed_by_raw_sql_is_named_with_both_hashes(history):
    app = history["apps"][1]
    submitted_event = app.events.get(kind="status_changed", to_status="submitted")
    tamper(
        "UPDATE licenses_event SET data = jsonb_set(data, '{move}', '\"approve\"') WHERE id = %s",
        [submitted_event.pk],
    )
    report = verify()
    assert report.broken_chains == 1
    [found] = report.breaks
    assert (found.subject_type, found.subject_id, found.event_id, found.problem) == (
        "application",
        app.pk,
        submitted_event.pk,
        "hash",
    )
    assert found.stored == submitted_event.hash and found.expected != found.stored
    out = run_broken_verify()
    assert (
        f"First broken link: application {app.pk}, event {submitted_event.pk} "
        f"(position {submitted_event.seq}): "
        f"expected hash {found.expected}, stored {submitted_event.hash}"
    ) in out
    assert "BROKEN: 1 of" in out
    # The other exporter's chains are still intact.
    assert "Intact" in run_verify(f"--exporter={history['ganzhou'].pk}")


def test_a_deleted_event_breaks_the_link_of_the_one_after_it(history):
    app = history["apps"][0]
    _first, second, third = app.events.filter(shipment=None).order_by("seq")[:3]
    tamper("DELETE FROM licenses_event WHERE id = %s", [second.pk])
    [found] = verify(subject=("application", app.pk)).breaks
    assert (found.event_id, found.problem, found.expected, found.stored) == (
        third.pk,
        "seq",
        "2",
        "3",
    )
    out = run_broken_verify(f"--subject=application:{app.pk}")
    assert f"application {app.pk}, event {third.pk} (position 3)" in out


def test_a_chain_whose_latest_events_were_deleted_is_caught_by_its_head(history):
    shipment = history["shipment"]
    last = Event.objects.filter(shipment=shipment).order_by("-seq").first()
    tamper("DELETE FROM licenses_event WHERE id = %s", [last.pk])
    [found] = verify(subject=("shipment", shipment.pk)).breaks
    assert (found.problem, found.event_id) == ("head", last.pk)
    assert f"hash {last.hash}" in found.expected


def test_a_rewritten_chain_with_consistent_hashes_still_disagrees_with_its_head(history):
    """Rewriting an event and re-hashing the chain from there passes the links, but not the
    chain's head (and not an audit export's heads: see test_audit_export)."""
    app = history["apps"][1]
    last = app.events.filter(shipment=None).order_by("-seq").first()
    row = stored_row(last.pk)
    row["note"] = "rewritten"
    forged = chain.event_hash(row, seq=row["seq"], prev_hash=row["prev_hash"])
    tamper(
        "UPDATE licenses_event SET note = 'rewritten', hash = %s WHERE id = %s",
        [forged, last.pk],
    )
    [found] = verify().breaks
    assert found.problem == "head" and forged in found.stored


def test_verify_events_refuses_a_subject_it_cannot_read():
    with pytest.raises(CommandError, match="--subject takes"):
        call_command("verify_events", "--subject=flag:1")
