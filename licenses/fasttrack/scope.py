"""What a decision covers: its scope, and the pending applications it touches, read as plain
rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from ..clock import Scope, decision_scopes
from ..models import (
    PENDING_STATUSES,
    EventKind,
    FastTrackDecision,
    LicenseApplication,
)

APPLIED = EventKind.FAST_TRACK_APPLIED

REMOVED = EventKind.FAST_TRACK_REMOVED

MAX_WINDOW_DAYS = 3650

# What `licenses.clock.recompute` and `save_due_dates` read of a candidate.
RECOMPUTED_FIELDS = (
    "id",
    "authority_id",
    "exporter_id",
    "destination",
    "license_type",
    "status",
    "submitted_at",
    "accepted_at",
    "due_at",
    "window_days",
    "window_source",
    "reply_due_at",
)


class _Candidate:
    """A candidate as the clock reads it: the `RECOMPUTED_FIELDS` of an application, without a
    model instance (a pass reads a hundred thousand; `recompute` and `save_due_dates` only
    read and set these attributes)."""

    __slots__ = RECOMPUTED_FIELDS

    def __init__(self, values: Sequence[Any]):
        for name, value in zip(RECOMPUTED_FIELDS, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return self.id  # type: ignore[attr-defined,no-any-return]


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(v.pk if hasattr(v, "pk") else v) for v in values or ()})


def make_scope(
    *,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
) -> Scope:
    """A scope as the clock reads it; items, exporters and applications as objects or ids."""
    return {
        "destinations": set(destinations or ()),
        "items": set(_ids(items)),
        "exporters": set(_ids(exporters)),
        "applications": set(_ids(applications)),
    }


def scope_of(decision: FastTrackDecision) -> Scope:
    return decision_scopes([decision])[decision.pk]


# What `licenses.clock.recompute` and `save_due_dates` read of an application: loading only
# these makes a pass over tens of thousands of applications markedly cheaper.
CLOCK_FIELDS = (
    "id",
    "exporter_id",
    "authority_id",
    "destination",
    "license_type",
    "status",
    "reference",
    "submitted_at",
    "accepted_at",
    "due_at",
    "window_days",
    "window_source",
    "reply_due_at",
)


def candidates(*, authority_id: int, scope: Scope) -> QuerySet[LicenseApplication]:
    """The pending applications of an authority that a scope touches (empty list: any), by
    id. The `application_authority_status` index serves the first filter."""
    qs = LicenseApplication.objects.filter(
        authority_id=authority_id, status__in=PENDING_STATUSES
    ).only(*CLOCK_FIELDS)
    if scope["destinations"]:
        qs = qs.filter(destination__in=sorted(scope["destinations"]))
    if scope["exporters"]:
        qs = qs.filter(exporter_id__in=sorted(scope["exporters"]))
    if scope["applications"]:
        qs = qs.filter(pk__in=sorted(scope["applications"]))
    if scope["items"]:
        through = LicenseApplication.items.through
        qs = qs.filter(
            Exists(
                through.objects.filter(
                    licenseapplication_id=OuterRef("pk"),
                    controlleditem_id__in=sorted(scope["items"]),
                )
            )
        )
    return qs.order_by("id")


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None
