"""Days from submission to approval, by authority and month of approval: the dashboard's
approval-time charts (the median and the 90th percentile of each month).

A percentile is not a sum: it cannot be kept as deltas, and at a million shipments a year of
approvals is about 60,000 applications to sort on every view. So the months gone by are stored
(`ApprovalMonth`) and only the current month is sorted when the dashboard is drawn:

- **Written by the forecast pass.** The pass runs for an authority after every move and every
  correction there (inline at a small authority, queued at a large one) and daily for all;
  when it has stored the authority's history it says so (`licenses.signals.history_tallied`)
  and `write_months` replaces the authority's stored months, in the pass's transaction: for
  each time zone a user chose (and the site's), the complete months of the window, per
  exporter and for all exporters, computed by the same statement the dashboard runs.
- **Read with a fallback.** `approval_times` takes an authority's months from the store up to
  its first month not counted in the user's time zone (the all-exporters row is written for
  every month, approvals or none, so its presence says the month was counted), when the user
  sees every exporter or exactly one. Everything else is computed from the applications, in
  one statement: the current month, a month that ended after the authority's last pass, an
  authority never passed, and every month for a user limited to several exporters (whose
  percentiles cannot be combined).
- **What lags.** A decision dated back into a month gone by, or a correction of one, shows
  after the authority's next pass (seconds, at a large authority), like the history figures.

On SQLite (the embedded default) nothing is stored: the months are computed in Python.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core import statements
from core.lookups import ids_in
from licenses import selectors as license_selectors
from licenses.models import LICENSED_STATUSES, LicenseApplication

from .models import AlertPreference, ApprovalMonth

# Approved applications, whatever became of the license since.
DECIDED = LICENSED_STATUSES
# The months the dashboard charts: the current one and those before it.
MONTHS = 12


@dataclass(frozen=True)
class MonthStat:
    month: dt.date
    count: int
    median: float | None
    p90: float | None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def month_starts(now: dt.datetime, months: int, tz: dt.tzinfo | None = None) -> list[dt.date]:
    """The first day of each of the last `months` months (in `tz`, by default the current time
    zone), oldest first."""
    today = timezone.localtime(now, tz).date()
    year, month = today.year, today.month
    starts = []
    for _i in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _decided(applications: QuerySet, since: dt.datetime, until: dt.datetime) -> QuerySet:
    """The approved applications among these, approved from `since` to `until` (included)."""
    return applications.filter(
        status__in=DECIDED,
        decided_at__gte=since,
        decided_at__lte=until,
        submitted_at__isnull=False,
    ).order_by()


class _Percentiles(Aggregate):
    """PostgreSQL's PERCENTILE_CONT of several fractions at once (one sort of the group):
    linear interpolation between closest ranks, as `percentile` computes it."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())

    def __init__(self, expression: Any, *fractions: float) -> None:
        super().__init__(expression, fractions=", ".join(str(float(f)) for f in fractions))


WORK_MEM = "32MB"


def _by_month(decided: QuerySet, tz: dt.tzinfo, *by: str) -> QuerySet:
    """`decided` grouped by the fields `by` and the month of approval in `tz`, with the count
    and the median and 90th percentile of the days from submission to approval (`q`)."""
    days = Func(
        F("decided_at"),
        F("submitted_at"),
        template="EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0",
        arg_joiner=" - ",
        output_field=FloatField(),
    )
    return (
        decided.annotate(
            month=TruncMonth("decided_at", tzinfo=tz, output_field=DateField()), days=days
        )
        # COUNT(*), not of the id: the partial index `application_decided` holds all the
        # rest, so the rows are read from it alone
        .values(*by, "month")
        .annotate(n=Count("*"), q=_Percentiles("days", 0.5, 0.9))
    )


