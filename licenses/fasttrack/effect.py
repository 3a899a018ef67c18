"""What a decision did: its state, how many due dates it moved and by how much, counted for what
the caller may see."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import selectors
from ..clock import local_date
from ..models import (
    Event,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
)
from .scope import APPLIED, REMOVED


def _median(changes: Sequence[int]) -> Decimal | None:
    if not changes:
        return None
    return Decimal(str(statistics.median(changes))).quantize(Decimal("0.1"))


def _effect_from_events(
    decision_id: int, *, kind: str, exporter_ids: Iterable[int] | None = None
) -> tuple[int, Decimal | None]:
    """How many due dates a decision moved and the median change in days, from its events
    (one query)."""
    qs = Event.objects.filter(decision_id=decision_id, kind=kind, application__isnull=False)
    if exporter_ids is not None:
        qs = qs.filter(application__exporter_id__in=list(exporter_ids))
    rows = list(qs.values_list("data__change_days", flat=True))
    changes = [int(c) for c in rows if c is not None]
    return len(rows), _median(changes)


@dataclass(frozen=True)
class Figures:
    """What a decision did, as one caller may see it."""

    affected_count: int
    median_change_days: Decimal | None


def decision_figures(*, decisions: Sequence[FastTrackDecision], user: Any) -> dict[int, Figures]:
    """How many due dates each decision moved and the median change in days, counting only
    the applications `user` may see — every surface (pages, API, admin) shows these.

    A user who sees every exporter gets the figures stored when the pass finished (counted
    from the same events). For a user limited to some exporters they are counted from the
    `fast_track_applied` events of those exporters' applications: one query for all the
    decisions, whatever their number."""
    visible = selectors.visible_exporter_ids(user)
    if visible is None:
        return {d.pk: Figures(d.affected_count, d.median_change_days) for d in decisions}
    rows = Event.objects.filter(
        decision_id__in=[d.pk for d in decisions],
        kind=APPLIED,
        application__isnull=False,
        application__exporter_id__in=sorted(visible),
    ).values_list("decision_id", "data__change_days")
    counts: dict[int, int] = {}
    changes: dict[int, list[int]] = {}
    for decision_id, change in rows:
        counts[decision_id] = counts.get(decision_id, 0) + 1
        if change is not None:
            changes.setdefault(decision_id, []).append(int(change))
    return {d.pk: Figures(counts.get(d.pk, 0), _median(changes.get(d.pk, []))) for d in decisions}


@dataclass(frozen=True)
class DecisionEffect:
    """A decision as the log shows it: who logged it and when, its source and scope, and its
    effect. For a user limited to some exporters, the scope and the counts cover only what
    that user may see."""

    decision: FastTrackDecision
    logged_by: str | None
    logged_at: dt.datetime
    announced_on: dt.date
    source: str
    window_days: int
    effective_from: dt.date
    effective_until: dt.date | None
    destinations: list[str]
    items: list[str]  # codes
    exporters: list[str]  # names
    applications: list[str]  # our references
    state: str  # "scheduled", "applying", "in force", "ended", "revoked", "removing"
    affected_count: int
    median_change_days: Decimal | None
    removed_count: int
    progress_total: int
    progress_done: int
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revocation_note: str


def decision_state(decision: FastTrackDecision, *, now: dt.datetime) -> str:
    running = decision.progress_total and decision.progress_finished_at is None
    if decision.revoked_at is not None:
        return "removing" if running else "revoked"
    today = local_date(now, decision.authority.tz)
    if decision.effective_from > today:
        return "scheduled"
    if decision.effective_until is not None and decision.effective_until < today:
        return "removing" if running else "ended"
    return "applying" if running else "in force"


def decision_effect(
    decision: FastTrackDecision, *, user: Any = None, now: dt.datetime
) -> DecisionEffect:
    """The log entry of one decision (a handful of queries)."""
    visible = selectors.visible_exporter_ids(user) if user is not None else None
    exporters = Exporter.objects.filter(pk__in=decision.exporters.values("pk"))
    applications = LicenseApplication.objects.filter(pk__in=decision.applications.values("pk"))
    figures = Figures(decision.affected_count, decision.median_change_days)
    if visible is not None:
        figures = decision_figures(decisions=[decision], user=user)[decision.pk]
        exporters = exporters.filter(pk__in=visible)
        applications = applications.filter(exporter_id__in=visible)
        removed, _median_removed = _effect_from_events(
            decision.pk, kind=REMOVED, exporter_ids=visible
        )
    else:
        removed = Event.objects.filter(decision_id=decision.pk, kind=REMOVED).count()
    return DecisionEffect(
        decision=decision,
        logged_by=decision.created_by.get_username() if decision.created_by else None,
        logged_at=decision.created_at,
        announced_on=decision.announced_on,
        source=decision.source,
        window_days=decision.window_days,
        effective_from=decision.effective_from,
        effective_until=decision.effective_until,
        destinations=list(decision.destinations or []),
        items=list(decision.items.order_by("code").values_list("code", flat=True)),
        exporters=list(exporters.order_by("name").values_list("name", flat=True)),
        applications=list(applications.order_by("reference").values_list("reference", flat=True)),
        state=decision_state(decision, now=now),
        affected_count=figures.affected_count,
        median_change_days=figures.median_change_days,
        removed_count=removed,
        progress_total=decision.progress_total,
        progress_done=decision.progress_done,
        revoked_at=decision.revoked_at,
        revoked_by=decision.revoked_by.get_username() if decision.revoked_by else None,
        revocation_note=decision.revocation_note,
    )
