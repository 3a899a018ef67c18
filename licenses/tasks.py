"""Celery tasks of the licenses app. Thin: each calls a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from .fasttrack import decision_recompute_scope
from .models import FastTrackDecision


@shared_task(
    name="licenses.recompute_decision_scope",
    acks_late=True,
    # A large scope takes longer than the default limit; each chunk commits on its own, and a
    # pass run again after an interruption only finishes what is left (recomputing is
    # idempotent).
    time_limit=3600,
    soft_time_limit=3540,
)
def recompute_decision_scope(
    decision_id: int, kind: str, now: str | None = None, actor_id: int | None = None
) -> int:
    """Apply or un-apply (`kind`) a fast-track decision over a large scope, chunk by chunk,
    recording progress on the decision. `now` is the moment the pass was started for (ISO
    8601); returns how many due dates moved."""
    decision = FastTrackDecision.objects.get(pk=decision_id)
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return decision_recompute_scope(
        decision=decision, kind=kind, now=moment, actor=actor, restart=True
    )


@shared_task(name="licenses.refresh_forecasts", acks_late=True, time_limit=1800)
def refresh_forecasts(authority_ids: list[int] | None = None, now: str | None = None) -> int:
    """Recompute the stored forecasts of the authorities named (all by default); `now` is
    the moment of the change that queued it (ISO 8601). Returns how many changed."""
    from .services.forecasts import forecasts_refresh

    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    return len(forecasts_refresh(now=moment, authority_ids=authority_ids))
