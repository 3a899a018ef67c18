"""What the schema states of a value beyond its type: the patterns of decimal strings, of
text (no NUL, not blank where blank is refused), of country codes, and of days whose year
the API bounds (a move is never in the future, a shipment is never planned in the past).

A bound that depends on today is written into the schema as a marker (`x-years`) by the
fields, and the schema's postprocessing hook (`core.api.schema.truthful_dates`) turns it into
a pattern with the current year when the schema is served.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator

from core.countries import COUNTRY_CODES

__all__ = ["COUNTRY_CODES"]

# Text: no NUL character (the parser refuses it)...
ANY_TEXT = r"^[^\x00]*$"
# ...and, where blank is refused, one character that is not white space (DRF trims it).
SOME_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"

MONTH_DAY = r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
TIME = r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
# UTC offsets as the world has them (and PostgreSQL stores): at most 14 hours.
OFFSET = r"(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)"


def number_range(low: str, high: str) -> str:
    """A regular expression for the numbers from `low` to `high`, both written with the same
    number of digits (leading zeros included)."""
    if low == high:
        return low
    width = len(low)
    if low == "0" * width and high == "9" * width:
        return rf"\d{{{width}}}" if width > 1 else r"\d"
    if width == 1:
        return f"[{low}-{high}]"
    if low[0] == high[0]:
        return f"{low[0]}(?:{number_range(low[1:], high[1:])})"
    parts = [f"{low[0]}(?:{number_range(low[1:], '9' * (width - 1))})"]
    if int(high[0]) - int(low[0]) > 1:
        parts.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}]" + r"\d" * (width - 1))
    parts.append(f"{high[0]}(?:{number_range('0' * (width - 1), high[1:])})")
    return "(?:" + "|".join(parts) + ")"


def years(first: int, last: int) -> str:
    return number_range(f"{first:04d}", f"{last:04d}")


def _month_days(first: tuple[int, int], last: tuple[int, int]) -> str:
    """`MM-DD` from one (month, day) to another in the same year (`format: date` rules out
    the days a month does not have)."""
    (m1, d1), (m2, d2) = first, last
    if (m1, d1) == (1, 1) and (m2, d2) == (12, 31):
        return MONTH_DAY
    if m1 == m2:
        return f"{m1:02d}-{number_range(f'{d1:02d}', f'{d2:02d}')}"
    parts = [f"{m1:02d}-{number_range(f'{d1:02d}', '31')}"]
    if m2 - m1 > 1:
        parts.append(f"{number_range(f'{m1 + 1:02d}', f'{m2 - 1:02d}')}-(?:0[1-9]|[12]\\d|3[01])")
    parts.append(f"{m2:02d}-{number_range('01', f'{d2:02d}')}")
    return "(?:" + "|".join(parts) + ")"


def days_between(first: dt.date, last: dt.date) -> str:
    """A regular expression for the ISO 8601 days from `first` to `last`, both included."""
    if first.year == last.year:
        md = _month_days((first.month, first.day), (last.month, last.day))
        return f"{first.year:04d}-{md}"
    parts = [f"{first.year:04d}-{_month_days((first.month, first.day), (12, 31))}"]
    if last.year - first.year > 1:
        parts.append(f"{years(first.year + 1, last.year - 1)}-{MONTH_DAY}")
    parts.append(f"{last.year:04d}-{_month_days((1, 1), (last.month, last.day))}")
    return "(?:" + "|".join(parts) + ")"


def day_pattern(first: dt.date, last: dt.date) -> str:
    """ISO 8601 days from `first` to `last` (`format: date` rules out the 30th of February)."""
    return f"^{days_between(first, last)}$"


def moment_pattern(first: dt.date, last: dt.date, *, offset_required: bool = True) -> str:
    """RFC 3339 date-times on the days from `first` to `last`."""
    offset = OFFSET if offset_required else f"{OFFSET}?"
    return f"^{days_between(first, last)}{TIME}{offset}$"


def day_bounds(marker: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """`2000-today` → (1 January 2000, today); `today-9999` → (today, 31 December 9999)."""
    first, last = marker.split("-")
    return (
        today if first == "today" else dt.date(int(first), 1, 1),
        today if last == "today" else dt.date(int(last), 12, 31),
    )


def dated(schema: dict[str, Any], marker: str) -> dict[str, Any]:
    """A date or date-time schema whose years the API bounds (see `truthful_dates`)."""
    return {**schema, "x-years": marker}


def decimal_pattern(max_digits: int | None, places: int | None, minimum: Any) -> str | None:
    """The decimal strings a DecimalField accepts: at most `max_digits - places` digits before
    the point and `places` after it; no sign when it must be positive, and then not zero."""
    if max_digits is None or places is None:
        return None
    whole = max_digits - places
    fraction = rf"(?:\.\d{{0,{places}}})?" if places else ""
    if minimum is None or Decimal(minimum) < 0:
        return rf"^-?(?:\d{{1,{whole}}}{fraction}|\.\d{{1,{places}}})$" if places else None
    if Decimal(minimum) > 0:
        # A non-zero digit before the point, or only after it.
        nonzero = [rf"0*[1-9]\d{{0,{whole - 1}}}{fraction}"]
        for zeros in range(places):
            nonzero.append(rf"0*\.{'0' * zeros}[1-9]\d{{0,{places - 1 - zeros}}}")
        return "^(?:" + "|".join(nonzero) + ")$"
    return rf"^(?:\d{{1,{whole}}}{fraction}|\.\d{{1,{places}}})$"


def minimum_of(field: Any) -> Any:
    """The least value a field accepts (its `min_value`, or its validators')."""
    candidates = [getattr(field, "min_value", None)] + [
        v.limit_value for v in getattr(field, "validators", []) if isinstance(v, MinValueValidator)
    ]
    bounds: list[Any] = [b for b in candidates if b is not None]
    return max(bounds) if bounds else None
