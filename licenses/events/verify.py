"""Re-compute the chains of events from the stored rows alone (`manage.py verify_events`).

Steps, chain by chain (its events in the order of their positions, read in chunks):

1. Each event must hold the next position (1, 2, …): a gap means an event before it is gone.
2. Its `prev_hash` must be the `hash` stored on the event before it (`GENESIS` for the
   first): anything else means an event was deleted, inserted or moved before it.
3. Its `hash` must be the hash of its own fields and its `prev_hash` (`chain.event_hash`),
   re-computed here: anything else means a field was changed after it was written.
4. The chain's row (`EventChain`) must name the last event's position and hash: anything
   else means events were deleted from its end (or the row was changed).

The first broken link of each chain is reported (the events after it are checked against
what is stored, but not reported), with the subject, the event and both hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, CharField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Coalesce

from ..models import ChainSubject, Event, EventChain
from . import chain

# What a stored event's row holds, read in this order.
_COLUMNS = (
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
    "note",
    "stored_data",
    "corrects_id",
    "seq",
    "prev_hash",
    "hash",
    "chain_type",
    "chain_id",
)


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: what is wrong (`problem`: "seq", "prev_hash",
    "hash", "head", "no_head", or "export" for a head written down earlier), where, and what
    was expected against what is stored."""

    subject_type: str
    subject_id: int
    event_id: int | None
    seq: int | None
    problem: str
    expected: str
    stored: str

    def describe(self) -> str:
        where = f"{self.subject_type} {self.subject_id}"
        event = f"event {self.event_id} (position {self.seq})"
        if self.problem == "seq":
            return (
                f"{where}, {event}: expected position {self.expected}, stored {self.stored} "
                "— an event before it is missing or was inserted"
            )
        if self.problem == "prev_hash":
            return (
                f"{where}, {event}: expected previous hash {self.expected}, stored "
                f"{self.stored} — an event before it was deleted, inserted or changed"
            )
        if self.problem == "hash":
            return (
                f"{where}, {event}: expected hash {self.expected}, stored {self.stored} "
                "— the event was changed after it was written"
            )
        if self.problem == "export":
            return (
                f"{where}, position {self.seq}: the export says hash {self.expected}, the "
                f"record holds {self.stored} — the chain was changed since the export"
            )
        if self.problem == "no_head":
            return f"{where}: its events have no chain head (expected {self.expected})"
        return (
            f"{where}: the chain's head says {self.expected}, its events end at "
            f"{self.stored} — events were deleted from its end, or the head was changed"
        )


@dataclass
class Report:
    chains: int = 0
    events: int = 0
    broken_chains: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.broken_chains == 0


def chain_type() -> Case:
    return Case(
        When(shipment__isnull=False, then=Value(ChainSubject.SHIPMENT.value)),
        When(application__isnull=False, then=Value(ChainSubject.APPLICATION.value)),
        default=Value(ChainSubject.DECISION.value),
        output_field=CharField(),
    )


def chain_key() -> Coalesce:
    return Coalesce("shipment_id", "application_id", "decision_id")


def exporter_events(exporter_id: int) -> Q:
    """The events of an exporter's chains: those of its shipments, and those of its
    applications that name no shipment."""
    shipments, applications = _exporter_subjects(exporter_id)
    return Q(shipment_id__in=shipments) | Q(shipment__isnull=True, application_id__in=applications)


def _exporter_subjects(exporter_id: int) -> tuple[QuerySet, QuerySet]:
    """The ids of an exporter's shipments and applications, as subqueries."""
    from django.apps import apps
    from django.conf import settings

    from ..models import LicenseApplication

    shipment = apps.get_model(settings.EVENT_SHIPMENT_MODEL)
    return (
        shipment.objects.filter(exporter_id=exporter_id).values("pk"),
        LicenseApplication.objects.filter(exporter_id=exporter_id).values("pk"),
    )


def subject_events(subject_type: str, subject_id: int) -> Q:
    if subject_type == ChainSubject.SHIPMENT:
        return Q(shipment_id=subject_id)
    if subject_type == ChainSubject.APPLICATION:
        return Q(shipment__isnull=True, application_id=subject_id)
    return Q(shipment__isnull=True, application__isnull=True, decision_id=subject_id)


def chains_of_exporter(exporter_id: int) -> Q:
    shipments, applications = _exporter_subjects(exporter_id)
    return Q(subject_type=ChainSubject.SHIPMENT, subject_id__in=shipments) | Q(
        subject_type=ChainSubject.APPLICATION, subject_id__in=applications
    )


def stored_events(condition: Q | None = None) -> QuerySet:
    """The stored events (all, or those matching `condition`) as rows of `_COLUMNS`, chain by
    chain, each in order of position; `data` as its stored JSON text."""
    qs = Event.objects.all()
    if condition is not None:
        qs = qs.filter(condition)
    return (
        qs.annotate(
            chain_type=chain_type(),
            chain_id=chain_key(),
            stored_data=Cast("data", output_field=TextField()),
        )
        .order_by("chain_type", "chain_id", "seq", "id")
        .values_list(*_COLUMNS)
    )


