"""The audit export: an exporter's events recorded in a period, each with its link in its chain
(`seq`, `prev_hash`, `hash`), then the head of each of the exporter's chains at the end of the
period and one digest of those heads, in CSV or JSON, for the web page and the API alike.

- **The period** is whole UTC days, both included: events recorded from 00:00 UTC on the first
  day up to (not including) 00:00 UTC on the day after the last. A period that has not ended
  yet holds what was recorded up to the moment of the export (`generated_at`).
- **The events** are those of the exporter's chains (its applications' and its shipments'),
  chain by chain, each chain's in order of position: what `chain.record` needs to recompute
  every hash is there as the record writes it (ids, moments in UTC with microseconds, `data`
  as canonical JSON).
- **A chain's head** at the end of the period is its event of the highest position among
  those recorded before that end; every chain of the exporter with such an event has one,
  whether or not it changed in the period. The **digest** is the sha256 (hex) of the heads,
  one line `subject_type:subject_id:seq:hash` each ending in a newline, ordered by subject
  type, then id. Keep it (or the file): `manage.py verify_events --export FILE` checks later
  that every head is still in the live record, and since each hash covers everything before
  it, so is every earlier event of those chains.

Everything is read in one query (the exporter's events up to the end of the period, the
payloads only of those in it), so events and heads are one consistent picture, streamed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import BooleanField, Case, F, Q, TextField, When
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from core.web import stream_csv

from .events import chain
from .events.verify import chain_key, chain_type, exporter_events
from .models import ChainSubject, Event, Exporter

FORMATS = ("csv", "json")

# The columns of an event in the export (CSV header and JSON keys), in this order. Those named
# as in the record (`chain.RECORD_FIELDS`) hold its values as the record writes them.
EVENT_COLUMNS = (
    "subject_type",
    "subject_id",
    "seq",
    "id",
    "kind",
    "application",
    "shipment",
    "decision",
    "from_status",
    "to_status",
    "occurred_at",
    "recorded_at",
    "actor",
    "actor_username",
    "note",
    "data",
    "corrects",
    "prev_hash",
    "hash",
)
CSV_COLUMNS = ("record", "exporter", "period_from", "period_to", *EVENT_COLUMNS)


@dataclass(frozen=True)
class Period:
    """Whole UTC days, `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The instant after the period (00:00 UTC the day after its last day)."""
        if self.last >= dt.date.max:
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), dt.UTC)


def period_errors(first: dt.date | None, last: dt.date | None) -> dict[str, str]:
    """What is wrong with a period's days, by field (`from`, `to`)."""
    errors = {}
    if first is None:
        errors["from"] = _("Give the first day of the period.")
    if last is None:
        errors["to"] = _("Give the last day of the period.")
    if first is not None and last is not None and last < first:
        errors["to"] = _("The last day is before the first.")
    return errors


@dataclass(frozen=True)
class Head:
    subject_type: str
    subject_id: int
    seq: int
    event_id: int
    hash: str

    def line(self) -> str:
        return f"{self.subject_type}:{self.subject_id}:{self.seq}:{self.hash}\n"


def digest(heads: list[Head]) -> str:
    """The sha256 (hex) of the heads' lines, ordered by subject type, then id."""
    ordered = sorted(heads, key=lambda h: (h.subject_type, h.subject_id))
    return hashlib.sha256("".join(h.line() for h in ordered).encode()).hexdigest()


class Audit:
    """One export being written: the exporter's events up to the end of the period read once,
    chain by chain; the events in the period come out as they are read
    (`events`), the heads once they all have been (`heads`)."""

    def __init__(self, exporter: Exporter, period: Period, *, now: dt.datetime) -> None:
        self.exporter = exporter
        self.period = period
        self.now = now
        self.end = period.end
        self.heads: list[Head] = []

    def events(self) -> Iterator[dict[str, Any]]:
        in_period = Q(recorded_at__gte=self.period.start)
        rows = (
            Event.objects.filter(exporter_events(self.exporter.pk), recorded_at__lt=self.end)
            .annotate(
                chain_type=chain_type(),
                chain_id=chain_key(),
                in_period=Case(
                    When(in_period, then=True), default=False, output_field=BooleanField()
                ),
                stored_data=Case(
                    When(in_period, then=Cast("data", output_field=TextField())),
                    default=None,
                    output_field=TextField(),
                ),
                actor_username=F("actor__username"),
            )
            .order_by("chain_type", "chain_id", "seq", "id")
            .values(
                "chain_type",
                "chain_id",
                "seq",
                "id",
                "kind",
                "application_id",
                "shipment_id",
                "decision_id",
                "from_status",
                "to_status",
                "occurred_at",
                "recorded_at",
                "actor_id",
                "actor_username",
                "note",
                "stored_data",
                "corrects_id",
                "prev_hash",
                "hash",
                "in_period",
            )
        )
        last: Head | None = None
        for row in rows.iterator(chunk_size=2000):
            if last is not None and (last.subject_type, last.subject_id) != (
                row["chain_type"],
                row["chain_id"],
            ):
                self.heads.append(last)
            last = Head(row["chain_type"], row["chain_id"], row["seq"], row["id"], row["hash"])
            if row["in_period"]:
                yield {
                    "subject_type": row["chain_type"],
                    "subject_id": row["chain_id"],
                    "seq": row["seq"],
                    "id": row["id"],
                    "kind": row["kind"],
                    "application": row["application_id"],
                    "shipment": row["shipment_id"],
                    "decision": row["decision_id"],
                    "from_status": row["from_status"],
                    "to_status": row["to_status"],
                    "occurred_at": chain.moment(row["occurred_at"]),
                    "recorded_at": chain.moment(row["recorded_at"]),
                    "actor": row["actor_id"],
                    "actor_username": row["actor_username"],
                    "note": row["note"],
                    "data": chain.parse_stored(row["stored_data"]),
                    "corrects": row["corrects_id"],
                    "prev_hash": row["prev_hash"],
                    "hash": row["hash"],
                }
        if last is not None:
            self.heads.append(last)

    def filename(self, fmt: str) -> str:
        return f"audit-exporter-{self.exporter.pk}-{self.period.first}-{self.period.last}.{fmt}"

    def about(self) -> dict[str, Any]:
        return {
            "exporter": {"id": self.exporter.pk, "name": self.exporter.name},
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "period_start": chain.moment(self.period.start),
            "period_end": chain.moment(self.period.end),
            "generated_at": chain.moment(self.now),
        }


def _csv_rows(audit: Audit) -> Iterator[list[Any]]:
    common = [audit.exporter.pk, audit.period.first.isoformat(), audit.period.last.isoformat()]
    for event in audit.events():
        yield ["event", *common, *(_csv_value(event[c]) for c in EVENT_COLUMNS)]
    blank = dict.fromkeys(EVENT_COLUMNS, "")
    for head in audit.heads:
        values = {
            **blank,
            "subject_type": head.subject_type,
            "subject_id": head.subject_id,
            "seq": head.seq,
            "id": head.event_id,
            "hash": head.hash,
        }
        yield ["head", *common, *(values[c] for c in EVENT_COLUMNS)]
    yield ["digest", *common, *({**blank, "hash": digest(audit.heads)}[c] for c in EVENT_COLUMNS)]


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return chain.canonical(value)
    return value


def _json_chunks(audit: Audit) -> Iterator[str]:
    """The export as JSON, one event (and one head) a line; events in canonical JSON, so
    that `data` keeps its numbers exactly as stored."""
    about = json.dumps(audit.about(), ensure_ascii=False)
    yield about[:-1] + ', "events": ['
    separator = "\n"
    for event in audit.events():
        yield separator + chain.canonical({c: event[c] for c in EVENT_COLUMNS})
        separator = ",\n"
    yield '\n], "heads": ['
    separator = "\n"
    for head in audit.heads:
        yield separator + json.dumps(
            {
                "subject_type": head.subject_type,
                "subject_id": head.subject_id,
                "seq": head.seq,
                "event": head.event_id,
                "hash": head.hash,
            }
        )
        separator = ",\n"
    yield f'\n], "digest": "{digest(audit.heads)}"}}\n'


def export_response(
    exporter: Exporter, period: Period, fmt: str, *, now: dt.datetime
) -> StreamingHttpResponse:
    """The export as a download, streamed."""
    audit = Audit(exporter, period, now=now)
    if fmt == "csv":
        return stream_csv(audit.filename("csv"), CSV_COLUMNS, _csv_rows(audit))
    response = StreamingHttpResponse(_json_chunks(audit), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{audit.filename("json")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- reading an export back (`manage.py verify_events --export`) -------------------------------


@dataclass(frozen=True)
class Exported:
    exporter_id: int
    heads: list[tuple[str, int, int, str]]  # subject type, id, position, hash
    digest: str


def read_export(path: Path) -> Exported:
    """The exporter, the chain heads and the digest of an export written by this module (CSV
    or JSON); ValueError when it is neither, or its digest does not match its heads."""
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        heads = [
            (h["subject_type"], int(h["subject_id"]), int(h["seq"]), h["hash"])
            for h in data["heads"]
        ]
        exported = Exported(int(data["exporter"]["id"]), heads, data["digest"])
    else:
        rows = list(csv.DictReader(text.splitlines()))
        if not rows or "record" not in rows[0]:
            raise ValueError("not an audit export")
        heads = [
            (r["subject_type"], int(r["subject_id"]), int(r["seq"]), r["hash"])
            for r in rows
            if r["record"] == "head"
        ]
        digests = [r["hash"] for r in rows if r["record"] == "digest"]
        exported = Exported(int(rows[0]["exporter"]), heads, digests[0] if digests else "")
    for subject_type, *_rest in heads:
        if subject_type not in ChainSubject.values:
            raise ValueError(f"unknown subject type {subject_type!r}")
    written = digest([Head(t, i, s, 0, h) for t, i, s, h in heads])
    if written != exported.digest:
        raise ValueError("its digest does not match its chain heads (the file was changed)")
    return exported
