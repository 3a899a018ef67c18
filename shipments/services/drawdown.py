"""Drawdown: a shipment's quantity and value reserved against its general license, under a lock
on the application row, and released."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from core.errors import InvalidInput
from licenses import events
from licenses.models import LicenseApplication, LicenseType, Status
from licenses.services import (
    application_exhaust,
    application_replenish,
    drawdown_update,
)

from ..models import Shipment
from .states import CLOSED_APPLICATION, SS


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
