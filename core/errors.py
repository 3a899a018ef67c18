"""Domain errors: every surface maps them the same way (API: 409 or 400; pages: a message)."""

from __future__ import annotations


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
