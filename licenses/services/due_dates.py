"""Due dates stored from their inputs: saving what a recomputation found, and recomputing the
pending applications of an authority."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction

from .. import events
from ..clock import Recomputed, recompute
from ..models import (
    CLOCKED_STATUSES,
    EventKind,
    LicenseApplication,
)
from ..signals import due_dates_changed


def save_due_dates(
    results: Iterable[Recomputed],
    *,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any = None,
    kind: str = EventKind.DUE_DATE_CHANGED,
    decision_id: int | None = None,
    note: str = "",
    batch_size: int = 2000,
    data: dict[str, Any] | None = None,
    announce: bool = True,
) -> list[Recomputed]:
    """Store recomputed windows, due dates and reply deadlines and write one event per changed
    due date (a reply deadline follows its request's event and writes none), in a
    bounded number of queries. Returns what changed. `data` is added to every event's data
    (e.g. `{"rule": 7}` when a rule change caused the recomputation). `announce=False` leaves
    out `due_dates_changed`, for a caller that announces the same applications through
    `changed` right after (a move), which re-evaluates their flags of every kind anyway."""
    changed = [r for r in results if r.changed]
    if not changed:
        return []
    rows = []
    due_events = []
    for r in changed:
        app = r.application
        app.due_at, app.window_days, app.window_source, app.reply_due_at = (
            r.new_due_at,
            r.window.days,
            r.window.source,
            r.new_reply_due_at,
        )
        rows.append(app)
        if r.old_due_at != r.new_due_at:
            due_events.append(
                events.due_date_change(
                    application=app,
                    old=r.old_due_at,
                    new=r.new_due_at,
                    window_days=r.window.days,
                    source=r.window.source,
                    at=at,
                    now=now,
                    actor=actor,
                    kind=kind,
                    decision_id=decision_id,
                    note=note,
                    extra=data,
                )
            )
    _store_windows(rows, batch_size=batch_size)
    events.bulk(due_events)
    if not announce:
        return changed
    due_dates_changed.send(
        sender=LicenseApplication,
        application_ids=[
            r.application.pk for r in changed if r.old_due_at != r.new_due_at or r.reply_changed
        ],
        now=now,
    )
    return changed


def _store_windows(rows: Sequence[LicenseApplication], *, batch_size: int) -> None:
    """Write due dates and windows of many applications. On PostgreSQL one UPDATE … FROM over
    one JSON parameter: Django's `bulk_update` builds a CASE expression per row and field,
    and even a `VALUES` list costs the driver and the parser four placeholders a row."""
    if connection.vendor != "postgresql":
        # the rows may be plain rows of the clock's fields (a fast-track pass's candidates)
        fields = ["due_at", "window_days", "window_source", "reply_due_at"]
        LicenseApplication.objects.bulk_update(
            [
                LicenseApplication(pk=a.pk, **{name: getattr(a, name) for name in fields})
                for a in rows
            ],
            fields,
            batch_size=batch_size,
        )
        return
    table = connection.ops.quote_name(LicenseApplication._meta.db_table)
    values = [
        [
            a.pk,
            a.due_at.isoformat() if a.due_at else None,
            a.window_days,
            a.window_source,
            a.reply_due_at.isoformat() if a.reply_due_at else None,
        ]
        for a in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET due_at = (e->>1)::timestamptz, "
            "window_days = (e->>2)::integer, window_source = e->>3, "
            "reply_due_at = (e->>4)::timestamptz "
            "FROM jsonb_array_elements(%s::jsonb) AS e WHERE a.id = (e->>0)::bigint",
            [json.dumps(values)],
        )


def recompute_due_dates(
    *,
    now: dt.datetime,
    applications: Sequence[LicenseApplication] | None = None,
    authority_id: int | None = None,
    actor: Any = None,
    note: str = "",
    chunk: int = 2000,
) -> int:
    """Recompute the due dates of the applications whose clock runs (pending ones and
    requested amendments: all, one authority's, or the given ones) chunk by chunk; returns
    how many changed."""
    if applications is not None:
        with transaction.atomic():
            return len(
                save_due_dates(
                    recompute(list(applications), now=now), at=now, now=now, actor=actor, note=note
                )
            )
    qs = LicenseApplication.objects.filter(status__in=CLOCKED_STATUSES).order_by("id")
    if authority_id is not None:
        qs = qs.filter(authority_id=authority_id)
    total, last_id = 0, 0
    while True:
        batch = list(qs.filter(id__gt=last_id)[:chunk])
        if not batch:
            return total
        with transaction.atomic():
            total += len(
                save_due_dates(recompute(batch, now=now), at=now, now=now, actor=actor, note=note)
            )
        last_id = batch[-1].pk
