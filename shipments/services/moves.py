"""Moves of a shipment (ship, deliver, hold, release, cancel) and the states that follow its
application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput
from core.lookups import ids_in
from core.words import moment_words
from licenses import events
from licenses.models import Event, LicenseApplication
from licenses.services import (
    check_moment,
)

from ..models import FOLLOWING_STATUSES, Shipment, status_phrase
from .drawdown import RELEASED_AT_MOVE, _release, release_reservations, restore_reservations
from .shipments import _reevaluate
from .states import SS, following_status


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
        raise IllegalMove(not_legal_message(name, read_status))
    at = check_moment(at=at, now=now, not_before=shipment.last_moved_at)
    with transaction.atomic():
        application = None
        if shipment.application_id:
            # Lock order: the application first (cancel releases its drawdown).
            application = LicenseApplication.objects.select_for_update().get(
                pk=shipment.application_id
            )
        target = move.target or following_status(application, shipment.license_required)
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
        raise InvalidInput(
            _("The license was approved at %(when)s; the shipment cannot leave before that.")
            % {"when": moment_words(application.decided_at)},
            fields={"at": _("Before the approval of the license.")},
        )


# What each move is called on buttons and in messages.
MOVE_LABELS = {
    "ship": gettext_lazy("Ship"),
    "deliver": gettext_lazy("Deliver"),
    "hold": gettext_lazy("Hold"),
    "release": gettext_lazy("Release"),
    "cancel": gettext_lazy("Cancel shipment"),
}


def not_legal_message(move_name: str, status: str) -> str:
    """Why a move is refused in a state, as a sentence: "“Ship” is not possible now: the
    shipment is already delivered."""
    return _("“%(move)s” is not possible now: the shipment is %(state)s.") % {
        "move": MOVE_LABELS.get(move_name, move_name),
        "state": status_phrase(status),
    }


def shipment_ship(
    *,
    shipment: Shipment,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> Shipment:
    return _move(shipment, "ship", at=at, now=now, actor=actor, note=note)


def shipment_deliver(
    *,
    shipment: Shipment,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> Shipment:
    return _move(shipment, "deliver", at=at, now=now, actor=actor, note=note)


def shipment_hold(
    *,
    shipment: Shipment,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> Shipment:
    return _move(shipment, "hold", at=at, now=now, actor=actor, note=note)


def shipment_release(
    *,
    shipment: Shipment,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> Shipment:
    return _move(shipment, "release", at=at, now=now, actor=actor, note=note)


def shipment_cancel(
    *,
    shipment: Shipment,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> Shipment:
    return _move(shipment, "cancel", at=at, now=now, actor=actor, note=note)


def _undoes_a_release(correction: Event) -> bool:
    data = events.payload(correction)
    return data.get("action") == "undo" and data.get("move") in ("revoke", "surrender")


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
    `correction` of the application caused it, each shipment's event points at it. A shipment
    that needs no license stays `cleared` whatever its application does.

    A license revoked or surrendered releases the reservations of its shipments not yet
    shipped; the undo of that move takes them again."""
    if correction is None and application.status in RELEASED_AT_MOVE:
        release_reservations(application, now=now, actor=actor)
    elif correction is not None and _undoes_a_release(correction):
        assert correction.corrects is not None
        restore_reservations(application, move=correction.corrects, now=now, actor=actor)
    target = following_status(application)
    cleared = following_status(application, license_required=False)
    rows = list(
        Shipment.objects.select_for_update()
        .filter(application=application, status__in=FOLLOWING_STATUSES)
        .filter(
            Q(license_required=True) & ~Q(status=target)
            | Q(license_required=False) & ~Q(status=cleared)
        )
        .values_list("pk", "status", "license_required")
    )
    moved = 0
    for goal, required in ((target, True), (cleared, False)):
        moving = [(pk, status) for pk, status, req in rows if req == required]
        if not moving:
            continue
        Shipment.objects.filter(ids_in("pk", [pk for pk, _s in moving])).update(
            status=goal, updated_at=now
        )
        moved += events.shipments_followed(
            application=application,
            moved=moving,
            to_status=goal,
            at=at,
            now=now,
            actor=actor,
            correction=correction,
        )
    return moved
