"""Small builders that read as sentences in tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from licenses import services

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC


def at(day: str, hour: int = 10, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """A moment on a day, by default 10:00 in Beijing."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=tz)


NOW = at("2026-11-29", 12)


def submitted(app, day: str, *, actor=None, now=NOW, tz=SHANGHAI):
    return services.application_submit(application=app, at=at(day, tz=tz), now=now, actor=actor)


def accepted(app, day: str, *, actor=None, now=NOW, tz=SHANGHAI):
    return services.application_accept(application=app, at=at(day, tz=tz), now=now, actor=actor)


def approved(app, day: str, *, actor=None, now=NOW, valid_until="2027-12-31", **kwargs):
    return services.application_approve(
        application=app,
        at=at(day),
        now=now,
        actor=actor,
        license_number=f"LIC-{app.pk}",
        valid_until=dt.date.fromisoformat(valid_until),
        **kwargs,
    )


def local_due(app, tz=SHANGHAI) -> dt.date | None:
    """The due date: the local day whose end is `due_at`."""
    if app.due_at is None:
        return None
    return (app.due_at.astimezone(tz) - dt.timedelta(seconds=1)).date()
