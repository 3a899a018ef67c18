"""Filing an application for a shipment: a draft from the shipment's facts, assigned to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import IllegalMove
from licenses import services as license_services
from licenses.models import LicenseApplication, LicenseType, Status

from ..models import Shipment, ShipmentStatus
from .shipments import shipment_update

# Applications that no longer cover a shipment: it needs a new one.
NOT_IN_FORCE = frozenset(
    {
        Status.REJECTED,
        Status.WITHDRAWN,
        Status.EXPIRED,
        Status.RETURNED,
        Status.REVOKED,
        Status.SURRENDERED,
    }
)
REFERENCE_MAX = LicenseApplication._meta.get_field("reference").max_length or 60


def may_file_application(shipment: Shipment) -> bool:
    """A planned shipment with no application, or one whose application is no longer in force
    (rejected, withdrawn, expired, returned, revoked, surrendered)."""
    if shipment.status != ShipmentStatus.PLANNED:
        return False
    return shipment.application is None or shipment.application.status in NOT_IN_FORCE


def _refusal(shipment: Shipment) -> str:
    application = shipment.application
    if shipment.status != ShipmentStatus.PLANNED:
        return _(
            "Shipment %(ref)s is %(status)s: only a planned shipment needs an application filed."
        ) % {"ref": shipment.reference, "status": ShipmentStatus(shipment.status).label}
    assert application is not None
    return _(
        "Shipment %(ref)s already has application %(app)s (%(status)s): "
        "work on that one instead of filing another."
    ) % {
        "ref": shipment.reference,
        "app": application.reference,
        "status": Status(application.status).label,
    }


def _new_reference(shipment: Shipment) -> str:
    """`<shipment reference>-APP`, then `-APP2`, `-APP3`… until unused by its exporter."""
    taken = set(
        LicenseApplication.objects.filter(
            exporter_id=shipment.exporter_id, reference__startswith=shipment.reference[:40]
        ).values_list("reference", flat=True)
    )
    n = 1
    while True:
        suffix = "-APP" if n == 1 else f"-APP{n}"
        candidate = shipment.reference[: REFERENCE_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def shipment_file_application(
    *, shipment: Shipment, now: dt.datetime, actor: Any
) -> LicenseApplication:
    """Create a draft application from the shipment's facts — its exporter, its item and that
    item's authority, destination, quantity, value and currency, an individual license and a
    generated reference — and assign the shipment to it, in one transaction (the
    application's `created` event, then the shipment's `assigned` one). Refused when the
    shipment is not planned or already has an application in force (a draft included)."""
    with transaction.atomic():
        current = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("application", "item__authority")
            .get(pk=shipment.pk)
        )
        if not may_file_application(current):
            raise IllegalMove(_refusal(current))
        application = license_services.application_create(
            now=now,
            actor=actor,
            items=[current.item],
            exporter=current.exporter,
            authority=current.item.authority,
            license_type=LicenseType.INDIVIDUAL,
            destination=current.destination,
            reference=_new_reference(current),
            quantity=current.quantity,
            value=current.value,
            currency=current.currency,
        )
        shipment_update(shipment=current, now=now, actor=actor, application=application)
        shipment.refresh_from_db()
    return application