def _month_rows(decided: QuerySet, tz: dt.tzinfo, *by: str) -> list[dict[str, Any]]:
    """The count, the median and the 90th percentile of the days from submission to approval,
    by month of approval in `tz` and by the fields `by`, aggregated by PostgreSQL (a row per
    group, not one per application), for months of approvals: sorted with more memory than
    the default."""
    rows = _by_month(decided, tz, *by)
    with transaction.atomic(), connection.cursor() as cursor:
        # A year of approvals at a million shipments (about 60,000 rows) sorted by group: in
        # memory, not on disk (for this transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        return list(rows)


def approval_times(
    *,
    user: Any,
    now: dt.datetime,
    months: int = MONTHS,
    authorities: license_selectors.Authorities | None = None,
) -> dict[str, list[MonthStat]]:
    """Days from submission to approval, by authority code and month of approval (in the
    user's time zone): the count, the median and the 90th percentile, for the last `months`
    months, oldest first; authorities with no approval in them are left out (the authorities
    are read unless given)."""
    starts = month_starts(now, months)
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(starts[0], dt.time.min, tzinfo=tz)
    applications = license_selectors.application_list(user=user)
    if connection.vendor != "postgresql":
        return _in_python(_decided(applications, since, now), starts, tz)
    known = license_selectors.authorities(user=user) if authorities is None else authorities
    codes = {a.pk: a.code for a in known}
    stats: dict[str, dict[dt.date, MonthStat]] = defaultdict(dict)
    live_from = _stored(
        stats, user=user, starts=starts, zone=timezone.get_current_timezone_name(), codes=codes
    )
    # The rest from the applications: for each authority from its first month not stored
    # (the current month at the latest), and for authorities with nothing stored, all of it.
    starting: dict[dt.date, list[int]] = defaultdict(list)
    for authority_id, month in live_from.items():
        starting[month].append(authority_id)
    live = Q()
    for month, authority_ids in starting.items():
        begin = dt.datetime.combine(month, dt.time.min, tzinfo=tz)
        live |= Q(authority_id__in=authority_ids, decided_at__gte=begin)
    if live_from and set(live_from) >= set(codes):
        # every authority has months stored: the index is read from the earliest month left
        since = dt.datetime.combine(min(live_from.values()), dt.time.min, tzinfo=tz)
    else:
        live |= ~Q(authority_id__in=list(live_from))
    rows: list[tuple[Any, ...]]
    if since < dt.datetime.combine(starts[-1], dt.time.min, tzinfo=tz):  # months of them
        rows = [
            (row["authority_id"], row["month"], row["n"], row["q"])
            for row in _month_rows(
                _decided(applications, since, now).filter(live), tz, "authority_id"
            )
        ]
    else:  # the current month's alone, usually: compiled once per month, scope and zone
        shape = (
            "approvals.live",
            license_selectors.visible_exporter_ids(user),
            timezone.get_current_timezone_name(),
            since,
            tuple(sorted((month, tuple(sorted(ids))) for month, ids in starting.items())),
            frozenset(codes),
        )
        rows = statements.rows(
            shape,
            lambda moment: _by_month(
                _decided(applications, since, moment).filter(live), tz, "authority_id"
            ).values_list("authority_id", "month", "n", "q"),
            now,
        )
    for authority_id, month, n, (median, p90) in rows:
        stats[codes[authority_id]][month] = MonthStat(month, n, median, p90)
    return {
        code: [by_month.get(m, MonthStat(m, 0, None, None)) for m in starts]
        for code, by_month in sorted(stats.items())
        if any(stat.count for stat in by_month.values())
    }


