"""`Idempotency-Key` on the API's POSTs (SPEC, *For integrators*).

A POST that carries the header runs in one transaction with its key (`ApiMixin.guarded`):

1. Before the transaction: the key is checked (1 to 255 printable ASCII characters, else 400
   naming the header) and the request's fingerprint taken (sha256 of the method, the path and
   the body; for a multipart upload, of its fields and files, whose boundary changes with
   every sending).
2. In the transaction: a row of the caller's key older than `KEEP` (24 h) is deleted, and a
   row (user, key, fingerprint) is INSERTed. The unique (user, key) decides a race: a second
   request with the key blocks on the first one's uncommitted row.
   - The INSERT goes through: this request is the first; it is processed (in a savepoint).
   - It fails on the constraint: the first request committed. The same fingerprint answers
     the stored answer again (`Idempotent-Replayed: true`) and changes nothing; another one
     answers 422 `idempotency_mismatch`.
   - It waited longer than `IDEMPOTENCY_WAIT_SECONDS`: the first is still being processed;
     409 `idempotency_in_progress`, nothing changed; retry later with the same key.
3. The answer is stored in the row and committed with the change, or neither is:
   - 2xx and 4xx answers are kept and replayed for 24 h (a 4xx changed nothing; a retry with
     the same key gets the same refusal; fix the request and send it with a new key),
   - except 409 and 412, which depend on what others did meanwhile (an illegal move, a lost
     race, a stale `If-Match`): they are not kept, so a retry with the key is processed anew;
   - a 5xx or an unexpected exception rolls everything back, the key included: a retry is
     processed as if it were the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request

from core.idempotency import KEEP, AbstractIdempotentRequest, stored_model

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_LENGTH = 255
# What a replay repeats besides the status, the content type and the body.
KEPT_HEADERS = ("ETag", "Location")
# Answers that depend on what others did meanwhile: not kept, a retry is processed anew.
NOT_KEPT = {status.HTTP_409_CONFLICT, status.HTTP_412_PRECONDITION_FAILED}
# PostgreSQL's lock_not_available: the wait for the first request's row timed out.
LOCK_NOT_AVAILABLE = "55P03"


class KeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was used with a different request; use a new key for a new request."
    )
    default_code = "idempotency_mismatch"


class KeyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "A request with this Idempotency-Key is still being processed; try again shortly."
    )
    default_code = "idempotency_in_progress"


def key_of(request: Request) -> str | None:
    """The request's key, None without one; 400 naming the header when it is malformed."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_LENGTH or not all(" " <= c <= "~" for c in value):
        raise exceptions.ValidationError(
            {HEADER: _("Must be 1 to 255 printable ASCII characters.")}
        )
    return value


def fingerprint(request: Request) -> str:
    """sha256 of the method, the full path and the body (raw, or for a multipart upload its
    fields and files in order)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    if (request.content_type or "").startswith("multipart/form-data"):
        data: Any = request.data  # parsed now, with the view's upload limits
        for name in sorted(data.keys()):
            for value in data.getlist(name):
                digest.update(f"{name}\n".encode())
                if isinstance(value, UploadedFile):
                    digest.update(f"file {value.name} {value.size}\n".encode())
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(f"{value}\n".encode())
    else:
        digest.update(request._request.body)
    return digest.hexdigest()


def claim(
    *, user: Any, key: str, fingerprint: str, now: dt.datetime
) -> AbstractIdempotentRequest | HttpResponse:
    """Inside the request's transaction: the new row (the request is the first with its key),
    or the stored answer to replay; 422 or 409 as the module says."""
    model = stored_model()
    model.objects.filter(user=user, key=key, created_at__lte=now - KEEP).delete()
    try:
        with transaction.atomic(), _lock_wait(settings.IDEMPOTENCY_WAIT_SECONDS):
            return model.objects.create(user=user, key=key, fingerprint=fingerprint, created_at=now)
    except IntegrityError:
        first = model.objects.get(user=user, key=key)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE or (
            connection.vendor == "sqlite" and "locked" in str(exc)
        ):
            raise KeyInProgress() from exc
        raise
    if first.fingerprint != fingerprint:
        raise KeyMismatch()
    return replay(first)


class _lock_wait:
    """On PostgreSQL, how long a statement may wait for a lock (here: the first request's
    uncommitted row), then the transaction's own setting again."""

    def __init__(self, seconds: float) -> None:
        self.ms = max(1, int(seconds * 1000))
        self.before: str | None = None

    def __enter__(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                    [f"{self.ms}ms"],
                )
                self.before = cursor.fetchone()[0]

    def __exit__(self, *exc: object) -> None:
        if self.before is not None and exc[0] is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [self.before])


def keeps(response: HttpResponseBase) -> bool:
    return response.status_code < 500 and response.status_code not in NOT_KEPT


def store(row: AbstractIdempotentRequest, response: HttpResponseBase) -> None:
    """Write the (rendered) answer into the request's row."""
    row.status_code = response.status_code
    row.content_type = response.get("Content-Type", "")
    row.headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    row.body = bytes(getattr(response, "content", b""))
    row.save(update_fields=["status_code", "content_type", "headers", "body"])


def replay(row: AbstractIdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(row.body), status=row.status_code or 200, content_type=row.content_type or None
    )
    for name, value in row.headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response
