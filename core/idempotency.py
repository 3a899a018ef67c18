"""Stored answers to requests sent with an `Idempotency-Key` (the API's mechanism is
`core.api.idempotency`).

The core owns no table: it defines the row's shape here, an app defines the concrete model and
its migration, and the setting `IDEMPOTENCY_MODEL` names it (like `EVENT_SHIPMENT_MODEL`), so
that the core never names an app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.db import models

# How long a key is kept: a repeat within this answers the first response; after it, the key
# is free again (and the daily job deletes the row).
KEEP = dt.timedelta(hours=24)


class AbstractIdempotentRequest(models.Model):
    """One user's key and the answer to the first request sent with it.

    The row is inserted before the request is processed, in the transaction that makes the
    request's change, and the answer is written into it at the end of that transaction: a
    unique (user, key) makes a second request with the key wait for the first to commit (or
    roll back) rather than being processed twice. Nobody outside that transaction ever sees
    a row without its answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the method, the path and the body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    # Headers of the answer that a replay repeats (`ETag`, `Location`).
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")

    objects: ClassVar[models.Manager[Any]]

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


def stored_model() -> type[AbstractIdempotentRequest]:
    return apps.get_model(settings.IDEMPOTENCY_MODEL)  # type: ignore[return-value]


def purge_expired(*, now: dt.datetime) -> int:
    """Delete the keys older than `KEEP` (they are ignored already); the number deleted."""
    deleted, _by_model = stored_model().objects.filter(created_at__lte=now - KEEP).delete()
    return deleted