def _stored(
    stats: dict[str, dict[dt.date, MonthStat]],
    *,
    user: Any,
    starts: list[dt.date],
    zone: str,
    codes: dict[int, str],
) -> dict[int, dt.date]:
    """Fill `stats` with the stored months the user can take (see the module's docstring);
    returns, for each authority with months stored, the first month to count from the
    applications (an authority missing here has all of its months counted from them)."""
    visible = license_selectors.visible_exporter_ids(user)
    if visible is not None and len(visible) != 1:
        return {}
    rows = list(
        ApprovalMonth.objects.filter(time_zone=zone, month__gte=starts[0], month__lt=starts[-1])
        .filter(Q(exporter__isnull=True) | (ids_in("exporter_id", visible) if visible else Q()))
        .values_list("authority_id", "exporter_id", "month", "n", "median", "p90")
    )
    counted: dict[int, set[dt.date]] = defaultdict(set)
    for authority_id, exporter_id, month, *_rest in rows:
        if exporter_id is None:
            counted[authority_id].add(month)
    live_from = {
        authority_id: next((m for m in starts if m not in months), starts[-1])
        for authority_id, months in counted.items()
    }
    for authority_id, exporter_id, month, n, median, p90 in rows:
        mine = exporter_id is None if visible is None else exporter_id is not None
        if mine and n and month < live_from[authority_id]:
            stats[codes[authority_id]][month] = MonthStat(month, n, median, p90)
    return live_from


def _in_python(
    decided: QuerySet, starts: list[dt.date], tz: dt.tzinfo
) -> dict[str, list[MonthStat]]:
    """`approval_times` where the database has no percentiles (SQLite): from the rows."""
    samples: dict[str, dict[dt.date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for code, submitted_at, decided_at in decided.values_list(
        "authority__code", "submitted_at", "decided_at"
    ):
        local = decided_at.astimezone(tz).date().replace(day=1)
        samples[code][local].append((decided_at - submitted_at).total_seconds() / 86400)
    return {
        code: [
            MonthStat(
                m,
                len(by_month.get(m, [])),
                percentile(by_month.get(m, []), 50),
                percentile(by_month.get(m, []), 90),
            )
            for m in starts
        ]
        for code, by_month in sorted(samples.items())
    }


# The zone of a user who chose none (`config.middleware.user_time_zone`).
DEFAULT_ZONE = "UTC"


def zones() -> list[str]:
    """The time zones the months are stored for: the default users get, the site's, and each
    one a user chose."""
    chosen = AlertPreference.objects.exclude(time_zone="").values_list("time_zone", flat=True)
    return sorted({DEFAULT_ZONE, settings.TIME_ZONE, *chosen.distinct()})


def write_months(*, authority_id: int, now: dt.datetime) -> int:
    """Replace the authority's stored months (`ApprovalMonth`): for each of `zones`, the
    complete months of the dashboard's window, for all exporters (every month) and per
    exporter (months with approvals). On PostgreSQL only; returns the rows written."""
    if connection.vendor != "postgresql":
        return 0
    applications = LicenseApplication.objects.filter(authority_id=authority_id)
    rows: list[ApprovalMonth] = []
    for zone in zones():
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        starts = month_starts(now, MONTHS, tz)
        since = dt.datetime.combine(starts[0], dt.time.min, tzinfo=tz)
        # up to the end of the month before the current one
        until = dt.datetime.combine(starts[-1], dt.time.min, tzinfo=tz) - dt.timedelta(
            microseconds=1
        )
        decided = _decided(applications, since, until)
        overall = {row["month"]: row for row in _month_rows(decided, tz)}
        for month in starts[:-1]:
            row = overall.get(month)
            median, p90 = row["q"] if row else (None, None)
            rows.append(
                ApprovalMonth(
                    authority_id=authority_id,
                    time_zone=zone,
                    month=month,
                    n=row["n"] if row else 0,
                    median=median,
                    p90=p90,
                )
            )
        for row in _month_rows(decided, tz, "exporter_id"):
            median, p90 = row["q"]
            rows.append(
                ApprovalMonth(
                    authority_id=authority_id,
                    exporter_id=row["exporter_id"],
                    time_zone=zone,
                    month=row["month"],
                    n=row["n"],
                    median=median,
                    p90=p90,
                )
            )
    ApprovalMonth.objects.filter(authority_id=authority_id).delete()
    ApprovalMonth.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
