"""Drawdown: a shipment's quantity and value reserved against its general license, under a lock
on the application row, and released."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput
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
