"""The states a shipment takes from its application."""

from __future__ import annotations

from licenses.models import LicenseApplication, Status

from ..models import ShipmentStatus

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
    Status.REFERRED: SS.AWAITING_LICENSE,
    Status.RETURNED: SS.PLANNED,
    # A suspended license cannot be used: its shipments wait for reinstatement.
    Status.SUSPENDED: SS.AWAITING_LICENSE,
    Status.REVOKED: SS.PLANNED,
    Status.SURRENDERED: SS.PLANNED,
    # The license stays usable while an amendment is decided.
    Status.AMENDMENT_REQUESTED: SS.CLEARED,
}

# Applications a shipment can no longer be assigned to.
CLOSED_APPLICATION = {
    Status.REJECTED,
    Status.WITHDRAWN,
    Status.EXPIRED,
    Status.REVOKED,
    Status.SURRENDERED,
}


def following_status(application: LicenseApplication | None, license_required: bool = True) -> str:
    """The state a shipment that follows its application shows: `cleared` when it needs no
    license (with or without an application), else what its application gives it."""
    if not license_required:
        return SS.CLEARED
    return FOLLOWS[application.status if application else None]
