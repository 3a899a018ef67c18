"""The audit export: an exporter's events recorded in a period with their links, its chains'
heads at the end of the period and their digest, in CSV and JSON; checked later against the
live record by `verify_events --export`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from licenses import audit, services
from licenses.events import chain
from licenses.models import Event, EventChain
from shipments import services as shipping

from ..factories import ApplicationFactory, ConsigneeFactory, item
from ..helpers import NOW, at
from .test_event_chain import stored_row, tamper

pytestmark = pytest.mark.django_db

OCTOBER = audit.Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def move(service, app, day: str, **kwargs):
    """A move recorded when it happened (so its events are recorded that day)."""
    when = at(day)
    return service(application=app, at=when, now=when, actor=None, **kwargs)


@pytest.fixture
def book(ganzhou, baotou):
    """Ganzhou: an application with a shipment recorded in August, submitted in September,
    accepted in October (with a note a spreadsheet would run) and approved in November;
    Baotou: an application accepted in October too."""
    app = ApplicationFactory(exporter=ganzhou)
    shipment = shipping.shipment_create(
        now=at("2026-08-20"),
        actor=None,
        exporter=ganzhou,
        reference="GZ-AUDIT-1",
        item=item(),
        quantity=Decimal("100"),
        value=Decimal("1000"),
        currency=app.currency,
        destination=app.destination,
        planned_ship_date=dt.date(2026, 12, 20),
        consignee=ConsigneeFactory(exporter=ganzhou),
        application=app,
    )
    move(services.application_submit, app, "2026-09-01")
    move(services.application_accept, app, "2026-10-05", note="=HYPERLINK(evil)")
    move(
        services.application_approve,
        app,
        "2026-11-10",
        license_number="L-1",
        valid_until=dt.date(2027, 11, 10),
    )
    theirs = ApplicationFactory(exporter=baotou)
    move(services.application_submit, theirs, "2026-09-02")
    move(services.application_accept, theirs, "2026-10-06")
    return {"app": app, "shipment": shipment, "theirs": theirs}


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def export_json(exporter, period=OCTOBER, now=NOW) -> dict:
    return json.loads(body(audit.export_response(exporter, period, "json", now=now)))


def export_csv(exporter, period=OCTOBER, now=NOW) -> list[dict[str, str]]:
    text = body(audit.export_response(exporter, period, "csv", now=now))
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def recomputed(event: dict) -> str:
    """An exported event's hash, from the export alone (the record's keys, as exported)."""
    row = {column: event[key] for key, column in chain.RECORD_FIELDS if key != "seq"}
    return chain.event_hash(row, seq=event["seq"], prev_hash=event["prev_hash"])


def test_the_json_export_holds_the_exporters_events_of_the_period_each_recomputable(ganzhou, book):
    exported = export_json(ganzhou)
    app = book["app"]
    in_october = Event.objects.filter(
        application=app,
        shipment=None,
        recorded_at__gte=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        recorded_at__lt=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    ).order_by("seq")
    assert [e["id"] for e in exported["events"]] == [e.pk for e in in_october]
    assert in_october.filter(kind="status_changed", to_status="accepted").exists()
    assert (exported["from"], exported["to"]) == ("2026-10-01", "2026-10-31")
    assert exported["period_start"] == "2026-10-01T00:00:00.000000Z"
    assert exported["period_end"] == "2026-11-01T00:00:00.000000Z"
    assert exported["exporter"] == {"id": ganzhou.pk, "name": ganzhou.name}
    for event in exported["events"]:
        stored = Event.objects.get(pk=event["id"])
        assert (event["seq"], event["prev_hash"], event["hash"]) == (
            stored.seq,
            stored.prev_hash,
            stored.hash,
        )
        assert event["subject_type"] == "application" and event["subject_id"] == app.pk
        assert recomputed(event) == event["hash"]
    # The other exporter's events are not there, though recorded in the same days.
    assert not any(e["application"] == book["theirs"].pk for e in exported["events"])


def heads_at(end: dt.datetime, **subjects) -> list[dict]:
    """Each chain's event of the highest position recorded before `end`."""
    heads = []
    for subject_type, subject in subjects.items():
        chain_events = Event.objects.filter(**{subject_type: subject}, recorded_at__lt=end)
        if subject_type == "application":
            chain_events = chain_events.filter(shipment=None)
        last = chain_events.order_by("-seq").first()
        heads.append(
            {
                "subject_type": subject_type,
                "subject_id": subject.pk,
                "seq": last.seq,
                "event": last.pk,
                "hash": last.hash,
            }
        )
    return heads


def test_the_heads_are_each_chains_latest_event_at_the_end_of_the_period_with_their_digest(
    ganzhou, book
):
    exported = export_json(ganzhou)
    app, shipment = book["app"], book["shipment"]
    end = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert exported["heads"] == heads_at(end, application=app, shipment=shipment)
    # The approval (in November) is not in the heads: they are as they were at the end.
    head = EventChain.objects.get(subject_type="application", subject_id=app.pk)
    assert exported["heads"][0]["seq"] < head.length
    lines = "".join(
        f"{h['subject_type']}:{h['subject_id']}:{h['seq']}:{h['hash']}\n" for h in exported["heads"]
    )
    assert exported["digest"] == hashlib.sha256(lines.encode()).hexdigest()


