"""Builders for the fast-track tests: pending applications and decisions that read as
sentences. Dates are on MOFCOM's calendar (45 Chinese working days; clock starts at
acceptance); `NOW` is Sunday 29 November 2026, noon in Beijing."""

from __future__ import annotations

import datetime as dt

from licenses.fasttrack import decision_log

from ...factories import ApplicationFactory, authority, item
from ...helpers import NOW, accepted, submitted

D = dt.date.fromisoformat


def pending(
    *,
    destination: str = "DE",
    items: tuple[str, ...] = ("1C902",),
    exporter=None,
    accepted_on: str = "2026-09-24",
    license_type: str = "individual",
):
    """An accepted MOFCOM application; accepted on 24 Sept 2026 it is due on 3 December."""
    fields = {"destination": destination, "license_type": license_type}
    if exporter is not None:
        fields["exporter"] = exporter
    app = ApplicationFactory(items=[item(code) for code in items], **fields)
    submitted(app, "2026-09-20")
    accepted(app, accepted_on)
    app.refresh_from_db()
    return app


def log(
    *,
    window_days: int = 20,
    announced_on: str = "2026-10-30",
    effective_from: str = "2026-11-01",
    effective_until: str | None = None,
    destinations=(),
    items=(),
    exporters=(),
    applications=(),
    actor=None,
    now: dt.datetime = NOW,
    code: str = "MOFCOM",
    source: str = "Ministerial trade talks, MOFCOM press release",
):
    return decision_log(
        authority=authority(code),
        announced_on=D(announced_on),
        source=source,
        window_days=window_days,
        effective_from=D(effective_from),
        effective_until=D(effective_until) if effective_until else None,
        destinations=destinations,
        items=[item(c) for c in items],
        exporters=exporters,
        applications=applications,
        actor=actor,
        now=now,
    )
