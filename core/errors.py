"""Domain errors: every surface maps them the same way (API: 409 or 400; pages: a message).

Services raise only these: a model's own validation (`full_clean`) is run through
`full_clean` below, which turns Django's `ValidationError` into `InvalidInput`, so every caller
catches one type.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class DomainError(Exception):
    """A business rule refused the request; nothing was changed."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class IllegalMove(DomainError):
    """The move is not legal from the current state."""

    code = "illegal_move"
    http_status = 409


class ConcurrentUpdate(IllegalMove):
    """Someone else changed the object between reading and writing it: the race was lost."""

    code = "conflict"


class NotFound(DomainError):
    """The object is not there for this caller to change (for reading it may be): answered as
    if it did not exist."""

    code = "not_found"
    http_status = 404


class InvalidInput(DomainError):
    """The request names a bad value (for example a move dated in the future)."""

    code = "invalid"
    http_status = 400


NON_FIELD = "__all__"


def from_validation_error(exc: ValidationError) -> InvalidInput:
    """A model's `ValidationError` as `InvalidInput`: each field named with its messages
    (joined), what names no field in the message (else the one field, or the list of them)."""
    fields: dict[str, str] = {}
    general: list[str] = []
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            if name == NON_FIELD:
                general += messages
            else:
                fields[name] = " ".join(messages)
    else:
        general += exc.messages
    if general:
        message = " ".join(general)
    elif len(fields) == 1:
        name, text = next(iter(fields.items()))
        message = f"{name}: {text}"
    else:
        message = _("Invalid input: %(fields)s.") % {"fields": ", ".join(sorted(fields))}
    return InvalidInput(message, fields=fields)


def full_clean(instance: Any, **kwargs: Any) -> None:
    """`instance.full_clean(**kwargs)`, refusing with `InvalidInput` (for services)."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
