"""Drawdown: a shipment's quantity and value reserved against its general license, under a lock
on the application row, and released."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import IllegalMove, InvalidInput
from licenses import events
from licenses.models import Event, EventKind, LicenseApplication, LicenseType, Status, status_phrase
from licenses.services import (
    application_exhaust,
    application_replenish,
    drawdown_update,
)

from ..models import Shipment
from .states import CLOSED_APPLICATION, SS

# States of a license whose approved quantity and value bound what shipments may reserve.
LIMITED = (Status.APPROVED, Status.SUSPENDED, Status.AMENDMENT_REQUESTED)
# Final states whose move released every reservation of the shipments not yet shipped.
RELEASED_AT_MOVE = (Status.REVOKED, Status.SURRENDERED)
# Shipments that reserve on their license: not yet shipped, not cancelled.
_RESERVING = (SS.PLANNED, SS.AWAITING_LICENSE, SS.CLEARED, SS.ON_HOLD)


def _reserve(
    shipment: Shipment, application: LicenseApplication, *, now: dt.datetime, actor: Any
) -> None:
    """Assign a shipment to a (locked) application, reserving its quantity and value on a
    general license. Refused if the application is closed, if an individual license already
    covers another shipment, or if it would overdraw an approved general license."""
    if application.status in CLOSED_APPLICATION:
        raise InvalidInput(
            _("The application is %(state)s: a shipment cannot be assigned to it.")
            % {"state": status_phrase(application.status)},
            fields={
                "application": _("This application is %(state)s.")
                % {"state": status_phrase(application.status)}
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
    if application.status in LIMITED:
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
    """Give back a shipment's reservation on a (locked) general license (nothing when the
    license was revoked or surrendered: that move released it already)."""
    if application.license_type != LicenseType.GENERAL:
        return
    if application.status in RELEASED_AT_MOVE:
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


def release_reservations(
    application: LicenseApplication, *, now: dt.datetime, actor: Any
) -> list[int]:
    """A (locked) general license was revoked or surrendered: the shipments not yet shipped
    give back their reservations, each with a `drawdown_released` event. Returns their ids.
    They stay linked to the application (like under an expired license), to be reassigned."""
    if application.license_type != LicenseType.GENERAL:
        return []
    released = []
    shipments = Shipment.objects.select_for_update().filter(
        application=application, status__in=_RESERVING
    )
    for shipment in shipments.order_by("pk"):
        drawdown_update(
            application_id=application.pk, quantity=-shipment.quantity, value=-shipment.value
        )
        application.drawn_quantity -= shipment.quantity
        application.drawn_value -= shipment.value
        events.drawdown(
            released=True,
            shipment=shipment,
            application=application,
            quantity=shipment.quantity,
            value=shipment.value,
            now=now,
            actor=actor,
        )
        released.append(shipment.pk)
    return released


def released_by(application: LicenseApplication, move: Any) -> QuerySet[Shipment]:
    """The shipments whose reservations the revocation or surrender `move` (its event)
    released: nothing releases on a revoked or surrendered license after its move."""
    released = Event.objects.filter(
        kind=EventKind.DRAWDOWN_RELEASED,
        application=application,
        shipment__isnull=False,
        id__gt=move.pk,
    ).values("shipment_id")
    return Shipment.objects.filter(pk__in=released)


def restore_reservations(
    application: LicenseApplication, *, move: Any, now: dt.datetime, actor: Any
) -> None:
    """The revocation or surrender `move` (its event) of a (locked) general license was
    undone: the shipments it released that are still linked to it and not cancelled reserve
    their quantity and value again, each with a `drawdown` event. (A shipment reassigned
    meanwhile refuses the undo first: `application_correction_check`.)"""
    if application.license_type != LicenseType.GENERAL:
        return
    shipments = (
        released_by(application, move)
        .filter(application=application, status__in=_RESERVING)
        .select_for_update()
        .order_by("pk")
    )
    for shipment in shipments:
        drawdown_update(
            application_id=application.pk, quantity=shipment.quantity, value=shipment.value
        )
        application.drawn_quantity += shipment.quantity
        application.drawn_value += shipment.value
        events.drawdown(
            released=False,
            shipment=shipment,
            application=application,
            quantity=shipment.quantity,
            value=shipment.value,
            now=now,
            actor=actor,
        )


# --- shipping ---------------------------------------------------------------------------------

CENT = Decimal("0.01")


def shipped_value(shipment: Shipment, quantity: Decimal) -> Decimal:
    """The value a shipment draws when `quantity` of it shipped: its planned value in
    proportion to the planned quantity, rounded half up to the cent (the planned value itself
    when the planned quantity ships). 480 of 500 kg planned at 5,000.00 USD draw 4,800.00 USD;
    1 of 3 kg at 100.00 USD draws 33.33 USD."""
    if quantity == shipment.quantity:
        return shipment.value
    return (shipment.value * quantity / shipment.quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def _left(application: LicenseApplication) -> tuple[Decimal, Decimal]:
    assert application.approved_quantity is not None and application.approved_value is not None
    return (
        application.approved_quantity - application.drawn_quantity,
        application.approved_value - application.drawn_value,
    )


def _would_overdraw(application: LicenseApplication, quantity: Decimal, value: Decimal) -> bool:
    """Whether drawing `quantity` and `value` more would take a bounded license past its
    approved quantity or value."""
    if application.status not in (*LIMITED, Status.EXHAUSTED) or (quantity <= 0 and value <= 0):
        return False
    left_quantity, left_value = _left(application)
    return quantity > left_quantity or value > left_value


def _adjust(
    shipment: Shipment,
    application: LicenseApplication,
    quantity: Decimal,
    value: Decimal,
    *,
    move: str,
    shipped: tuple[Decimal, Decimal],
    now: dt.datetime,
    actor: Any,
) -> None:
    """Draw `quantity` and `value` more on a (locked) general license (less when negative),
    with one drawdown event saying what shipped, and exhaust or replenish the license."""
    drawdown_update(application_id=application.pk, quantity=quantity, value=value)
    application.drawn_quantity += quantity
    application.drawn_value += value
    released = quantity < 0 or value < 0
    events.drawdown(
        released=released,
        shipment=shipment,
        application=application,
        quantity=abs(quantity),
        value=abs(value),
        now=now,
        actor=actor,
        move=move,
        shipped=shipped,
    )
    approved_quantity = application.approved_quantity or 0
    approved_value = application.approved_value or 0
    if application.status == Status.APPROVED and (
        application.drawn_quantity >= approved_quantity or application.drawn_value >= approved_value
    ):
        application_exhaust(
            application=application,
            now=now,
            actor=None,
            note=_("Fully drawn down by %(ref)s.") % {"ref": shipment.reference},
        )
    elif (
        application.status == Status.EXHAUSTED
        and application.drawn_quantity < approved_quantity
        and application.drawn_value < approved_value
    ):
        application_replenish(
            application=application,
            now=now,
            actor=None,
            note=_("Drawdown released by %(ref)s.") % {"ref": shipment.reference},
        )


def check_shipped_quantity(
    shipment: Shipment, application: LicenseApplication | None, quantity: Decimal
) -> None:
    """Refuse, naming `shipped_quantity`, a quantity the (locked) license cannot cover: more
    than an individual license's quantity, or more than a general license has left beyond
    this shipment's reservation (quantity, or the value drawn in proportion)."""
    if application is None:
        return
    if application.license_type == LicenseType.INDIVIDUAL:
        limit = application.approved_quantity or application.quantity
        if quantity > limit:
            raise InvalidInput(
                _("The license covers %(limit)s %(unit)s; %(q)s %(unit)s cannot ship under it.")
                % {"limit": limit, "q": quantity, "unit": shipment.unit},
                fields={
                    "shipped_quantity": _("At most %(limit)s %(unit)s, the license's quantity.")
                    % {"limit": limit, "unit": shipment.unit}
                },
            )
        return
    if application.status in RELEASED_AT_MOVE:
        return
    more_quantity = quantity - shipment.quantity
    more_value = shipped_value(shipment, quantity) - shipment.value
    if _would_overdraw(application, more_quantity, more_value):
        left_quantity, left_value = _left(application)
        raise InvalidInput(
            _("Shipping %(q)s %(unit)s would overdraw the license.")
            % {"q": quantity, "unit": shipment.unit},
            fields={
                "shipped_quantity": _(
                    "Beyond the %(reserved)s %(unit)s this shipment reserves, the license has "
                    "%(left)s %(unit)s and %(left_value)s %(cur)s left."
                )
                % {
                    "reserved": shipment.quantity,
                    "unit": shipment.unit,
                    "left": max(left_quantity, Decimal(0)),
                    "left_value": max(left_value, Decimal(0)),
                    "cur": application.currency,
                }
            },
        )