def _as_row(values: tuple[Any, ...]) -> dict[str, Any]:
    row = dict(zip(_COLUMNS, values, strict=True))
    row["data"] = chain.parse_stored(row.pop("stored_data"))
    return row


def _chains(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[tuple[str, int], list[dict]]]:
    """The rows grouped by chain (they come ordered by it)."""
    current: tuple[str, int] | None = None
    events: list[dict[str, Any]] = []
    for values in rows:
        row = _as_row(values)
        key = (row["chain_type"], row["chain_id"])
        if key != current and events:
            assert current is not None
            yield current, events
            events = []
        current = key
        events.append(row)
    if events:
        assert current is not None
        yield current, events


def check_chain(key: tuple[str, int], events: list[dict[str, Any]]) -> Break | None:
    """The first broken link among a chain's events (in order of position), if any."""
    subject_type, subject_id = key
    prev = chain.GENESIS
    first: Break | None = None
    for position, event in enumerate(events, 1):

        def broken(problem: str, expected: Any, stored: Any, event: dict = event) -> Break:
            return Break(
                subject_type,
                subject_id,
                event["id"],
                event["seq"],
                problem,
                str(expected),
                str(stored),
            )

        if first is None:
            if event["seq"] != position:
                first = broken("seq", position, event["seq"])
            elif event["prev_hash"] != prev:
                first = broken("prev_hash", prev, event["prev_hash"])
            else:
                expected = chain.event_hash(event, seq=event["seq"], prev_hash=event["prev_hash"])
                if expected != event["hash"]:
                    first = broken("hash", expected, event["hash"])
        prev = event["hash"]
    return first


def _head_break(key: tuple[str, int], events: list[dict], head: EventChain | None) -> Break | None:
    last = events[-1]
    ends = f"position {last['seq']}, hash {last['hash']}"
    if head is None:
        return Break(key[0], key[1], None, None, "no_head", ends, "")
    if head.length != last["seq"] or head.head != last["hash"]:
        return Break(
            key[0],
            key[1],
            head.last_event_id,
            head.length,
            "head",
            f"position {head.length}, hash {head.head}",
            ends,
        )
    return None


def verify(
    *,
    exporter_id: int | None = None,
    subject: tuple[str, int] | None = None,
    chunk_size: int = 5000,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Re-compute every chain (or an exporter's, or one subject's); see the module docstring.
    Reads the events and the chains' heads in two ordered streams, `chunk_size` rows at a
    time, so its memory does not grow with the log."""
    condition: Q | None = None
    heads = EventChain.objects.all()
    if subject is not None:
        condition = subject_events(*subject)
        heads = heads.filter(subject_type=subject[0], subject_id=subject[1])
    elif exporter_id is not None:
        condition = exporter_events(exporter_id)
        heads = heads.filter(chains_of_exporter(exporter_id))
    head_rows = iter(heads.order_by("subject_type", "subject_id").iterator(chunk_size=chunk_size))
    head = next(head_rows, None)
    report = Report()

    def record(found: Break | None) -> None:
        if found is not None:
            report.broken_chains += 1
            report.breaks.append(found)

    for key, events in _chains(stored_events(condition).iterator(chunk_size=chunk_size)):
        report.chains += 1
        report.events += len(events)
        # Heads of chains that have no events any more come before this one.
        while head is not None and (head.subject_type, head.subject_id) < key:
            record(_orphan(head))
            report.chains += 1
            head = next(head_rows, None)
        matching = (
            head if head is not None and (head.subject_type, head.subject_id) == key else None
        )
        if matching is not None:
            head = next(head_rows, None)
        record(check_chain(key, events) or _head_break(key, events, matching))
        if progress is not None and report.chains % 10000 == 0:
            progress(report)
    while head is not None:
        record(_orphan(head))
        report.chains += 1
        head = next(head_rows, None)
    return report


def _orphan(head: EventChain) -> Break:
    """A chain's head whose events are all gone."""
    return Break(
        head.subject_type,
        head.subject_id,
        head.last_event_id,
        head.length,
        "head",
        f"position {head.length}, hash {head.head}",
        "no events",
    )


def check_heads(heads: list[tuple[str, int, int, str]], *, batch: int = 1000) -> list[Break]:
    """Heads written down earlier (subject type, id, position, hash: an audit export's) against
    the live record: the event at that position of that chain must still carry that hash.
    With `verify` of the same chains passing, everything up to each head is as it was then."""
    found: list[Break] = []
    for start in range(0, len(heads), batch):
        part = heads[start : start + batch]
        condition = Q()
        for subject_type, subject_id, seq, _hash in part:
            condition |= subject_events(subject_type, subject_id) & Q(seq=seq)
        live = {
            (t, i, s): (pk, h)
            for t, i, s, pk, h in Event.objects.filter(condition)
            .annotate(chain_type=chain_type(), chain_id=chain_key())
            .values_list("chain_type", "chain_id", "seq", "id", "hash")
        }
        for subject_type, subject_id, seq, digest in part:
            pk, stored = live.get((subject_type, subject_id, seq), (None, "no such event"))
            if stored != digest:
                found.append(Break(subject_type, subject_id, pk, seq, "export", digest, stored))
    return found
