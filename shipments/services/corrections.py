"""Corrections of a shipment's latest move, and the check that refuses a correction of an
application that would strand its shipments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput
from licenses import events
from licenses.models import (
    LICENSED_STATUSES,
    Event,
    EventKind,
    LicenseApplication,
    LicenseType,
    Status,
)
from licenses.services import (
    check_moment,
    effective_moment,
)

from ..models import FOLLOWING_STATUSES, Shipment, follow_status
from .drawdown import _reserve, released_by, unship_drawdown
from .moves import SHIPMENT_MOVES, _check_shipped_after_approval
from .shipments import _reevaluate
from .states import SS, following_status

# Application states under which a license existed: a shipment may have shipped under them.
LICENSED = frozenset(LICENSED_STATUSES)
# Moves after which a license can no longer be used to ship.
_STOPS_SHIPPING = ("suspend", "revoke", "surrender")

_GONE = (SS.SHIPPED, SS.DELIVERED)


def _references(shipments: QuerySet[Shipment], *, limit: int = 10) -> str:
    """Shipments' references for a message: the first `limit`, and how many more."""
    refs = list(shipments.order_by("reference").values_list("reference", flat=True)[: limit + 1])
    if len(refs) <= limit:
        return ", ".join(refs)
    more = shipments.count() - limit
    return _("%(refs)s and %(n)d more") % {"refs": ", ".join(refs[:limit]), "n": more}


def application_correction_check(
    *,
    application: LicenseApplication,
    event: Event,
    move: str,
    undo: bool,
    to_status: str,
    at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Refuse a correction of `application` (the latest move `event`, undone or re-dated to
    `at`, leaving the application `to_status`) that would leave its shipments in a state the
    application no longer allows. Raises the domain error naming the shipments:

    1. Shipped or delivered shipments need a license that existed: the application must stay
       approved, expired or exhausted (IllegalMove).
    2. A reservation taken on a general license after its approval was counted against the
       approved quantity and value: undoing the approval would leave it counted against a
       license that never was (IllegalMove).
    3. A re-dated approval cannot come after a shipment under it shipped (InvalidInput, `at`).
    4. A suspension, revocation or surrender cannot be re-dated before a shipment under the
       license shipped, nor a reinstatement after one shipped since it (InvalidInput, `at`);
       a reinstatement cannot be undone once a shipment shipped since it (IllegalMove).
    5. A revocation or surrender released the reservations of its shipments: undoing it takes
       them again, refused if one of them was assigned to another application meanwhile
       (IllegalMove).
    """
    under = Shipment.objects.filter(application=application)
    if to_status not in LICENSED:
        gone = under.filter(status__in=_GONE)
        if gone.exists():
            raise IllegalMove(
                _(
                    "The correction would leave shipments that already left without a "
                    "license: %(refs)s. Correct those shipments first."
                )
                % {"refs": _references(gone)}
            )
    if undo and move == "approve" and application.license_type == LicenseType.GENERAL:
        counted = under.exclude(status=SS.CANCELLED).filter(
            events__kind=EventKind.DRAWDOWN,
            events__application=application,
            events__id__gt=event.pk,
        )
        if counted.exists():
            raise IllegalMove(
                _(
                    "Shipments reserve quantity and value counted against this license since "
                    "its approval: %(refs)s. Move them to another application or cancel them "
                    "before undoing the approval."
                )
                % {"refs": _references(counted.distinct())}
            )
    if at is not None and move in _STOPS_SHIPPING:
        late = under.filter(shipped_at__gt=at)
        if late.exists():
            raise InvalidInput(
                _("Shipments under this license shipped after that moment: %(refs)s.")
                % {"refs": _references(late)},
                fields={"at": _("Before the shipment of %(refs)s.") % {"refs": _references(late)}},
            )
    if move == "reinstate" and application.last_moved_at is not None:
        since = under.filter(shipped_at__gte=application.last_moved_at)
        if at is not None:
            since = since.filter(shipped_at__lt=at)
        if since.exists():
            if at is None:
                raise IllegalMove(
                    _(
                        "Shipments shipped under this license since its reinstatement: "
                        "%(refs)s. Correct those shipments first."
                    )
                    % {"refs": _references(since)}
                )
            raise InvalidInput(
                _("Shipments under this license shipped before that moment: %(refs)s.")
                % {"refs": _references(since)},
                fields={"at": _("After the shipment of %(refs)s.") % {"refs": _references(since)}},
            )
    if undo and move in ("revoke", "surrender"):
        moved = released_by(application, event).exclude(application=application)
        if moved.exists():
            raise IllegalMove(
                _(
                    "Shipments released by this move were assigned to another application "
                    "since: %(refs)s. Their reservations cannot be taken again; move them back "
                    "first, or leave the license %(status)s."
                )
                % {"refs": _references(moved), "status": Status(application.status).label}
            )
    if at is not None and move == "approve":
        early = under.filter(shipped_at__lt=at)
        if early.exists():
            raise InvalidInput(
                _("Shipments under this license shipped before that moment: %(refs)s.")
                % {"refs": _references(early)},
                fields={"at": _("After the shipment of %(refs)s.") % {"refs": _references(early)}},
            )


def shipment_latest_move(shipment: Shipment) -> tuple[Event | None, Event | None]:
    """The shipment's latest officer move still in effect and the one before it (each a
    status_changed event). A move undone by a correction no longer counts; following the
    application is not an officer move."""
    history = list(
        Event.objects.filter(
            shipment=shipment, kind__in=[EventKind.STATUS_CHANGED, EventKind.CORRECTION]
        ).order_by("id")
    )
    undone = {
        e.corrects_id
        for e in history
        if e.kind == EventKind.CORRECTION and events.payload(e).get("action") == "undo"
    }
    moves = [
        e
        for e in history
        if e.kind == EventKind.STATUS_CHANGED
        and events.payload(e).get("move") in SHIPMENT_MOVES
        and e.id not in undone
    ]
    latest = moves[-1] if moves else None
    previous = moves[-2] if len(moves) > 1 else None
    return latest, previous


def shipment_correctable(shipment: Shipment) -> Event | None:
    """The latest officer move, if it is still the shipment's state."""
    latest, _previous = shipment_latest_move(shipment)
    if latest is None or latest.to_status != shipment.status:
        return None
    return latest


