"""The four roles of the product as permission sets; a migration turns them into groups."""

from __future__ import annotations

from typing import Any

VIEWER = "Viewer"
OFFICER = "Compliance officer"
MANAGER = "Compliance manager"
ADMINISTRATOR = "Administrator"
ROLES = (VIEWER, OFFICER, MANAGER, ADMINISTRATOR)

_READ_MODELS = {
    "licenses": [
        "authority",
        "calendarday",
        "controlleditem",
        "exporter",
        "licenseapplication",
        "windowrule",
        "fasttrackdecision",
        "document",
        "event",
    ],
    "shipments": ["consignee", "shipment", "flag"],
}
_OFFICER_WRITE = {
    "licenses": ["exporter", "licenseapplication", "document"],
    "shipments": ["consignee", "shipment"],
}
_MANAGER_WRITE = {"licenses": ["windowrule", "fasttrackdecision"]}


def _perms(models: dict[str, list[str]], actions: tuple[str, ...]) -> set[str]:
    return {
        f"{app}.{action}_{model}"
        for app, names in models.items()
        for model in names
        for action in actions
    }


def role_permissions() -> dict[str, set[str] | None]:
    """Permission codes ("app.codename") per role; None means every permission there is."""
    viewer = _perms(_READ_MODELS, ("view",))
    officer = (
        viewer
        | _perms(_OFFICER_WRITE, ("add", "change"))
        | {"licenses.move_licenseapplication", "shipments.move_shipment"}
    )
    manager = (
        officer
        | _perms(_MANAGER_WRITE, ("add", "change"))
        | {
            "licenses.revoke_fasttrackdecision",
            "shipments.view_alert",
            "shipments.view_scansettings",
        }
    )
    return {VIEWER: viewer, OFFICER: officer, MANAGER: manager, ADMINISTRATOR: None}


def role_of(user: Any) -> str | None:
    """The highest role a user holds (superusers are administrators)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMINISTRATOR
    names = {g.name for g in user.groups.all()}
    for role in reversed(ROLES):
        if role in names:
            return role
    return None