def ship_drawdown(
    shipment: Shipment, application: LicenseApplication, *, now: dt.datetime, actor: Any
) -> None:
    """The shipment (its `shipped_quantity` recorded) left under a (locked) general license:
    the drawdown follows what shipped. The difference from its reservation is drawn or given
    back with one event (its `move` "ship"), also when there is none. Checked beforehand by
    `check_shipped_quantity`. Nothing on a license revoked or surrendered (its move released
    the reservations)."""
    if application.license_type != LicenseType.GENERAL or application.status in RELEASED_AT_MOVE:
        return
    assert shipment.shipped_quantity is not None
    value = shipped_value(shipment, shipment.shipped_quantity)
    _adjust(
        shipment,
        application,
        shipment.shipped_quantity - shipment.quantity,
        value - shipment.value,
        move="ship",
        shipped=(shipment.shipped_quantity, value),
        now=now,
        actor=actor,
    )


def _holds_a_draw(shipment: Shipment, application: LicenseApplication) -> bool:
    """Whether the shipment's latest drawdown event on the license left it drawing something:
    anything but a plain release (a shipping that gave back a difference still draws)."""
    latest = (
        Event.objects.filter(
            application=application,
            shipment=shipment,
            kind__in=[EventKind.DRAWDOWN, EventKind.DRAWDOWN_RELEASED],
        )
        .order_by("-id")
        .first()
    )
    if latest is None:
        return False
    return latest.kind == EventKind.DRAWDOWN or events.payload(latest).get("move") == "ship"


