"""Which shipments need a license: evaluated, set-based, from the measures in force.

A measure *applies* on day d to an item and a destination when d lies in one of its periods
(its effective period minus its suspensions), the item is among its items and the destination
among its destinations (none: any). A shipment *needs a license* (`license_required`) when a
`control` measure applies to its item and destination on its planned ship date; an item that
no measure names at all always needs one. `license_required_today` is the same with the
authority's date today; the two differ before shipping: the `control_change` flag.

`evaluate_requirements`, the one writer of both columns and of the states they decide:

1. Read the measures once (`MeasureBook.load`: measures, their suspensions, their items) and
   build two ORM conditions from them — needs a license on the ship date, and today — as ORs
   of (items, destinations, ship-date range) per control measure and period. There are a few
   measures, so the conditions stay small whatever the number of shipments.
2. One SELECT (rows locked) finds the shipments in scope, before shipping, whose stored
   booleans differ from the conditions, or whose following state (planned / awaiting license
   / cleared) differs from what the requirement and the application give: not required ->
   `cleared`; required -> `FOLLOWS[application status]`.
3. A few UPDATEs (at most four for the booleans, three for the states) by id, one
   `status_changed` event per moved shipment (one bulk insert), then `licenses.signals.changed`
   for the moved and changed shipments: monitoring recomputes their file-by deadlines (null
   when no license is needed) and their flags (`file_by`, `control_change`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Case, CharField, Q, Value, When

from core.lookups import ids_in
from licenses import events, signals
from licenses.clock import local_date
from licenses.measures import Period, periods
from licenses.models import (
    Authority,
    ControlledItem,
    EventKind,
    Measure,
    MeasureKind,
    MeasureSuspension,
)

from ..models import FOLLOWING_STATUSES, Shipment, follow_status
from .states import FOLLOWS, SS

# Before shipping: the shipments whose need for a license is kept current.
IN_SCOPE = (SS.PLANNED, SS.AWAITING_LICENSE, SS.CLEARED, SS.ON_HOLD)


def _contains(period: Period, day: dt.date) -> bool:
    return period[0] <= day and (period[1] is None or day <= period[1])


@dataclass(frozen=True)
class MeasureRule:
    """What of a measure decides where it applies."""

    pk: int
    reference: str
    kind: str
    destinations: frozenset[str]
    items: frozenset[int]
    periods: tuple[Period, ...]

    def applies(self, *, item_id: int, destination: str, day: dt.date) -> bool:
        return (
            item_id in self.items
            and (not self.destinations or destination in self.destinations)
            and any(_contains(p, day) for p in self.periods)
        )

    def scope(self, items: Iterable[int] | None = None) -> Q:
        """Shipments of its items (or of `items`, a part of them) and destinations."""
        q = ids_in("item_id", self.items if items is None else items)
        if self.destinations:
            q &= Q(destination__in=sorted(self.destinations))
        return q


@dataclass
class MeasureBook:
    """The measures, read once (three queries; one when there is none), and the rules derived
    from them."""

    rules: list[MeasureRule] = field(default_factory=list)
    named: frozenset[int] = frozenset()  # items some measure (of any kind) names
    item_authority: dict[int, int] = field(default_factory=dict)  # of the named items

    @classmethod
    def load(cls) -> MeasureBook:
        measures = list(Measure.objects.order_by("pk"))
        if not measures:  # no measure recorded yet: every item needs a license (one query)
            return cls()
        suspensions: dict[int, list[MeasureSuspension]] = defaultdict(list)
        for s in MeasureSuspension.objects.order_by("starts_on", "pk"):
            suspensions[s.measure_id].append(s)
        items: dict[int, set[int]] = defaultdict(set)
        item_authority: dict[int, int] = {}
        through = Measure.items.through
        for measure_id, item_id, authority_id in through.objects.values_list(
            "measure_id", "controlleditem_id", "controlleditem__authority_id"
        ):
            items[measure_id].add(item_id)
            item_authority[item_id] = authority_id
        rules = [
            MeasureRule(
                pk=m.pk,
                reference=m.reference,
                kind=m.kind,
                destinations=frozenset(m.destinations or ()),
                items=frozenset(items[m.pk]),
                periods=tuple(periods(m, suspensions[m.pk])),
            )
            for m in measures
        ]
        return cls(rules=rules, named=frozenset(item_authority), item_authority=item_authority)

    @property
    def controls(self) -> list[MeasureRule]:
        return [r for r in self.rules if r.kind == MeasureKind.CONTROL and r.items]

    # --- one shipment, in Python ---------------------------------------------------------

    def applying(self, *, item_id: int, destination: str, day: dt.date) -> list[MeasureRule]:
        """The measures (any kind) that apply to the item and destination on `day`."""
        return [
            r for r in self.rules if r.applies(item_id=item_id, destination=destination, day=day)
        ]

    def required(self, *, item_id: int, destination: str, day: dt.date) -> bool:
        if item_id not in self.named:
            return True
        return any(
            r.applies(item_id=item_id, destination=destination, day=day) for r in self.controls
        )

    # --- many shipments, as conditions --------------------------------------------------

    def required_on_ship_date(self) -> Q:
        """Shipments that need a license on their planned ship date."""
        q = ~ids_in("item_id", self.named)
        for rule in self.controls:
            for start, end in rule.periods:
                dates = Q(planned_ship_date__gte=start)
                if end is not None:
                    dates &= Q(planned_ship_date__lte=end)
                q |= rule.scope() & dates
        return q

    def required_today(self, today: dict[int, dt.date]) -> Q:
        """Shipments that would need a license if they shipped today (`today`: each
        authority's date), by their item's authority."""
        q = ~ids_in("item_id", self.named)
        for rule in self.controls:
            by_authority: dict[int, set[int]] = defaultdict(set)
            for item_id in rule.items:
                by_authority[self.item_authority[item_id]].add(item_id)
            applying = sorted(
                item_id
                for authority_id, item_ids in by_authority.items()
                if authority_id in today
                and any(_contains(p, today[authority_id]) for p in rule.periods)
                for item_id in item_ids
            )
            if applying:
                q |= rule.scope(applying)
        return q


def authority_dates(now: dt.datetime) -> dict[int, dt.date]:
    """Each authority's date at `now`."""
    return {a.pk: local_date(now, a.tz) for a in Authority.objects.all()}


def requirement(
    *, item: ControlledItem, destination: str, ship_date: dt.date, now: dt.datetime
) -> tuple[bool, bool]:
    """Whether one shipment (not saved yet, or being edited) needs a license on its ship date,
    and today: the rule of `evaluate_requirements`, for the create and edit services."""
    book = MeasureBook.load()
    today = local_date(now, item.authority.tz)
    return (
        book.required(item_id=item.pk, destination=destination, day=ship_date),
        book.required(item_id=item.pk, destination=destination, day=today),
    )


def _target_status(required: Q) -> Case:
    """The state a following shipment should show: cleared when no license is needed, else
    what its application gives it (`FOLLOWS`)."""
    by_target: dict[str, list[str]] = defaultdict(list)
    for status, target in FOLLOWS.items():
        if status is not None:
            by_target[target].append(status)
    whens = [When(~required, then=Value(SS.CLEARED))]
    whens.append(When(application__isnull=True, then=Value(FOLLOWS[None])))
    whens += [
        When(application__status__in=sorted(statuses), then=Value(target))
        for target, statuses in sorted(by_target.items())
    ]
    return Case(*whens, default=Value(FOLLOWS[None]), output_field=CharField())


@dataclass
class RequirementResult:
    changed: list[int] = field(default_factory=list)  # license_required or _today changed
    moved: dict[str, list[int]] = field(default_factory=dict)  # target state -> ids

    @property
    def moved_ids(self) -> list[int]:
        return sorted(pk for ids in self.moved.values() for pk in ids)


def evaluate_requirements(
    *,
    now: dt.datetime,
    shipment_ids: Sequence[int] | None = None,
    item_ids: Sequence[int] | None = None,
    authority_id: int | None = None,
    announce: bool = True,
) -> RequirementResult:
    """Re-evaluate whether the shipments in scope (before shipping; narrowed by
    `shipment_ids`, `item_ids`, `authority_id`) need a license on their ship date and today,
    store it, move those whose state follows to the state it gives, and announce them (see
    the module docstring). A fixed number of queries, whatever the number of shipments."""
    result = RequirementResult()
    book = MeasureBook.load()
    today = authority_dates(now)
    required = book.required_on_ship_date()
    required_today = book.required_today(today)
    scope = Q(status__in=IN_SCOPE)
    if shipment_ids is not None:
        scope &= ids_in("pk", shipment_ids)
    if item_ids is not None:
        scope &= ids_in("item_id", item_ids)
    if authority_id is not None:
        scope &= Q(item__authority_id=authority_id)
    target = _target_status(required)
    differs = (
        (required & Q(license_required=False))
        | (~required & Q(license_required=True))
        | (required_today & Q(license_required_today=False))
        | (~required_today & Q(license_required_today=True))
        | Q(status__in=FOLLOWING_STATUSES, moving=True)
    )
    with transaction.atomic():
        rows = list(
            Shipment.objects.select_for_update(of=("self",))
            .filter(scope)
            .annotate(
                now_required=Case(
                    When(required, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
                now_required_today=Case(
                    When(required_today, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
                target=target,
                moving=Case(
                    *[
                        When(Q(status=status) & ~Q(target=status), then=Value(True))
                        for status in FOLLOWING_STATUSES
                    ],
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            )
            .filter(differs)
            .order_by("pk")
            .values_list(
                "pk",
                "status",
                "application_id",
                "license_required",
                "license_required_today",
                "now_required",
                "now_required_today",
                "target",
                "item_id",
                "destination",
                "planned_ship_date",
            )
        )
        if not rows:
            return result
        flags: dict[tuple[bool, bool], list[int]] = defaultdict(list)
        moves: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
        reasons: dict[int, dict[str, Any]] = {}
        for row in rows:
            pk, status, app_id, was, was_today, need, need_today, goal = row[:8]
            item_id, destination, day = row[8:]
            if (was, was_today) != (need, need_today):
                flags[(need, need_today)].append(pk)
            if status in FOLLOWING_STATUSES and status != goal:
                moves[goal].append((pk, status, app_id))
                applying = book.applying(item_id=item_id, destination=destination, day=day)
                reasons[pk] = {
                    "license_required": need,
                    "measures": [r.reference for r in applying],
                }
        for (need, need_today), ids in sorted(flags.items()):
            Shipment.objects.filter(ids_in("pk", ids)).update(
                license_required=need, license_required_today=need_today, updated_at=now
            )
            result.changed.extend(ids)
        for goal, moving in sorted(moves.items()):
            Shipment.objects.filter(
                ids_in("pk", [pk for pk, _s, _a in moving]), status__in=FOLLOWING_STATUSES
            ).update(status=goal, last_moved_at=now, updated_at=now)
            result.moved[goal] = [pk for pk, _s, _a in moving]
            follow_status(result.moved[goal])
        result.changed.sort()
        _write_events(moves, reasons, now=now)
        if announce:
            touched = sorted({*result.changed, *result.moved_ids})
            signals.changed.send(
                sender=Shipment, now=now, shipment_ids=touched, file_by_ids=touched
            )
    return result


def _write_events(
    moves: dict[str, list[tuple[int, str, int | None]]],
    reasons: dict[int, dict[str, Any]],
    *,
    now: dt.datetime,
) -> None:
    """One `status_changed` event per moved shipment, saying why: whether a license is needed
    on its ship date, and the measures that apply to it then."""
    rows = []
    for goal, moving in moves.items():
        for pk, status, app_id in moving:
            rows.append(
                {
                    "kind": EventKind.STATUS_CHANGED,
                    "shipment_id": pk,
                    "application_id": app_id,
                    "from_status": status,
                    "to_status": goal,
                    "occurred_at": now,
                    "recorded_at": now,
                    "actor_id": None,
                    "data": {"move": "requirement", **reasons[pk]},
                }
            )
    rows.sort(key=lambda r: int(r["shipment_id"]))  # type: ignore[call-overload]
    events.bulk(rows)


def shipment_measures(shipments: Iterable[Any], book: MeasureBook | None = None) -> dict[int, Any]:
    """For each shipment, the references of the measures (any kind) that apply to its item and
    destination on its planned ship date."""
    book = book if book is not None else MeasureBook.load()
    return {
        s.pk: [
            r.reference
            for r in book.applying(
                item_id=s.item_id, destination=s.destination, day=s.planned_ship_date
            )
        ]
        for s in shipments
    }
