"""The move and correction pages of an application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from core.web import (
    MovePage,
)

from .. import services
from ..forms import (
    MOVE_FORMS,
    CorrectForm,
)
from ..models import LicenseApplication, status_phrase
from .applications import (
    MOVE_BUTTONS,
    MOVE_HELP,
    MOVE_PERMISSION,
    MOVE_SERVICES,
    MOVE_SLUGS,
    _application,
    _correctable,
)


class ApplicationMove(MovePage):
    """One move of an application: GET shows its form, POST makes it through the service."""

    permission_required = MOVE_PERMISSION
    template_name = "licenses/application_move.html"
    object_arg = "application"
    detail_url = "application-detail"

    def get_object(self, pk: int) -> LicenseApplication:
        return _application(self.request, pk)

    def move_name(self, move: str | None) -> str:
        return MOVE_SLUGS[move or ""]

    def is_legal(self, obj: LicenseApplication, name: Any) -> bool:
        return name in services.legal_moves(obj)

    def illegal_message(self, obj: LicenseApplication, name: Any) -> str:
        return services.not_legal_message(name, obj.status)

    def get_form(self, obj: LicenseApplication, name: Any, data: Any = None) -> Any:
        return MOVE_FORMS[name](data, application=obj)

    def service(self, name: Any) -> Callable[..., Any]:
        return MOVE_SERVICES[name]

    def success_message(self, obj: LicenseApplication, name: Any) -> str:
        obj.refresh_from_db()
        return _("%(move)s recorded: %(ref)s is now %(state)s.") % {
            "move": MOVE_BUTTONS[name],
            "ref": obj,
            "state": status_phrase(obj.status),
        }

    def context(self, obj: LicenseApplication, name: Any) -> dict[str, Any]:
        move = {
            "name": name,
            "slug": name.replace("_", "-"),
            "label": MOVE_BUTTONS[name],
            "help": MOVE_HELP[name],
        }
        return {"move": move, "legal": self.is_legal(obj, name)}


class ApplicationCorrect(MovePage):
    """Re-date or undo the latest move, with a note; the correction is a new event."""

    permission_required = MOVE_PERMISSION
    template_name = "licenses/application_correct.html"
    object_arg = "application"
    detail_url = "application-detail"

    def get_object(self, pk: int) -> LicenseApplication:
        return _application(self.request, pk)

    def get_form(self, obj: LicenseApplication, name: Any, data: Any = None) -> Any:
        return CorrectForm(data)

    def service(self, name: Any) -> Callable[..., Any]:
        return services.application_correct

    def success_message(self, obj: LicenseApplication, name: Any) -> str:
        return _("Correction recorded: %(ref)s is %(state)s.") % {
            "ref": obj,
            "state": status_phrase(obj.status),
        }

    def context(self, obj: LicenseApplication, name: Any) -> dict[str, Any]:
        return {"latest": _correctable(obj)}
