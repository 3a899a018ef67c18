"""A pass: applying or un-applying a decision over the applications it touches, inline or chunk
by chunk in a task."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from ..clock import Scope, recompute
from ..models import (
    FastTrackDecision,
    LicenseApplication,
)
from ..services import save_due_dates
from ..signals import decision_pass_finished
from .effect import _effect_from_events
from .scope import APPLIED, RECOMPUTED_FIELDS, _Candidate, _user, candidates, scope_of


def inline_limit() -> int:
    """Above this many candidates a pass runs in a Celery task instead of the request."""
    return int(getattr(settings, "FAST_TRACK_INLINE_LIMIT", 2000))


def chunk_size() -> int:
    return int(getattr(settings, "FAST_TRACK_CHUNK_SIZE", 10000))


# A queued pass not finished after this long was lost (the task's time limit is an hour).
STALE_PASS = dt.timedelta(hours=2)


def _start_pass(
    decision: FastTrackDecision,
    *,
    kind: str,
    now: dt.datetime,
    actor: Any,
    scope: Scope | None = None,
) -> None:
    """Recompute the decision's scope here and now, or queue the task when it is large."""
    scope = scope if scope is not None else scope_of(decision)
    total = candidates(authority_id=decision.authority_id, scope=scope).count()
    FastTrackDecision.objects.filter(pk=decision.pk).update(
        progress_total=total,
        progress_done=0,
        progress_kind=kind,
        progress_started_at=now,
        progress_finished_at=None,
    )
    if total > inline_limit():
        user = _user(actor)
        _queue(decision.pk, kind=kind, now=now, actor_id=user.pk if user is not None else None)
        return
    decision_recompute_scope(
        decision=decision, kind=kind, now=now, actor=actor, scope=scope, inline=True
    )


def _queue(decision_id: int, *, kind: str, now: dt.datetime, actor_id: int | None) -> None:
    """Queue the pass once the transaction commits. A broker that is down does not undo the
    decision (robust): the daily job resumes passes that never finished."""
    from ..tasks import recompute_decision_scope

    transaction.on_commit(
        lambda: recompute_decision_scope.delay(decision_id, kind, now.isoformat(), actor_id),
        robust=True,
    )


def decision_recompute_scope(
    *,
    decision: FastTrackDecision,
    kind: str,
    now: dt.datetime,
    actor: Any = None,
    scope: Scope | None = None,
    size: int | None = None,
    restart: bool = False,
    inline: bool = False,
) -> int:
    """One pass over a decision's scope (see the module docstring), chunk by chunk; each
    chunk is its own transaction (a savepoint when the caller holds one) and advances
    `progress_done` (from 0 again with `restart`, for a task run again). Returns how many due
    dates changed. Stops early if the decision was revoked while it was being applied: the
    revocation's own pass takes over. When it is done, `decision_pass_finished` lets the
    file-by deadlines of the shipments in scope follow (at once when `inline`, else in a task
    of their own)."""
    scope = scope if scope is not None else scope_of(decision)
    size = size or chunk_size()
    qs = candidates(authority_id=decision.authority_id, scope=scope)
    note = _pass_note(decision, kind)
    if restart:
        FastTrackDecision.objects.filter(pk=decision.pk).update(
            progress_done=0, progress_finished_at=None
        )
    last_id, moved, full = 0, 0, True
    while full:
        with transaction.atomic():
            # The decision's row lock orders this chunk with a concurrent revocation.
            state = (
                FastTrackDecision.objects.select_for_update()
                .filter(pk=decision.pk)
                .values_list("applied", flat=True)
                .get()
            )
            if kind == APPLIED and not state:
                break
            batch = [
                _Candidate(row)
                for row in qs.filter(id__gt=last_id)
                .select_for_update(of=("self",))
                .values_list(*RECOMPUTED_FIELDS)[:size]
            ]
            if not batch:
                break
            changed = save_due_dates(
                recompute(cast(list[LicenseApplication], batch), now=now),
                at=now,
                now=now,
                actor=_user(actor),
                kind=kind,
                decision_id=decision.pk,
                note=note,
            )
            moved += sum(1 for r in changed if r.old_due_at != r.new_due_at)
            FastTrackDecision.objects.filter(pk=decision.pk).update(
                progress_done=F("progress_done") + len(batch)
            )
        last_id, full = batch[-1].pk, len(batch) == size
    updates: dict[str, Any] = {"progress_finished_at": now}
    if kind == APPLIED:
        count, median = _effect_from_events(decision.pk, kind=APPLIED)
        updates.update(affected_count=count, median_change_days=median)
    FastTrackDecision.objects.filter(pk=decision.pk).update(**updates)
    decision_pass_finished.send(
        sender=FastTrackDecision, decision=decision, scope=scope, now=now, inline=inline
    )
    return moved


def _pass_note(decision: FastTrackDecision, kind: str) -> str:
    if kind == APPLIED:
        return _("Fast-track decision %(id)s of %(day)s applied.") % {
            "id": decision.pk,
            "day": decision.announced_on,
        }
    if decision.revoked_at is not None:
        return _("Fast-track decision %(id)s revoked.") % {"id": decision.pk}
    return _("Fast-track decision %(id)s ended.") % {"id": decision.pk}
