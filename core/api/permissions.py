"""Permissions by action, from the Django permissions the role groups hold."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

READ_ACTIONS = ("list", "retrieve")


class ActionPermission(BasePermission):
    """The view maps each action to one permission (`required_perms`); an action it does not
    name is refused. Object scoping (exporter limits) is the querysets' job: what a user may
    not see is simply not found."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perms: dict[str, str] = getattr(view, "required_perms", {})
        perm = perms.get(view.action or "")
        if perm is None and view.action in READ_ACTIONS:
            perm = perms.get("read")
        if perm is None and view.action in ("update", "partial_update"):
            perm = perms.get("update")
        return perm is not None and user.has_perm(perm)


def model_perms(app_model: str, *, write: bool = True) -> dict[str, str]:
    """The usual map for a model: view for reads, add for create, change for edits."""
    app, model = app_model.split(".")
    perms = {"read": f"{app}.view_{model}"}
    if write:
        perms |= {"create": f"{app}.add_{model}", "update": f"{app}.change_{model}"}
    return perms
