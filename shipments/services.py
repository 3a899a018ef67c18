"""Writes on shipments: creation, edits, assignment to an application with drawdown of general
licenses, the officer's moves, and following the application's state.

Lock order, always: the application rows (ascending id), then the shipment row. Drawdown
totals live on the application row, so two officers assigning to one general license at the
same moment queue on its lock and the second sees the first one's reservation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput, full_clean
from licenses import events, signals
from licenses.models import Event, EventKind, LicenseApplication, LicenseType, Status
from licenses.services import (
    application_exhaust,
    application_replenish,
    check_moment,
    drawdown_update,
    effective_moment,
)

from .models import FOLLOWING_STATUSES, Consignee, Shipment, ShipmentStatus

SS = ShipmentStatus

# What a shipment that follows its application shows for each application state.
FOLLOWS: dict[str | None, str] = {
    None: SS.PLANNED,
    Status.DRAFT: SS.PLANNED,
    Status.REJECTED: SS.PLANNED,
    Status.WITHDRAWN: SS.PLANNED,
    Status.EXPIRED: SS.PLANNED,
    Status.SUBMITTED: SS.AWAITING_LICENSE,
    Status.ACCEPTED: SS.AWAITING_LICENSE,
    Status.INFO_REQUESTED: SS.AWAITING_LICENSE,
    Status.APPROVED: SS.CLEARED,
    Status.EXHAUSTED: SS.CLEARED,
}

# Applications a shipment can no longer be assigned to.
CLOSED_APPLICATION = {Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED}


def following_status(application: LicenseApplication | None) -> str:
    return FOLLOWS[application.status if application else None]


def _reevaluate(
    shipment: Shipment,
    *,
    now: dt.datetime,
    applications: Any = (),
    file_by: bool = False,
) -> None:
    """Announce a written shipment (`licenses.signals.changed`), inside the service's
    transaction: its flags, and those of the applications it is (or was) assigned to
    (`expiring` counts the shipments still to ship under a license), are re-evaluated with the
    service's `now`; when `file_by`, its file-by deadline is recomputed first (its inputs were
    written) and read back onto the instance."""
    signals.changed.send(
        sender=Shipment,
        now=now,
        application_ids=sorted({shipment.application_id, *applications} - {None}),
        **({"file_by_ids": [shipment.pk]} if file_by else {"shipment_ids": [shipment.pk]}),
    )
    if file_by:
        shipment.file_by_date, shipment.file_by_at = Shipment.objects.values_list(
            "file_by_date", "file_by_at"
        ).get(pk=shipment.pk)


@dataclass(frozen=True)
class ShipmentMove:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state its application gives it (release)


_BEFORE_SHIPPING = frozenset({SS.PLANNED, SS.AWAITING_LICENSE, SS.CLEARED})
SHIPMENT_MOVES: dict[str, ShipmentMove] = {
    m.name: m
    for m in [
        ShipmentMove("ship", frozenset({SS.CLEARED}), SS.SHIPPED),
        ShipmentMove("deliver", frozenset({SS.SHIPPED}), SS.DELIVERED),
        ShipmentMove("hold", _BEFORE_SHIPPING, SS.ON_HOLD),
        ShipmentMove("release", frozenset({SS.ON_HOLD}), None),
        ShipmentMove("cancel", _BEFORE_SHIPPING | {SS.ON_HOLD}, SS.CANCELLED),
    ]
}


def legal_shipment_moves(shipment: Shipment) -> list[str]:
    return [m.name for m in SHIPMENT_MOVES.values() if shipment.status in m.sources]


def _move(
    shipment: Shipment,
    name: str,
    *,
    at: dt.datetime | None,
    now: dt.datetime,
    actor: Any,
    note: str,
) -> Shipment:
    move = SHIPMENT_MOVES[name]
    read_status = shipment.status
    if read_status not in move.sources:
        raise IllegalMove(
            _("Cannot %(move)s a shipment that is %(status)s.")
            % {"move": name, "status": SS(read_status).label}
        )
    at = check_moment(at=at, now=now, not_before=shipment.last_moved_at)
    with transaction.atomic():
        application = None
        if shipment.application_id:
            # Lock order: the application first (cancel releases its drawdown).
            application = LicenseApplication.objects.select_for_update().get(
                pk=shipment.application_id
            )
        target = move.target or following_status(application)
        changes: dict[str, Any] = {}
        if name == "ship":
            _check_shipped_after_approval(application, at)
            changes["shipped_at"] = at
        elif name == "deliver":
            changes["delivered_at"] = at
        updated = Shipment.objects.filter(pk=shipment.pk, status=read_status).update(
            status=target, last_moved_at=at, updated_at=now, **changes
        )
        if updated != 1:
            raise ConcurrentUpdate(
                _("The shipment was changed by someone else meanwhile; reload and try again.")
            )
        shipment.refresh_from_db()
        events.status_changed(
            shipment=shipment,
            from_status=read_status,
            to_status=target,
            at=at,
            now=now,
            actor=actor,
            note=note,
            data={"move": name},
        )
        if name == "cancel" and application is not None:
            _release(shipment, application, shipment.quantity, shipment.value, now=now, actor=actor)
        _reevaluate(shipment, now=now)
    return shipment


def _check_shipped_after_approval(application: LicenseApplication | None, at: dt.datetime) -> None:
    """Goods leave under a license that exists: not before the approval of the application
    that covers them."""
    if application is not None and application.decided_at and at < application.decided_at:
        approved = application.decided_at.astimezone(application.authority.tz)
        raise InvalidInput(
            _("The license was approved at %(when)s; the shipment cannot leave before that.")
            % {"when": approved.strftime("%Y-%m-%d %H:%M %Z")},
            fields={"at": _("Before the approval of the license.")},
        )


def shipment_ship(*, shipment, at=None, now, actor, note="") -> Shipment:
    return _move(shipment, "ship", at=at, now=now, actor=actor, note=note)


def shipment_deliver(*, shipment, at=None, now, actor, note="") -> Shipment:
    return _move(shipment, "deliver", at=at, now=now, actor=actor, note=note)


def shipment_hold(*, shipment, at=None, now, actor, note="") -> Shipment:
    return _move(shipment, "hold", at=at, now=now, actor=actor, note=note)


def shipment_release(*, shipment, at=None, now, actor, note="") -> Shipment:
    return _move(shipment, "release", at=at, now=now, actor=actor, note=note)


def shipment_cancel(*, shipment, at=None, now, actor, note="") -> Shipment:
    return _move(shipment, "cancel", at=at, now=now, actor=actor, note=note)


# --- drawdown -------------------------------------------------------------------------------


def _reserve(
    shipment: Shipment, application: LicenseApplication, *, now: dt.datetime, actor: Any
) -> None:
    """Assign a shipment to a (locked) application, reserving its quantity and value on a
    general license. Refused if the application is closed, if an individual license already
    covers another shipment, or if it would overdraw an approved general license."""
    if application.status in CLOSED_APPLICATION:
        raise InvalidInput(
            _("The application is %(status)s; a shipment cannot be assigned to it.")
            % {"status": Status(application.status).label},
            fields={
                "application": _("This application is %(status)s.")
                % {"status": Status(application.status).label}
            },
        )
    if application.license_type == LicenseType.INDIVIDUAL:
        others = application.shipments.exclude(pk=shipment.pk).exclude(status=SS.CANCELLED)
        if others.exists():
            raise InvalidInput(
                _("An individual license covers one shipment; this one already covers %(ref)s.")
                % {"ref": others.first()},
                fields={"application": _("This individual license already covers a shipment.")},
            )
        return
    quantity = application.drawn_quantity + shipment.quantity
    value = application.drawn_value + shipment.value
    if application.status == Status.EXHAUSTED:
        raise InvalidInput(
            _("The license is fully drawn down."),
            fields={"application": _("This license is fully drawn down.")},
        )
    if application.status == Status.APPROVED:
        errors = {}
        assert application.approved_quantity is not None and application.approved_value is not None
        if quantity > application.approved_quantity:
            left = application.approved_quantity - application.drawn_quantity
            errors["quantity"] = _("Only %(left)s %(unit)s left on the license.") % {
                "left": left,
                "unit": shipment.unit,
            }
        if value > application.approved_value:
            left_value = application.approved_value - application.drawn_value
            errors["value"] = _("Only %(left)s %(cur)s left on the license.") % {
                "left": left_value,
                "cur": application.currency,
            }
        if errors:
            raise InvalidInput(_("The assignment would overdraw the license."), fields=errors)
    drawdown_update(application_id=application.pk, quantity=shipment.quantity, value=shipment.value)
    application.drawn_quantity, application.drawn_value = quantity, value
    events.drawdown(
        released=False,
        shipment=shipment,
        application=application,
        quantity=shipment.quantity,
        value=shipment.value,
        now=now,
        actor=actor,
    )
    if application.status == Status.APPROVED and (
        quantity >= (application.approved_quantity or 0)
        or value >= (application.approved_value or 0)
    ):
        application_exhaust(
            application=application,
            now=now,
            actor=None,
            note=_("Fully drawn down by %(ref)s.") % {"ref": shipment.reference},
        )


def _release(
    shipment: Shipment,
    application: LicenseApplication,
    quantity: Decimal,
    value: Decimal,
    *,
    now: dt.datetime,
    actor: Any,
) -> None:
    """Give back a shipment's reservation on a (locked) general license."""
    if application.license_type != LicenseType.GENERAL:
        return
    drawdown_update(application_id=application.pk, quantity=-quantity, value=-value)
    application.drawn_quantity -= quantity
    application.drawn_value -= value
    events.drawdown(
        released=True,
        shipment=shipment,
        application=application,
        quantity=quantity,
        value=value,
        now=now,
        actor=actor,
    )
    if (
        application.status == Status.EXHAUSTED
        and application.drawn_quantity < (application.approved_quantity or 0)
        and application.drawn_value < (application.approved_value or 0)
    ):
        application_replenish(
            application=application,
            now=now,
            actor=None,
            note=_("Drawdown released by %(ref)s.") % {"ref": shipment.reference},
        )


