"""Review-window rules: create, change, retire.

A rule narrows an authority's review window by controlled item, destination and license type
(see `licenses.clock.governing_window` for which rule governs). Creating, changing or retiring
one recomputes, in the same transaction, the due date of every pending application of that
authority the rule matches — before or after the change — chunk by chunk with a fixed number
of queries per chunk. Each due date that moves gets a `due_date_changed` event with the old
and new date whose data names the rule (`"rule": <id>`, `"rule_change": "created" | "changed"
| "retired"`); `source` is the window that governs afterwards (`rule:<id>`, another rule, or
`default`). Rules are retired, never deleted: the events keep pointing at them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from core.countries import is_country
from core.errors import IllegalMove, InvalidInput

from . import signals
from .clock import recompute
from .fasttrack import MAX_WINDOW_DAYS, chunk_size
from .models import (
    PENDING_STATUSES,
    Authority,
    ControlledItem,
    EventKind,
    LicenseApplication,
    LicenseType,
    WindowRule,
)
from .services import save_due_dates

UNSET: Any = object()


@dataclass(frozen=True)
class Match:
    """What a rule (one version of it) matches: empty means any."""

    item_id: int | None
    destination: str
    license_type: str

    @classmethod
    def of(cls, rule: WindowRule) -> Match:
        return cls(rule.item_id, rule.destination, rule.license_type)

    def q(self) -> Q:
        condition = Q()
        if self.destination:
            condition &= Q(destination=self.destination)
        if self.license_type:
            condition &= Q(license_type=self.license_type)
        if self.item_id is not None:
            through = LicenseApplication.items.through
            condition &= Q(
                Exists(
                    through.objects.filter(
                        licenseapplication_id=OuterRef("pk"), controlleditem_id=self.item_id
                    )
                )
            )
        return condition


def governed(*, authority_id: int, matches: list[Match]) -> QuerySet[LicenseApplication]:
    """Pending applications of the authority that any of the rule versions matches."""
    condition = Q()
    for match in matches:
        condition |= match.q()
    return LicenseApplication.objects.filter(
        condition, authority_id=authority_id, status__in=PENDING_STATUSES
    ).order_by("id")


def rule_check(
    *,
    authority: Authority | None,
    window_days: Any,
    item: ControlledItem | None,
    destination: str,
    license_type: str,
) -> str:
    """Validate a rule's facts; returns the destination in upper case. Raises InvalidInput
    naming every bad field."""
    errors: dict[str, str] = {}
    if authority is None:
        errors["authority"] = _("Choose the authority.")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days <= 0:
        errors["window_days"] = _("Give the window as a whole number of days above zero.")
    elif window_days > MAX_WINDOW_DAYS:
        errors["window_days"] = _("At most %(max)d days.") % {"max": MAX_WINDOW_DAYS}
    if item is not None and authority is not None and item.authority_id != authority.pk:
        errors["item"] = _("The item must be on %(authority)s's control list.") % {
            "authority": authority.code
        }
    destination = (destination or "").strip().upper()
    if destination and not is_country(destination):
        errors["destination"] = _("%(value)s is not an ISO 3166 country code (e.g. US).") % {
            "value": destination
        }
    if license_type and license_type not in LicenseType.values:
        errors["license_type"] = _("Choose individual or general, or leave it empty.")
    if errors:
        raise InvalidInput(_("The review-window rule is not valid."), fields=errors)
    return destination


def rule_create(
    *,
    authority: Authority,
    window_days: int,
    item: ControlledItem | None = None,
    destination: str = "",
    license_type: str = "",
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> WindowRule:
    destination = rule_check(
        authority=authority,
        window_days=window_days,
        item=item,
        destination=destination,
        license_type=license_type,
    )
    with transaction.atomic():
        rule = WindowRule.objects.create(
            authority=authority,
            item=item,
            destination=destination,
            license_type=license_type or "",
            window_days=window_days,
            note=(note or "").strip(),
            created_by=_user(actor),
        )
        _recompute(rule, [Match.of(rule)], change="created", now=now, actor=actor)
    return rule


def rule_update(
    *,
    rule: WindowRule,
    actor: Any,
    now: dt.datetime,
    item: ControlledItem | None = UNSET,
    destination: str = UNSET,
    license_type: str = UNSET,
    window_days: int = UNSET,
    note: str = UNSET,
) -> WindowRule:
    """Change a rule in place (its authority is fixed); the applications it matched before
    or matches now are recomputed. A retired rule cannot change."""
    with transaction.atomic():
        locked = WindowRule.objects.select_for_update().select_related("authority").get(pk=rule.pk)
        if locked.retired_at is not None:
            raise IllegalMove(_("A retired rule cannot change."))
        before = Match.of(locked)
        new: dict[str, Any] = {
            "item": locked.item if item is UNSET else item,
            "destination": locked.destination if destination is UNSET else destination,
            "license_type": locked.license_type if license_type is UNSET else (license_type or ""),
            "window_days": locked.window_days if window_days is UNSET else window_days,
        }
        new["destination"] = rule_check(authority=locked.authority, **new)
        new["note"] = locked.note if note is UNSET else (note or "").strip()
        changed: dict[str, Any] = {}
        if (new["item"].pk if new["item"] else None) != locked.item_id:
            changed["item"] = new["item"]
        for name in ("destination", "license_type", "window_days", "note"):
            if getattr(locked, name) != new[name]:
                changed[name] = new[name]
        if not changed:
            return locked
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changed))
        if set(changed) - {"note"}:
            _recompute(locked, [before, Match.of(locked)], change="changed", now=now, actor=actor)
    rule.refresh_from_db()
    return rule


def rule_retire(*, rule: WindowRule, actor: Any, now: dt.datetime, note: str = "") -> WindowRule:
    """Retire a rule: it governs nothing from now on; the applications it matched get the
    window that governs without it. Kept for the record, never deleted."""
    with transaction.atomic():
        locked = WindowRule.objects.select_for_update().get(pk=rule.pk)
        if locked.retired_at is not None:
            raise IllegalMove(_("This rule was already retired."))
        locked.retired_at = now
        if (note or "").strip():
            locked.note = "\n".join(
                p for p in (locked.note, _("Retired: %(note)s") % {"note": note.strip()}) if p
            )
        locked.save(update_fields=["retired_at", "note"])
        _recompute(locked, [Match.of(locked)], change="retired", now=now, actor=actor)
    rule.refresh_from_db()
    return rule


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _recompute(
    rule: WindowRule, matches: list[Match], *, change: str, now: dt.datetime, actor: Any
) -> int:
    """Recompute the applications the rule matches (in the caller's transaction, rows locked
    against concurrent moves), chunk by chunk; then announce that a window input of the
    authority changed (its shipments' file-by deadlines and their flags follow). Returns how
    many due dates moved."""
    qs = governed(authority_id=rule.authority_id, matches=matches)
    note = {
        "created": _("Review-window rule %(id)s created."),
        "changed": _("Review-window rule %(id)s changed."),
        "retired": _("Review-window rule %(id)s retired."),
    }[change] % {"id": rule.pk}
    last_id, moved = 0, 0
    while True:
        batch = list(qs.filter(id__gt=last_id).select_for_update(of=("self",))[: chunk_size()])
        if not batch:
            signals.changed.send(sender=WindowRule, now=now, authority_id=rule.authority_id)
            return moved
        changed = save_due_dates(
            recompute(batch, now=now),
            at=now,
            now=now,
            actor=_user(actor),
            kind=EventKind.DUE_DATE_CHANGED,
            note=note,
            data={"rule": rule.pk, "rule_change": change},
        )
        moved += sum(1 for r in changed if r.old_due_at != r.new_due_at)
        last_id = batch[-1].pk
