"""Writes on authorities, their calendars and their control lists: the inputs of every review
window and due date, and the items applications and shipments name.

An edit recomputes the due dates of the authority's pending applications straight away and
announces the change (`licenses.signals.changed`), so that the file-by deadlines of its
shipments and the flags follow, all with the caller's `now` and inside one transaction. These
are the only write path: a plain `save()` of an authority or a calendar day recomputes
nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import InvalidInput, full_clean

from . import signals
from .models import Authority, CalendarDay, ControlledItem
from .services import recompute_due_dates


def _follow(*, authority_id: int, now: dt.datetime, actor: Any, note: str) -> None:
    """Due dates first (they announce `due_dates_changed` themselves), then file-by deadlines
    and flags; an authority's zone or calendar also moves the scan's thresholds."""
    recompute_due_dates(now=now, authority_id=authority_id, actor=_user(actor), note=note)
    signals.changed.send(sender=Authority, now=now, authority_id=authority_id, thresholds=True)


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def authority_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Authority:
    """A new authority (no application or shipment depends on it yet)."""
    authority = Authority(**fields)
    full_clean(authority)
    authority.save()
    return authority


def authority_update(
    *, authority: Authority, now: dt.datetime, actor: Any, **fields: Any
) -> Authority:
    """Edit an authority; if anything changed, its pending applications' due dates, its
    shipments' file-by deadlines and their flags follow."""
    with transaction.atomic():
        changed = {k: v for k, v in fields.items() if getattr(authority, k) != v}
        for name, value in changed.items():
            setattr(authority, name, value)
        full_clean(authority)
        authority.save()
        if changed:
            _follow(
                authority_id=authority.pk,
                now=now,
                actor=actor,
                note="Authority's review window or calendar changed.",
            )
    return authority


def calendar_day_save(
    *,
    now: dt.datetime,
    actor: Any,
    day: CalendarDay | None = None,
    **fields: Any,
) -> CalendarDay:
    """Add a day to an authority's calendar (`day` None) or change one; the authority's (both
    authorities', if the day moves to another) due dates, file-by deadlines and flags follow."""
    with transaction.atomic():
        day = day if day is not None else CalendarDay()
        before = day.authority_id if day.pk else None
        for name, value in fields.items():
            setattr(day, name, value)
        full_clean(day)
        day.save()
        note = f"Calendar edited: {day.date} {day.kind}"
        for authority_id in sorted(i for i in {before, day.authority_id} if i is not None):
            _follow(authority_id=authority_id, now=now, actor=actor, note=note)
    return day


def calendar_day_delete(*, day: CalendarDay, now: dt.datetime, actor: Any) -> None:
    """Remove a day from an authority's calendar; its due dates, file-by deadlines and flags
    follow."""
    with transaction.atomic():
        authority_id, note = day.authority_id, f"Calendar edited: {day.date} {day.kind}"
        day.delete()
        _follow(authority_id=authority_id, now=now, actor=actor, note=note)


def controlled_item_create(*, now: dt.datetime, actor: Any, **fields: Any) -> ControlledItem:
    """A new entry of an authority's control list (nothing names it yet, so nothing follows).
    A code already on that authority's list is refused on `code`."""
    item = ControlledItem(**fields)
    _check_code(item)
    full_clean(item)
    item.save()
    return item


def _check_code(item: ControlledItem) -> None:
    clash = ControlledItem.objects.filter(authority_id=item.authority_id, code=item.code)
    if item.authority_id and clash.exclude(pk=item.pk).exists():
        raise InvalidInput(
            _("This code is already on the authority's list."),
            fields={"code": _("Already on this authority's list.")},
        )


def controlled_item_update(
    *, item: ControlledItem, now: dt.datetime, actor: Any, **fields: Any
) -> ControlledItem:
    """Edit an item's code, wording or unit; the applications and shipments that name it keep
    naming it. Moving it to another authority's list is refused."""
    if "authority" in fields and fields["authority"] != item.authority:
        raise InvalidInput(
            _("An item stays on the list of its authority."),
            fields={"authority": _("Cannot move to another authority's list.")},
        )
    for name, value in fields.items():
        setattr(item, name, value)
    _check_code(item)
    full_clean(item)
    item.save()
    return item