# --- creation and edits -----------------------------------------------------------------------

EDITABLE_STATUSES = set(FOLLOWING_STATUSES) | {SS.ON_HOLD}


def shipment_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Shipment:
    """A new shipment; assigned to an application it reserves on a general license and follows
    the application's state."""
    shipment = Shipment(**fields)
    full_clean(shipment)
    with transaction.atomic():
        application = None
        if shipment.application_id:
            application = LicenseApplication.objects.select_for_update().get(
                pk=shipment.application_id
            )
        shipment.status = following_status(application)
        shipment.save()
        events.created(shipment=shipment, now=now, actor=actor, status=shipment.status)
        if application is not None:
            _reserve(shipment, application, now=now, actor=actor)
        _reevaluate(shipment, now=now, file_by=True)
    return shipment


def shipment_update(*, shipment: Shipment, now: dt.datetime, actor: Any, **fields: Any) -> Shipment:
    """Edit a shipment before it ships. Moving it to another application (or changing its
    quantity or value) releases the old reservation and takes a new one, atomically."""
    changed = {k: v for k, v in fields.items() if getattr(shipment, k) != v}
    if "application" in changed:
        changed["application_id"] = changed.pop("application")
        changed["application_id"] = (
            changed["application_id"].pk if changed["application_id"] else None
        )
        if changed["application_id"] == shipment.application_id:
            del changed["application_id"]
    if not changed:
        return shipment
    if shipment.status not in EDITABLE_STATUSES:
        raise IllegalMove(
            _("A shipment that is %(status)s can no longer be edited.")
            % {"status": SS(shipment.status).label}
        )
    old_app_id = shipment.application_id
    old_quantity, old_value = shipment.quantity, shipment.value
    with transaction.atomic():
        ids = sorted({i for i in (old_app_id, changed.get("application_id", old_app_id)) if i})
        locked = {
            a.pk: a
            for a in LicenseApplication.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        current = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if current.status != shipment.status or current.application_id != old_app_id:
            raise ConcurrentUpdate(_("The shipment was changed by someone else meanwhile."))
        for name, value in changed.items():
            setattr(shipment, name, value)
        if "item" in changed or "item_id" in changed:
            shipment.unit = shipment.item.unit
        full_clean(shipment)
        new_app_id = shipment.application_id
        amounts_changed = old_quantity != shipment.quantity or old_value != shipment.value
        if old_app_id and (old_app_id != new_app_id or amounts_changed):
            _release(shipment, locked[old_app_id], old_quantity, old_value, now=now, actor=actor)
        if shipment.status in FOLLOWING_STATUSES:
            shipment.status = following_status(locked.get(new_app_id) if new_app_id else None)
        shipment.save()
        if new_app_id and (old_app_id != new_app_id or amounts_changed):
            _reserve(shipment, locked[new_app_id], now=now, actor=actor)
        if old_app_id != new_app_id:
            events.assigned(
                shipment=shipment,
                from_application_id=old_app_id,
                to_application_id=new_app_id,
                from_status=current.status,
                to_status=shipment.status,
                now=now,
                actor=actor,
            )
        edited = {k: str(v) for k, v in changed.items() if k != "application_id"}
        if edited:
            events.edited(shipment=shipment, edited=edited, now=now, actor=actor)
        _reevaluate(shipment, now=now, applications=[old_app_id], file_by=True)
    return shipment


def follow_application(
    *,
    application: LicenseApplication,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any,
    correction: Event | None = None,
) -> int:
    """Move the shipments that follow an application to the state it now gives them, each
    with an event; the officer's states (shipped, on hold, …) are left alone. When a
    `correction` of the application caused it, each shipment's event points at it."""
    target = following_status(application)
    moving = list(
        Shipment.objects.select_for_update()
        .filter(application=application, status__in=FOLLOWING_STATUSES)
        .exclude(status=target)
        .values_list("pk", "status")
    )
    if not moving:
        return 0
    Shipment.objects.filter(pk__in=[pk for pk, _s in moving]).update(status=target, updated_at=now)
    return events.shipments_followed(
        application=application,
        moved=moving,
        to_status=target,
        at=at,
        now=now,
        actor=actor,
        correction=correction,
    )


# --- corrections ------------------------------------------------------------------------------

# Application states under which a license existed: a shipment may have shipped under them.
LICENSED = frozenset({Status.APPROVED, Status.EXPIRED, Status.EXHAUSTED})
_GONE = (SS.SHIPPED, SS.DELIVERED)


def _references(shipments: Any, *, limit: int = 10) -> str:
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
    delivery is cleared, and a cancelled shipment reserves its quantity and value on its
    general license again (refused if the license can no longer cover it). A re-dating obeys
    the rules of moves: not in the future, not before the previous move."""
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
        move_name = latest.data["move"]
        prev_at = effective_moment(previous) if previous else None
        old_at = effective_moment(latest)
        if undo:
            target = latest.from_status
            if target in FOLLOWING_STATUSES:
                target = following_status(application)
            changes: dict[str, Any] = {}
            if move_name in SHIPMENT_DATED_FIELD:
                changes[SHIPMENT_DATED_FIELD[move_name]] = None
            updated = Shipment.objects.filter(pk=locked.pk, status=locked.status).update(
                status=target, last_moved_at=prev_at, updated_at=now, **changes
            )
            if updated != 1:
                raise ConcurrentUpdate(_("The shipment was changed by someone else meanwhile."))
            locked.refresh_from_db()
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


# --- consignees -------------------------------------------------------------------------------


def consignee_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Consignee:
    consignee = Consignee(**fields)
    full_clean(consignee)
    consignee.save()
    return consignee


def consignee_update(
    *, consignee: Consignee, now: dt.datetime, actor: Any, **fields: Any
) -> Consignee:
    for name, value in fields.items():
        setattr(consignee, name, value)
    full_clean(consignee)
    consignee.save()
    return consignee
