"""Logging, revoking and re-wording decisions, who may, and the daily job that applies those
that begin and un-applies those that end."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.countries import is_country
from core.errors import IllegalMove, InvalidInput, NotFound

from .. import selectors
from ..clock import Scope, in_force, local_date
from ..models import (
    Authority,
    ControlledItem,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
)
from .apply import STALE_PASS, _queue, _start_pass
from .scope import APPLIED, MAX_WINDOW_DAYS, REMOVED, _ids, _user, make_scope

ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")


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
        if not is_country(code):
            errors["destinations"] = _("%(value)s is not an ISO 3166 country code.") % {
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