def unship_drawdown(
    shipment: Shipment,
    application: LicenseApplication,
    shipped_quantity: Decimal | None,
    *,
    now: dt.datetime,
    actor: Any,
) -> None:
    """A shipment's shipping under a (locked) general license was undone: it reserves its
    planned quantity and value again (the difference from what shipped, with one event of
    `move` "ship_undone"). Refused when the license cannot cover that any more (IllegalMove).
    On a license revoked or surrendered since, whose move released the reservations of the
    shipments not yet shipped, it gives back what it drew instead, like them."""
    if application.license_type != LicenseType.GENERAL:
        return
    if shipped_quantity is None:  # shipped before shipping recorded its quantity
        shipped_quantity = shipment.quantity
    drawn = (shipped_quantity, shipped_value(shipment, shipped_quantity))
    if application.status in RELEASED_AT_MOVE:
        if not _holds_a_draw(shipment, application):
            return  # it shipped after the move had released it: it drew nothing
        quantity, value = -drawn[0], -drawn[1]
    else:
        quantity, value = shipment.quantity - drawn[0], shipment.value - drawn[1]
        if _would_overdraw(application, quantity, value):
            left_quantity, left_value = _left(application)
            raise IllegalMove(
                _(
                    "The shipping cannot be undone: its reservation of %(q)s %(unit)s, "
                    "%(v)s %(cur)s needs %(more)s %(unit)s more than it shipped, and the "
                    "license has %(left)s %(unit)s and %(left_value)s %(cur)s left."
                )
                % {
                    "q": shipment.quantity,
                    "v": shipment.value,
                    "more": quantity,
                    "unit": shipment.unit,
                    "cur": application.currency,
                    "left": max(left_quantity, Decimal(0)),
                    "left_value": max(left_value, Decimal(0)),
                }
            )
    _adjust(
        shipment,
        application,
        quantity,
        value,
        move="ship_undone",
        shipped=drawn,
        now=now,
        actor=actor,
    )
