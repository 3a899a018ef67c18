"""One small function per kind of event. Events are only ever inserted."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

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
) -> dict[str, Any]:
    """The row of a due-date event, built, not saved: callers insert many at once with
    `bulk`. `extra` adds to `data` (e.g. the rule whose change caused it)."""
    return {
        "kind": kind,
        "application_id": application.pk,
        "decision_id": decision_id,
        "occurred_at": at,
        "recorded_at": now,
        "actor_id": actor.pk if actor is not None else None,
        "note": note,
        "data": {
            "from": _iso(old),
            "to": _iso(new),
            "window_days": window_days,
            "source": source,
            "change_days": change_in_days(old, new),
            **(extra or {}),
        },
    }


def change_in_days(old: dt.datetime | None, new: dt.datetime | None) -> int | None:
    """Days between two due dates. Both are local midnights, so across a daylight-saving
    change they are a whole number of days plus or minus an hour: round, don't truncate."""
    if old is None or new is None:
        return None
    return round((new - old).total_seconds() / 86400)


def correction(
    *,
    application: LicenseApplication | None = None,
    shipment: Any = None,
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
        shipment=shipment,
        corrects=corrects,
        from_status=from_status,
        to_status=to_status,
        occurred_at=now,
        recorded_at=now,
        actor=actor,
        note=note,
        data={"action": action, **{k: _iso(v) for k, v in data.items()}},
    )


# The columns `bulk` writes, in order (every column of an event but its id).
_BULK_COLUMNS = (
    "kind",
    "application_id",
    "shipment_id",
    "decision_id",
    "from_status",
    "to_status",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "note",
    "data",
    "corrects_id",
)
_OCCURRED, _RECORDED = _BULK_COLUMNS.index("occurred_at"), _BULK_COLUMNS.index("recorded_at")
_BULK_TYPES = (
    "text",
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "bigint",
    "text",
    "jsonb",
    "bigint",
)


def bulk(rows: Iterable[dict[str, Any]]) -> int:
    """Insert many events, each a dict of column values (`_BULK_COLUMNS`; those missing are
    empty); returns how many. On PostgreSQL one INSERT … SELECT over one JSON parameter (a
    fast-track pass writes up to a hundred thousand: an event costs its row, not an ORM object
    and twelve placeholders); elsewhere `bulk_create`."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(Event(**row) for row in rows)
        return len(rows)
    defaults = {"from_status": "", "to_status": "", "note": "", "data": {}}
    # `_iso` keeps microseconds (DjangoJSONEncoder would cut them to milliseconds)
    values = []
    for row in rows:
        value = [row.get(c, defaults.get(c)) for c in _BULK_COLUMNS]
        value[_OCCURRED], value[_RECORDED] = _iso(value[_OCCURRED]), _iso(value[_RECORDED])
        values.append(value)
    select = ", ".join(
        f"(e->{i})::{kind}" if kind == "jsonb" else f"(e->>{i})::{kind}"
        for i, kind in enumerate(_BULK_TYPES)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Event._meta.db_table} ({', '.join(_BULK_COLUMNS)}) "
            f"SELECT {select} FROM jsonb_array_elements(%s::jsonb) AS e",
            [json.dumps(values, cls=DjangoJSONEncoder)],
        )
    return len(rows)