def test_a_period_still_running_holds_what_was_recorded_up_to_the_export(ganzhou, book):
    november = audit.Period(dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    exported = export_json(ganzhou, november, now=NOW)
    assert exported["period_end"] == "2027-01-01T00:00:00.000000Z"
    assert exported["generated_at"] == chain.moment(NOW)
    moves = {(e["subject_type"], e["to_status"]) for e in exported["events"]}
    assert ("application", "approved") in moves and ("shipment", "cleared") in moves
    assert exported["heads"] == heads_at(NOW, application=book["app"], shipment=book["shipment"])


def test_the_csv_export_has_the_same_events_heads_and_digest_and_runs_no_formula(ganzhou, book):
    exported = export_json(ganzhou)
    rows = export_csv(ganzhou)
    events = [r for r in rows if r["record"] == "event"]
    assert [int(r["id"]) for r in events] == [e["id"] for e in exported["events"]]
    assert all(r["exporter"] == str(ganzhou.pk) for r in rows)
    assert {(r["period_from"], r["period_to"]) for r in rows} == {("2026-10-01", "2026-10-31")}
    for row, event in zip(events, exported["events"], strict=True):
        assert row["hash"] == event["hash"] and row["prev_hash"] == event["prev_hash"]
        assert row["data"] == chain.canonical(event["data"])
        assert row["occurred_at"] == event["occurred_at"]
    accept = next(r for r in events if r["to_status"] == "accepted")
    assert accept["note"] == "'=HYPERLINK(evil)"  # a spreadsheet shows it, never runs it
    heads = [r for r in rows if r["record"] == "head"]
    assert [(r["subject_type"], r["subject_id"], r["seq"], r["id"], r["hash"]) for r in heads] == [
        (h["subject_type"], str(h["subject_id"]), str(h["seq"]), str(h["event"]), h["hash"])
        for h in exported["heads"]
    ]
    [digest] = [r for r in rows if r["record"] == "digest"]
    assert digest["hash"] == exported["digest"]


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def verify_against(path) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_events", f"--export={path}", stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_is_checked_against_the_live_record_later(ganzhou, book, tmp_path, fmt):
    text = body(audit.export_response(ganzhou, OCTOBER, fmt, now=NOW))
    path = write(tmp_path, f"audit.{fmt}", text)
    out, error = verify_against(path)
    assert error is None, out
    assert "2 of 2 exported chain heads are in the record." in out
    assert "Intact: 2 chains" in out  # the exporter's application and shipment

    # Someone rewrites the accepted move (recorded in October) and re-hashes its chain from
    # there, its head too: every link checks out again, but not the head the export kept.
    app = book["app"]
    later = list(app.events.filter(shipment=None).order_by("seq"))
    accept = next(e for e in later if e.to_status == "accepted")
    prev = accept.prev_hash
    for event in later[later.index(accept) :]:
        row = stored_row(event.pk)
        if event.pk == accept.pk:
            row["note"] = "accepted a week earlier"
        forged = chain.event_hash(row, seq=row["seq"], prev_hash=prev)
        tamper(
            "UPDATE licenses_event SET note = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [row["note"], prev, forged, event.pk],
        )
        prev = forged
    tamper(
        "UPDATE licenses_eventchain SET head = %s WHERE subject_type = 'application' "
        "AND subject_id = %s",
        [prev, app.pk],
    )
    assert "Intact" in verify_against_nothing()
    out, error = verify_against(path)
    assert error is not None and error.returncode == 1
    assert "1 of 2 exported chain heads are in the record." in out
    assert f"application {app.pk}, position" in out and "changed since the export" in out


def verify_against_nothing() -> str:
    out = io.StringIO()
    call_command("verify_events", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_an_export_whose_heads_were_edited_is_refused(ganzhou, book, tmp_path):
    exported = export_json(ganzhou)
    exported["heads"][0]["hash"] = "0" * 64
    path = write(tmp_path, "audit.json", json.dumps(exported))
    with pytest.raises(CommandError, match="digest does not match"):
        call_command("verify_events", f"--export={path}", stdout=io.StringIO())


def test_the_period_needs_both_days_in_order():
    assert audit.period_errors(None, dt.date(2026, 1, 1)) == {
        "from": "Give the first day of the period."
    }
    assert audit.period_errors(dt.date(2026, 2, 1), dt.date(2026, 1, 1)) == {
        "to": "The last day is before the first."
    }
    assert audit.period_errors(dt.date(2026, 1, 1), dt.date(2026, 1, 1)) == {}
    assert audit.Period(dt.date(2026, 1, 1), dt.date.max).end.year == 9999
