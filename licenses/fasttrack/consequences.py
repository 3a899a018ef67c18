"""What logging a decision would set off, found by logging it for real and rolling it back.

`decision_preview` says which due dates a decision would move, computed without writing. What
follows from those moves — flags raised and cleared, e-mails queued — belongs to the apps
above this one, which react inside the same transaction. So `decision_consequences` does not
guess it; it runs the very write:

1. Check the facts as logging does (`decision_check`, `InvalidInput` naming each bad field).
2. If the decision is in force today and its scope would be applied in a task (more than
   `FAST_TRACK_INLINE_LIMIT` applications), stop: the pass would run later, chunk by chunk,
   and simulating it here would hold the request for as long (`simulated=False`).
3. Otherwise open a transaction (a savepoint inside an outer one) and a tally
   (`licenses.consequences`), call `decision_log` with the same facts, actor and `now`, read
   the `fast_track_applied` events it wrote, and raise a private exception that rolls
   everything back: no row stays, and the `on_commit` callbacks registered inside (the
   alerts' sending, a queued pass, the file-by task) are dropped with the savepoint — no
   e-mail, no Celery task.

Logging the same facts with the same `now` then does exactly what this reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from .. import consequences
from ..clock import in_force, local_date
from ..events import payload
from ..models import Authority, Event, EventKind, FastTrackDecision, LicenseApplication
from .apply import inline_limit
from .log import decision_check, decision_log
from .scope import candidates, make_scope

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class ConsequenceRow:
    application: LicenseApplication
    exporter_name: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime | None
    change_days: int | None
    flags: tuple[str, ...] = ()  # kinds of the flags raised on it


@dataclass(frozen=True)
class Consequences:
    """What logging the decision now would do at once.

    `applies_now` is False for a decision not in force today (logging it changes nothing
    until the daily job applies it); `simulated` is False when the scope is too large to be
    simulated here (see the module docstring) and the figures are then empty."""

    applies_now: bool
    simulated: bool
    in_scope: int = 0
    moved: int = 0
    earlier: int = 0
    later: int = 0
    raised: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    recipients: int = 0
    sample: list[ConsequenceRow] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return self.raised.get("overdue", 0)

    @property
    def due_soon(self) -> int:
        return self.raised.get("due_soon", 0)

    @property
    def at_risk(self) -> int:
        return self.raised.get("at_risk", 0)

    @property
    def no_longer_at_risk(self) -> int:
        return self.cleared.get("at_risk", 0)


class _RolledBack(Exception):
    def __init__(self, result: Consequences) -> None:
        super().__init__("rolled back")
        self.result = result


def decision_consequences(
    *,
    authority: Authority,
    announced_on: dt.date,
    source: str,
    window_days: int,
    effective_from: dt.date,
    effective_until: dt.date | None = None,
    destinations: Iterable[str] = (),
    items: Iterable[Any] = (),
    exporters: Iterable[Any] = (),
    applications: Iterable[Any] = (),
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> Consequences:
    """What `decision_log` with these arguments would do at once: due dates moved (earlier,
    later, the first `SAMPLE_SIZE` soonest due), flags raised and cleared by kind, e-mails
    queued and their distinct recipients. Writes nothing (see the module docstring)."""
    facts: dict[str, Any] = {
        "authority": authority,
        "announced_on": announced_on,
        "source": source,
        "window_days": window_days,
        "effective_from": effective_from,
        "effective_until": effective_until,
        "destinations": destinations,
        "items": items,
        "exporters": exporters,
        "applications": applications,
        "actor": actor,
        "now": now,
    }
    checked = decision_check(**facts, require_announcement=True)
    unsaved = FastTrackDecision(
        authority=authority, effective_from=effective_from, effective_until=effective_until
    )
    if not in_force(unsaved, today=local_date(now, authority.tz)):
        return Consequences(applies_now=False, simulated=True)
    scope = make_scope(
        destinations=checked.destinations,
        items=checked.item_ids,
        exporters=checked.exporter_ids,
        applications=checked.application_ids,
    )
    total = candidates(authority_id=authority.pk, scope=scope).count()
    if total > inline_limit():
        return Consequences(applies_now=True, simulated=False, in_scope=total)
    try:
        with transaction.atomic(), consequences.tallying() as tally:
            marker = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            decision = decision_log(**facts, note=note)
            result = _read(decision, tally, marker=marker, in_scope=total, now=now)
            raise _RolledBack(result)
    except _RolledBack as done:
        return done.result


def _read(
    decision: FastTrackDecision,
    tally: consequences.Tally,
    *,
    marker: int,
    in_scope: int,
    now: dt.datetime,
) -> Consequences:
    """Read, inside the savepoint, what the log wrote."""
    moves = list(
        Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
        .select_related("application__exporter")
        .order_by("application_id")
    )
    changes = [payload(e).get("change_days") for e in moves]
    rows = sorted(
        (
            ConsequenceRow(
                application=e.application,
                exporter_name=e.application.exporter.name,
                old_due_at=_moment(payload(e).get("from")),
                new_due_at=_moment(payload(e).get("to")),
                change_days=payload(e).get("change_days"),
            )
            for e in moves
            if e.application is not None
        ),
        key=lambda r: (r.new_due_at is None, r.new_due_at or now, r.application.pk),
    )[:SAMPLE_SIZE]
    raised: dict[int, list[str]] = {}
    for application_id, data in Event.objects.filter(
        pk__gt=marker,
        kind=EventKind.FLAG_RAISED,
        application_id__in=[r.application.pk for r in rows],
        shipment__isnull=True,
    ).values_list("application_id", "data"):
        if isinstance(data, dict) and data.get("flag"):
            raised.setdefault(application_id, []).append(str(data["flag"]))
    rows = [
        ConsequenceRow(**{**r.__dict__, "flags": tuple(sorted(raised.get(r.application.pk, [])))})
        for r in rows
    ]
    return Consequences(
        applies_now=True,
        simulated=True,
        in_scope=in_scope,
        moved=len(moves),
        earlier=sum(1 for c in changes if isinstance(c, int) and c < 0),
        later=sum(1 for c in changes if isinstance(c, int) and c > 0),
        raised={k: n for k, n in tally.raised.items() if n},
        cleared={k: n for k, n in tally.cleared.items() if n},
        emails=tally.alerts,
        recipients=len(tally.recipients),
        sample=rows,
    )


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
