"""What logging a decision would move, computed without writing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..clock import in_force, local_date, recompute
from ..models import (
    Authority,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
)
from .apply import chunk_size
from .effect import _median
from .log import decision_check
from .scope import candidates, make_scope

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class PreviewRow:
    application: LicenseApplication
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime | None
    change_days: int | None
    exporter_name: str = ""


@dataclass(frozen=True)
class Preview:
    """What logging a decision would do to pending applications, computed without writing.

    `as_of` is the day the effect is computed for: today when the decision is in force
    today, otherwise its first day (a decision that has already ended moves nothing)."""

    as_of: dt.date
    in_force_now: bool
    in_scope: int  # pending applications its scope touches
    count: int  # of which the due date would move
    median_change_days: Decimal | None
    min_change_days: int | None
    max_change_days: int | None
    sample: list[PreviewRow] = field(default_factory=list)


def decision_preview(
    *,
    authority: Authority,
    window_days: int,
    effective_from: dt.date,
    effective_until: dt.date | None = None,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
    now: dt.datetime,
    announced_on: dt.date | None = None,
    actor: Any = None,
) -> Preview:
    """How many pending applications a decision would move and by how much — before it is
    saved, with no writes. The clock gets the unsaved decision as an extra (it counts as the
    most recently logged; `announced_on` defaults to today in the authority's time zone)."""
    checked = decision_check(
        authority=authority,
        window_days=window_days,
        effective_from=effective_from,
        effective_until=effective_until,
        destinations=destinations,
        items=items,
        exporters=exporters,
        applications=applications,
        actor=actor,
        now=now,
    )
    tz = authority.tz
    today = local_date(now, tz)
    unsaved = FastTrackDecision(
        authority=authority,
        announced_on=announced_on or today,
        window_days=window_days,
        effective_from=effective_from,
        effective_until=effective_until,
        destinations=checked.destinations,
    )
    scope = make_scope(
        destinations=checked.destinations,
        items=checked.item_ids,
        exporters=checked.exporter_ids,
        applications=checked.application_ids,
    )
    in_force_now = in_force(unsaved, today=today)
    future = effective_from > today
    as_of = now if not future else dt.datetime.combine(effective_from, dt.time(12), tzinfo=tz)
    qs = candidates(authority_id=authority.pk, scope=scope)
    in_scope, moved = 0, 0
    changes: list[int] = []
    sample: list[PreviewRow] = []
    ended = effective_until is not None and effective_until < today
    last_id = 0
    while not ended:
        batch = list(qs.filter(id__gt=last_id)[: chunk_size()])
        if not batch:
            break
        in_scope += len(batch)
        with_it = recompute(batch, now=as_of, extra_decisions=[(unsaved, scope)])
        # Applying compares with the stored due dates; a later start compares with what
        # will govern on that day without the decision.
        before = (
            [r.new_due_at for r in recompute(batch, now=as_of)]
            if future
            else [a.due_at for a in batch]
        )
        for old, result in zip(before, with_it, strict=True):
            if old == result.new_due_at:
                continue
            moved += 1
            change = _change_days(old, result.new_due_at)
            if change is not None:
                changes.append(change)
            if len(sample) < SAMPLE_SIZE:
                sample.append(PreviewRow(result.application, old, result.new_due_at, change))
        last_id = batch[-1].pk
    # exporter names for display, without loading an exporter per application
    names = dict(
        Exporter.objects.filter(pk__in={row.application.exporter_id for row in sample}).values_list(
            "pk", "name"
        )
    )
    sample = [replace(row, exporter_name=names[row.application.exporter_id]) for row in sample]
    return Preview(
        as_of=local_date(as_of, tz),
        in_force_now=in_force_now,
        in_scope=in_scope,
        count=moved,
        median_change_days=_median(changes),
        min_change_days=min(changes) if changes else None,
        max_change_days=max(changes) if changes else None,
        sample=sample,
    )


def _change_days(old: dt.datetime | None, new: dt.datetime | None) -> int | None:
    from ..events import change_in_days

    return change_in_days(old, new)
