"""Fast-track decisions: log, preview, apply, un-apply (end or revocation), and the daily job.

A decision changes the review window of the pending applications it covers while it is in
force. Which window governs is the clock's business (`licenses.clock.governing_window`): a
decision counts while it is in force and not revoked. *Applying* or *un-applying* a decision
therefore means recomputing the pending applications its scope touches:

1. Candidates: the pending applications of the decision's authority that its scope touches,
   read in chunks of ids ascending, rows locked so that a concurrent move waits for us.
2. `licenses.clock.recompute` computes their windows and due dates (a fixed number of
   queries per chunk, whatever its size).
3. `licenses.services.save_due_dates` stores what changed (one UPDATE, one INSERT of events
   per chunk): each event is `fast_track_applied` or `fast_track_removed`, names the decision
   and holds the old and new due date; it sends `due_dates_changed` inside the transaction so
   that flags are re-evaluated at once.
4. The effect is stored on the decision: how many due dates moved and the median change in
   days, counted from those events (so a pass that was interrupted and run again counts right).

The `applied` flag says whether the effect is in place. It flips with a compare-and-set
(`UPDATE … WHERE applied = <what I read>`), so logging, the daily job and revocation apply or
un-apply a decision once, however many of them run at the same time. Scopes larger than
`settings.FAST_TRACK_INLINE_LIMIT` applications (default 2,000) are handed, on commit, to a
Celery task (`licenses.tasks.recompute_decision_scope`) that works chunk by chunk, each chunk
its own transaction, and records its progress on the decision (`progress_total`,
`progress_done`, `progress_finished_at`). Recomputing is idempotent: running a pass twice
changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import IllegalMove, InvalidInput, NotFound

from . import selectors
from .clock import Scope, decision_scopes, in_force, local_date, recompute
from .models import (
    PENDING_STATUSES,
    Authority,
    ControlledItem,
    Event,
    EventKind,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
)
from .services import save_due_dates
from .signals import decision_pass_finished

APPLIED = EventKind.FAST_TRACK_APPLIED
REMOVED = EventKind.FAST_TRACK_REMOVED
ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")
MAX_WINDOW_DAYS = 3650
SAMPLE_SIZE = 10
# What `licenses.clock.recompute` and `save_due_dates` read of a candidate.
RECOMPUTED_FIELDS = (
    "id",
    "authority_id",
    "exporter_id",
    "destination",
    "license_type",
    "status",
    "submitted_at",
    "accepted_at",
    "due_at",
    "window_days",
    "window_source",
)


class _Candidate:
    """A candidate as the clock reads it: the `RECOMPUTED_FIELDS` of an application, without a
    model instance (a pass reads a hundred thousand; `recompute` and `save_due_dates` only
    read and set these attributes)."""

    __slots__ = RECOMPUTED_FIELDS

    def __init__(self, values: Sequence[Any]):
        for name, value in zip(RECOMPUTED_FIELDS, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,no-any-return]


def inline_limit() -> int:
    """Above this many candidates a pass runs in a Celery task instead of the request."""
    return int(getattr(settings, "FAST_TRACK_INLINE_LIMIT", 2000))


def chunk_size() -> int:
    return int(getattr(settings, "FAST_TRACK_CHUNK_SIZE", 10000))


# --- scope --------------------------------------------------------------------------------


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(v.pk if hasattr(v, "pk") else v) for v in values or ()})


def make_scope(
    *,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
) -> Scope:
    """A scope as the clock reads it; items, exporters and applications as objects or ids."""
    return {
        "destinations": set(destinations or ()),
        "items": set(_ids(items)),
        "exporters": set(_ids(exporters)),
        "applications": set(_ids(applications)),
    }


def scope_of(decision: FastTrackDecision) -> Scope:
    return decision_scopes([decision])[decision.pk]


# What `licenses.clock.recompute` and `save_due_dates` read of an application: loading only
# these makes a pass over tens of thousands of applications markedly cheaper.
CLOCK_FIELDS = (
    "id",
    "exporter_id",
    "authority_id",
    "destination",
    "license_type",
    "status",
    "reference",
    "submitted_at",
    "accepted_at",
    "due_at",
    "window_days",
    "window_source",
)


def candidates(*, authority_id: int, scope: Scope) -> QuerySet[LicenseApplication]:
    """The pending applications of an authority that a scope touches (empty list: any), by
    id. The `application_authority_status` index serves the first filter."""
    qs = LicenseApplication.objects.filter(
        authority_id=authority_id, status__in=PENDING_STATUSES
    ).only(*CLOCK_FIELDS)
    if scope["destinations"]:
        qs = qs.filter(destination__in=sorted(scope["destinations"]))
    if scope["exporters"]:
        qs = qs.filter(exporter_id__in=sorted(scope["exporters"]))
    if scope["applications"]:
        qs = qs.filter(pk__in=sorted(scope["applications"]))
    if scope["items"]:
        through = LicenseApplication.items.through
        qs = qs.filter(
            Exists(
                through.objects.filter(
                    licenseapplication_id=OuterRef("pk"),
                    controlleditem_id__in=sorted(scope["items"]),
                )
            )
        )
    return qs.order_by("id")


# --- validation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedScope:
    destinations: list[str]
    item_ids: list[int]
    exporter_ids: list[int]
    application_ids: list[int]


def decision_check(
    *,
    authority: Authority | None,
    window_days: Any,
    effective_from: dt.date | None,
    effective_until: dt.date | None = None,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
    actor: Any = None,
    now: dt.datetime,
    announced_on: dt.date | None = None,
    source: str | None = None,
    require_announcement: bool = False,
) -> CheckedScope:
    """Validate a decision's facts; raise `InvalidInput` naming every bad field at once.

    Destinations are normalised to upper case. A user limited to some exporters may only
    name their own exporters and applications, and must name exporters, so that the decision
    — and the counts it reports — touch nothing of anyone else's.
    """
    errors: dict[str, str] = {}
    if authority is None:
        errors["authority"] = _("Choose the authority.")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days <= 0:
        errors["window_days"] = _("Give the new window as a whole number of days above zero.")
    elif window_days > MAX_WINDOW_DAYS:
        errors["window_days"] = _("At most %(max)d days.") % {"max": MAX_WINDOW_DAYS}
    if effective_from is None:
        errors["effective_from"] = _("Give the first day the decision is in force.")
    elif effective_until is not None and effective_until < effective_from:
        errors["effective_until"] = _("The last day cannot be before the first day.")
    if require_announcement:
        if not (source or "").strip():
            errors["source"] = _("Say where the decision was announced.")
        if announced_on is None:
            errors["announced_on"] = _("Give the day it was announced.")
        elif authority is not None and announced_on > local_date(now, authority.tz):
            errors["announced_on"] = _("A decision cannot be announced in the future.")

    if isinstance(destinations, str):  # one code given on its own, not as a list
        destinations = [destinations]
    normalised = []
    for value in destinations or ():
        code = str(value).strip().upper()
        if not ISO_ALPHA2.match(code):
            errors["destinations"] = _("%(value)s is not a two-letter ISO 3166 country code.") % {
                "value": value
            }
            break
        if code not in normalised:
            normalised.append(code)

    item_ids, exporter_ids, application_ids = _ids(items), _ids(exporters), _ids(applications)
    if item_ids:
        found = dict(
            ControlledItem.objects.filter(pk__in=item_ids).values_list("pk", "authority_id")
        )
        if len(found) != len(item_ids):
            errors["items"] = _("Unknown controlled item.")
        elif authority is not None and any(a != authority.pk for a in found.values()):
            errors["items"] = _("Every item must be on %(authority)s's control list.") % {
                "authority": authority.code
            }
    visible = selectors.visible_exporter_ids(actor) if actor is not None else None
    if exporter_ids:
        known = set(Exporter.objects.filter(pk__in=exporter_ids).values_list("pk", flat=True))
        if len(known) != len(exporter_ids) or (visible is not None and not known <= set(visible)):
            errors["exporters"] = _("Unknown exporter.")
    if application_ids:
        rows = list(
            LicenseApplication.objects.filter(pk__in=application_ids).values_list(
                "authority_id", "exporter_id"
            )
        )
        owners = {exporter_id for _authority_id, exporter_id in rows}
        if len(rows) != len(application_ids) or (
            visible is not None and not owners <= set(visible)
        ):
            errors["applications"] = _("Unknown application.")
        elif authority is not None and any(a != authority.pk for a, _e in rows):
            errors["applications"] = _("Every application must be filed with %(authority)s.") % {
                "authority": authority.code
            }
    if visible is not None and not exporter_ids:
        errors["exporters"] = _(
            "You act for some exporters only: name the exporters this decision is for."
        )
    if errors:
        raise InvalidInput(_("The fast-track decision is not valid."), fields=errors)
    return CheckedScope(normalised, item_ids, exporter_ids, application_ids)


# --- logging, applying, revoking ------------------------------------------------------------


def decision_log(
    *,
    authority: Authority,
    announced_on: dt.date,
    source: str,
    window_days: int,
    effective_from: dt.date,
    effective_until: dt.date | None = None,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> FastTrackDecision:
    """Record a decision; if it is in force today (in the authority's time zone) apply it at
    once — inline, or through the Celery task when its scope is large."""
    checked = decision_check(
        authority=authority,
        announced_on=announced_on,
        source=source,
        window_days=window_days,
        effective_from=effective_from,
        effective_until=effective_until,
        destinations=destinations,
        items=items,
        exporters=exporters,
        applications=applications,
        actor=actor,
        now=now,
        require_announcement=True,
    )
    with transaction.atomic():
        decision = FastTrackDecision.objects.create(
            authority=authority,
            announced_on=announced_on,
            source=source.strip(),
            window_days=window_days,
            effective_from=effective_from,
            effective_until=effective_until,
            destinations=checked.destinations,
            note=(note or "").strip(),
            created_by=_user(actor),
        )
        # `add` (not a raw insert) so that `m2m_changed` listeners see the scope.
        if checked.item_ids:
            decision.items.add(*checked.item_ids)
        if checked.exporter_ids:
            decision.exporters.add(*checked.exporter_ids)
        if checked.application_ids:
            decision.applications.add(*checked.application_ids)
        scope = make_scope(
            destinations=checked.destinations,
            items=checked.item_ids,
            exporters=checked.exporter_ids,
            applications=checked.application_ids,
        )
        if not (
            in_force(decision, today=local_date(now, authority.tz))
            and _switch(decision, on=True, now=now, actor=actor, scope=scope)
        ):
            decision.refresh_from_db()
    return decision


def decision_revoke(
    *, decision: FastTrackDecision, actor: Any, now: dt.datetime, note: str = ""
) -> FastTrackDecision:
    """Revoke a decision: from now on it governs nothing, and the applications it moved get
    back the windows that govern without it, logged as `fast_track_removed`. Never deleted.
    A user limited to some exporters may revoke only a decision that names exporters, all of
    them theirs (`NotFound` otherwise)."""
    with transaction.atomic():
        _check_may_write(decision, actor)
        locked = FastTrackDecision.objects.select_for_update().get(pk=decision.pk)
        if locked.revoked_at is not None:
            raise IllegalMove(_("This decision was already revoked."))
        began = locked.effective_from <= local_date(now, locked.authority.tz)
        locked.revoked_at, locked.revoked_by = now, _user(actor)
        locked.revocation_note = (note or "").strip()
        locked.applied = False
        locked.save(update_fields=["revoked_at", "revoked_by", "revocation_note", "applied"])
        # Once it began, a move may have picked it up even before the daily job applied it:
        # recompute its scope whether or not the flag says it was applied.
        if began:
            _start_pass(locked, kind=REMOVED, now=now, actor=actor)
    decision.refresh_from_db()
    return decision


def decision_edit(
    *,
    decision: FastTrackDecision,
    actor: Any,
    now: dt.datetime,
    source: str | None = None,
    note: str | None = None,
) -> FastTrackDecision:
    """Correct the wording of a logged decision. Its window, period and scope are what the
    authority announced: to change them, revoke it and log the new decision. A user limited
    to some exporters may edit only a decision that names exporters, all of them theirs."""
    _check_may_write(decision, actor)
    if source is not None and not source.strip():
        raise InvalidInput(
            _("Say where the decision was announced."), fields={"source": _("Required.")}
        )
    with transaction.atomic():
        # compare with the stored row: the caller's object may already hold the new text
        current = FastTrackDecision.objects.select_for_update().get(pk=decision.pk)
        changes: dict[str, str] = {}
        if source is not None and source.strip() != current.source:
            changes["source"] = source.strip()
        if note is not None and note.strip() != current.note:
            changes["note"] = note.strip()
        if changes:
            FastTrackDecision.objects.filter(pk=decision.pk).update(**changes)
    decision.refresh_from_db()
    return decision


def _check_may_write(decision: FastTrackDecision, actor: Any) -> None:
    """Refuse a user limited to some exporters a decision that could move another exporter's
    due dates (the daily job, `actor=None`, is not limited). Answered as if the decision did
    not exist for writing: reading it may still be allowed."""
    if actor is not None and not selectors.decision_may_write(decision=decision, user=actor):
        raise NotFound(
            _(
                "You act for some exporters only: you may edit or revoke only a decision that "
                "names exporters, all of them yours."
            )
        )


# A queued pass not finished after this long was lost (the task's time limit is an hour).
STALE_PASS = dt.timedelta(hours=2)


def decisions_daily(*, now: dt.datetime) -> dict[str, list[int]]:
    """The daily job's part: apply the decisions in force today that are not applied yet
    (those that begin today, or began while nothing ran) and un-apply those whose last day
    has passed; queue again a large pass that never finished (a lost task). Idempotent: a
    second run, or a second worker, finds nothing to do."""
    done: dict[str, list[int]] = {"applied": [], "removed": [], "queued": [], "resumed": []}
    stale = FastTrackDecision.objects.filter(
        progress_total__gt=0,
        progress_finished_at__isnull=True,
        progress_started_at__lt=now - STALE_PASS,
    ).order_by("id")
    for decision in stale:
        with transaction.atomic():
            claimed = FastTrackDecision.objects.filter(
                pk=decision.pk,
                progress_finished_at__isnull=True,
                progress_started_at=decision.progress_started_at,
            ).update(progress_started_at=now)
            if claimed == 1:
                _queue(decision.pk, kind=decision.progress_kind, now=now, actor_id=None)
                done["resumed"].append(decision.pk)
    for authority in Authority.objects.all():
        today = local_date(now, authority.tz)
        ended = FastTrackDecision.objects.filter(
            authority=authority, applied=True, effective_until__lt=today
        ).order_by("id")
        beginning = (
            FastTrackDecision.objects.filter(
                authority=authority,
                applied=False,
                revoked_at__isnull=True,
                effective_from__lte=today,
            )
            .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=today))
            .order_by("id")
        )
        for decision in ended:
            with transaction.atomic():
                if _switch(decision, on=False, now=now, actor=None):
                    key = "queued" if decision.progress_finished_at is None else "removed"
                    done[key].append(decision.pk)
        for decision in beginning:
            with transaction.atomic():
                if _switch(decision, on=True, now=now, actor=None):
                    key = "queued" if decision.progress_finished_at is None else "applied"
                    done[key].append(decision.pk)
    return done


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _switch(
    decision: FastTrackDecision,
    *,
    on: bool,
    now: dt.datetime,
    actor: Any,
    scope: Scope | None = None,
) -> bool:
    """Flip `applied` with a compare-and-set and, if this call won, start the pass. Returns
    whether it did anything (the decision is then refreshed)."""
    won = FastTrackDecision.objects.filter(
        pk=decision.pk, applied=not on, **({"revoked_at__isnull": True} if on else {})
    ).update(applied=on)
    if won != 1:
        return False
    _start_pass(decision, kind=APPLIED if on else REMOVED, now=now, actor=actor, scope=scope)
    decision.refresh_from_db()
    return True


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
    from .tasks import recompute_decision_scope

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


# --- preview --------------------------------------------------------------------------------


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
    from .events import change_in_days

    return change_in_days(old, new)


# --- the log --------------------------------------------------------------------------------


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
