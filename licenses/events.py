"""One small function per kind of event. Events are only ever inserted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from .models import Event, EventKind, LicenseApplication


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def status_changed(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
    from_status: str,
    to_status: str,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    return Event.objects.create(
        kind=EventKind.STATUS_CHANGED,
        application=application,
        shipment=shipment,
        from_status=from_status,
        to_status=to_status,
        occurred_at=at,
        recorded_at=now,
        actor=actor,
        note=note,
        data=data or {},
    )


def created(*, application=None, shipment=None, now: dt.datetime, actor: Any, status: str) -> Event:
    return Event.objects.create(
        kind=EventKind.CREATED,
        application=application,
        shipment=shipment,
        to_status=status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
    )


def due_date_change(
    *,
    application: LicenseApplication,
    old: dt.datetime | None,
    new: dt.datetime | None,
    window_days: int,
    source: str,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any = None,
    kind: str = EventKind.DUE_DATE_CHANGED,
    decision_id: int | None = None,
    note: str = "",
    extra: dict[str, Any] | None = None,
) -> Event:
    """Built, not saved: callers insert many at once with `bulk_create`. `extra` adds to
    `data` (e.g. the rule whose change caused it)."""
    return Event(
        kind=kind,
        application=application,
        decision_id=decision_id,
        occurred_at=at,
        recorded_at=now,
        actor=actor,
        note=note,
        data={
            "from": _iso(old),
            "to": _iso(new),
            "window_days": window_days,
            "source": source,
            "change_days": change_in_days(old, new),
            **(extra or {}),
        },
    )


def change_in_days(old: dt.datetime | None, new: dt.datetime | None) -> int | None:
    """Days between two due dates. Both are local midnights, so across a daylight-saving
    change they are a whole number of days plus or minus an hour: round, don't truncate."""
    if old is None or new is None:
        return None
    return round((new - old).total_seconds() / 86400)


def correction(
    *,
    application: LicenseApplication,
    corrects: Event,
    action: str,
    from_status: str,
    to_status: str,
    now: dt.datetime,
    actor: Any,
    note: str,
    data: dict[str, Any],
) -> Event:
    return Event.objects.create(
        kind=EventKind.CORRECTION,
        application=application,
        corrects=corrects,
        from_status=from_status,
        to_status=to_status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        note=note,
        data={"action": action, **{k: _iso(v) for k, v in data.items()}},
    )


def bulk(events: Iterable[Event]) -> list[Event]:
    return Event.objects.bulk_create(list(events))
