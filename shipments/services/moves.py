"""Moves of a shipment (ship, deliver, hold, release, cancel) and the states that follow its
application."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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

from ..models import FOLLOWING_STATUSES, Shipment, follow_status, status_phrase
from .drawdown import (
    RELEASED_AT_MOVE,
    _release,
    check_shipped_quantity,
    release_reservations,
    restore_reservations,
    ship_drawdown,
)
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
    shipped: dict[str, Any] | None = None,
) -> Shipment:
    move = SHIPMENT_MOVES[name]
    read_status = shipment.status
    if read_status not in move.sources:
        raise IllegalMove(not_legal_message(name, read_status))
    facts = _shipped_facts(**shipped) if shipped is not None else None
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
            assert facts is not None
            _check_shipped_after_approval(application, at)
            # The reservation as stored now (the application's lock keeps it so).
            current = Shipment.objects.select_for_update().get(pk=shipment.pk)
            quantity = current.quantity if facts.quantity is None else facts.quantity
            check_shipped_quantity(current, application, quantity)
            changes.update(
                shipped_at=at,
                shipped_quantity=quantity,
                transport_document=facts.transport_document,
                customs_declaration=facts.customs_declaration,
            )
        elif name == "deliver":
            changes["delivered_at"] = at
        updated = Shipment.objects.filter(pk=shipment.pk, status=read_status).update(
            status=target, last_moved_at=at, updated_at=now, **changes
        )
        if updated != 1:
            raise ConcurrentUpdate(
                _("The shipment was changed by someone else meanwhile; reload and try again.")
            )
        follow_status([shipment.pk])
        shipment.refresh_from_db()
        data: dict[str, Any] = {"move": name}
        if name == "ship":
            data.update(
                shipped_quantity=str(shipment.shipped_quantity),
                unit=shipment.unit,
                transport_document=shipment.transport_document,
                customs_declaration=shipment.customs_declaration,
            )
        events.status_changed(
            shipment=shipment,
            from_status=read_status,
            to_status=target,
            at=at,
            now=now,
            actor=actor,
            note=note,
            data=data,
        )
        if name == "ship" and application is not None:
            ship_drawdown(shipment, application, now=now, actor=actor)
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


@dataclass(frozen=True)
class ShippedFacts:
    """What the `ship` move records: the quantity that left (None: the planned one), the
    transport document and the customs declaration number (MRN)."""

    quantity: Decimal | None
    transport_document: str
    customs_declaration: str


# The most digits a quantity holds (the model's DecimalField), and its decimals.
_QUANTITY_DIGITS, _QUANTITY_PLACES = 16, 3
_THOUSANDTH = Decimal("0.001")
_TRANSPORT_DOCUMENT_MAX = Shipment._meta.get_field("transport_document").max_length or 100
_CUSTOMS_DECLARATION_MAX = Shipment._meta.get_field("customs_declaration").max_length or 40


def _shipped_facts(
    shipped_quantity: Any, transport_document: str | None, customs_declaration: str | None
) -> ShippedFacts:
    """Check what the ship move records, naming each bad field (InvalidInput)."""
    errors: dict[str, str] = {}
    quantity: Decimal | None = None
    if shipped_quantity not in (None, ""):
        try:
            quantity = Decimal(str(shipped_quantity).strip())
        except InvalidOperation:
            quantity = None
            errors["shipped_quantity"] = _("Give the quantity that shipped as a number.")
        if quantity is not None:
            if not quantity.is_finite():
                errors["shipped_quantity"] = _("Give the quantity that shipped as a number.")
            elif quantity <= 0:
                errors["shipped_quantity"] = _("The shipped quantity must be more than zero.")
            elif quantity.adjusted() >= _QUANTITY_DIGITS - _QUANTITY_PLACES:
                errors["shipped_quantity"] = _("Too large a quantity.")
            elif quantity != quantity.quantize(_THOUSANDTH):
                errors["shipped_quantity"] = _("At most 3 decimals.")
    document = (transport_document or "").strip()
    if len(document) > _TRANSPORT_DOCUMENT_MAX:
        errors["transport_document"] = _("At most %(n)d characters.") % {
            "n": _TRANSPORT_DOCUMENT_MAX
        }
    declaration = (customs_declaration or "").strip()
    if len(declaration) > _CUSTOMS_DECLARATION_MAX:
        errors["customs_declaration"] = _("At most %(n)d characters.") % {
            "n": _CUSTOMS_DECLARATION_MAX
        }
    if errors:
        raise InvalidInput(_("What shipped is not recorded: check the fields."), fields=errors)
    if quantity is not None:
        quantity = quantity.quantize(_THOUSANDTH)
    return ShippedFacts(quantity, document, declaration)


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
    shipped_quantity: Decimal | None = None,
    transport_document: str = "",
    customs_declaration: str = "",
) -> Shipment:
    """The cleared shipment left: recorded with the quantity that shipped (default: the
    planned quantity), its transport document and customs declaration number (MRN).

    An individual license refuses a quantity beyond its own. On a general license the
    drawdown follows the quantity shipped (`drawdown.ship_drawdown`: the value in proportion,
    rounded to the cent), refused naming `shipped_quantity` when more would overdraw it."""
    shipped = {
        "shipped_quantity": shipped_quantity,
        "transport_document": transport_document,
        "customs_declaration": customs_declaration,
    }
    return _move(shipment, "ship", at=at, now=now, actor=actor, note=note, shipped=shipped)


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
        follow_status([pk for pk, _s in moving])
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