# The moment each officer move stores besides `last_moved_at`.
SHIPMENT_DATED_FIELD = {"ship": "shipped_at", "deliver": "delivered_at"}


def shipment_correct(
    *,
    shipment: Shipment,
    now: dt.datetime,
    actor: Any,
    note: str,
    at: dt.datetime | None = None,
    undo: bool = False,
) -> Shipment:
    """Re-date (`at`) or undo the latest officer move (ship, deliver, hold, release, cancel).
    The correction is a new event pointing at the move it corrects.

    An undo puts back the state before the move (a state that follows the application takes
    the one the application gives it now) and its side effects: the moment of shipping or
    delivery is cleared; an undone shipping clears what it recorded (shipped quantity,
    transport document, customs declaration) and its general license reserves the planned
    quantity and value again (`drawdown.unship_drawdown`, refused if the license can no
    longer cover the difference); a cancelled shipment reserves its quantity and value on its
    general license again (refused likewise). A re-dating obeys the rules of moves: not in
    the future, not before the previous move, and keeps what shipping recorded."""
    if not (note or "").strip():
        raise InvalidInput(_("Say why the move is corrected."), fields={"note": _("Required.")})
    if undo == (at is not None):
        raise InvalidInput(
            _("Either give a new date for the latest move or undo it."),
            fields={"at": _("Give a new date, or undo.")},
        )
    with transaction.atomic():
        application = None
        if shipment.application_id:
            # Lock order: the application first (an undone cancellation reserves on it).
            application = LicenseApplication.objects.select_for_update().get(
                pk=shipment.application_id
            )
        locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if locked.status != shipment.status or locked.application_id != shipment.application_id:
            raise ConcurrentUpdate(_("The shipment was changed by someone else meanwhile."))
        latest, previous = shipment_latest_move(locked)
        if latest is None:
            raise IllegalMove(_("The shipment has no move to correct."))
        if latest.to_status != locked.status:
            raise IllegalMove(_("The latest move is no longer the shipment's state."))
        move_name = events.payload(latest).get("move", "")
        prev_at = effective_moment(previous) if previous else None
        old_at = effective_moment(latest)
        if undo:
            target = latest.from_status
            if target in FOLLOWING_STATUSES:
                target = following_status(application, locked.license_required)
            changes: dict[str, Any] = {}
            if move_name in SHIPMENT_DATED_FIELD:
                changes[SHIPMENT_DATED_FIELD[move_name]] = None
            shipped_quantity = locked.shipped_quantity
            if move_name == "ship":
                # What shipping recorded goes with it.
                changes.update(shipped_quantity=None, transport_document="", customs_declaration="")
            updated = Shipment.objects.filter(pk=locked.pk, status=locked.status).update(
                status=target, last_moved_at=prev_at, updated_at=now, **changes
            )
            if updated != 1:
                raise ConcurrentUpdate(_("The shipment was changed by someone else meanwhile."))
            follow_status([locked.pk])
            locked.refresh_from_db()
            if move_name == "ship" and application is not None:
                unship_drawdown(locked, application, shipped_quantity, now=now, actor=actor)
            if move_name == "cancel" and application is not None:
                try:
                    _reserve(locked, application, now=now, actor=actor)
                except InvalidInput as exc:
                    raise IllegalMove(
                        _("The cancellation cannot be undone: %(why)s")
                        % {"why": " ".join([exc.message, *map(str, exc.fields.values())])}
                    ) from exc
            events.correction(
                shipment=locked,
                corrects=latest,
                action="undo",
                from_status=latest.to_status,
                to_status=target,
                now=now,
                actor=actor,
                note=note,
                data={"move": move_name, "undone_at": old_at},
            )
        else:
            new_at = check_moment(at=at, now=now, not_before=prev_at)
            if move_name == "ship":
                _check_shipped_after_approval(application, new_at)
            updates: dict[str, Any] = {"last_moved_at": new_at, "updated_at": now}
            if move_name in SHIPMENT_DATED_FIELD:
                updates[SHIPMENT_DATED_FIELD[move_name]] = new_at
            Shipment.objects.filter(pk=locked.pk).update(**updates)
            locked.refresh_from_db()
            events.correction(
                shipment=locked,
                corrects=latest,
                action="redate",
                from_status=locked.status,
                to_status=locked.status,
                now=now,
                actor=actor,
                note=note,
                data={"from": old_at, "to": new_at, "move": move_name},
            )
        _reevaluate(locked, now=now)
    shipment.refresh_from_db()
    return shipment
