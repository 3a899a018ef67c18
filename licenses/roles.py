"""The four roles of the product as permission sets; a migration turns them into groups."""

from __future__ import annotations

from typing import Any

VIEWER = "Viewer"
OFFICER = "Compliance officer"
MANAGER = "Compliance manager"
ADMINISTRATOR = "Administrator"
ROLES = (VIEWER, OFFICER, MANAGER, ADMINISTRATOR)


def grants(app: str, models: list[str], actions: tuple[str, ...]) -> set[str]:
    """Permission codes ("app.action_model") for each of `models` and `actions`."""
    return {f"{app}.{action}_{model}" for model in models for action in actions}


def role_permissions() -> dict[str, set[str] | None]:
    """Permission codes ("app.codename") per role; None means every permission there is.

    Each app states what each role may do with its own models, in its AppConfig's
    `role_permissions` ({role: codes}); a role also holds everything of the roles below it."""
    from django.apps import apps

    granted: dict[str, set[str]] = {VIEWER: set(), OFFICER: set(), MANAGER: set()}
    for config in apps.get_app_configs():
        for role, codes in getattr(config, "role_permissions", {}).items():
            granted[role] |= set(codes)
    viewer = granted[VIEWER]
    officer = viewer | granted[OFFICER]
    manager = officer | granted[MANAGER]
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
