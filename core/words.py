"""Dates, moments and time zones as people read them, in the active language and (for
moments) the current time zone: "4 December 2026", "4 December 2026, 10:00 (UTC+08:00)",
"2026年12月4日 10:00" with the offset.

Messages shown to people use these, never `isoformat()`, and time zones are shown by their UTC
offset: abbreviations such as "CST" are ambiguous (China, or the central United States?)."""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone, translation


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def utc_offset(value: dt.datetime) -> str:
    """ "UTC+08:00", "UTC-05:00", "UTC" for an aware moment."""
    offset = value.utcoffset() or dt.timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_label(zone: dt.tzinfo | None = None, *, at: dt.datetime | None = None) -> str:
    """A time zone as "Asia/Shanghai (UTC+08:00)": its name and its offset at `at` (now)."""
    zone = zone or timezone.get_current_timezone()
    moment = (at or timezone.now()).astimezone(zone)
    name = getattr(zone, "key", None) or str(zone)
    offset = utc_offset(moment)
    return offset if name in ("UTC", offset) else f"{name} ({offset})"


def day_words(value: dt.date | None) -> str:
    """A day in words: "4 December 2026" (English), "2026年12月4日" (Chinese)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if _chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return formats.date_format(value, "j F Y")


def moment_words(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """A moment in the current time zone (or `zone`), with its UTC offset:
    "4 December 2026, 10:00 (UTC+08:00)"."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = value.astimezone(zone or timezone.get_current_timezone())
    clock = value.strftime("%H:%M")
    offset = utc_offset(value) if timezone.is_aware(value) else ""
    if _chinese():
        return f"{day_words(value.date())} {clock}" + (f"\uff08{offset}\uff09" if offset else "")
    return f"{day_words(value.date())}, {clock}" + (f" ({offset})" if offset else "")


def moment_short(value: dt.datetime | None) -> str:
    """A moment for tables and timelines: "2026-12-04 10:00 UTC+08:00" in the current zone."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
        return f"{value:%Y-%m-%d %H:%M} {utc_offset(value)}"
    return f"{value:%Y-%m-%d %H:%M}"
