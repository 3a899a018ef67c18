"""Writes on user accounts that the back-office makes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput


def user_deactivate(*, users: QuerySet, actor: Any, now: dt.datetime) -> int:
    """Deactivate the given accounts (they can no longer sign in; their history stays);
    returns how many. Refused, changing nothing, if the actor is among them: nobody locks
    themselves out of the back-office."""
    if users.filter(pk=actor.pk).exists():
        raise InvalidInput(
            _("You cannot deactivate your own account."),
            fields={"users": _("Includes your own account.")},
        )
    return users.filter(is_active=True).update(is_active=False)
