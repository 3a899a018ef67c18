"""Flag tallies: the open flags by exporter, authority (of an application's flag) and kind, and
how many were open at the end of each of the last days, without reading the flags
(`FlagTally`).

- **Written by the scan.** Flags are raised and cleared in one place (`scan.apply.apply_kind`,
  for the periodic scan, the daily job and every re-evaluation inside a move), which passes the
  owners of the flags it raised and cleared (exporter, and the application's authority for an
  application's flag; an application never changes authority) to `record` in the same
  transaction: a delta row per exporter, authority, kind and hour, and one for all exporters.
- **Read as sums**, in one query (`read`): open flags of a kind = the sum of its rows, by
  authority for an application's kind (the dashboard's overdue applications by authority);
  open at the end of a day = that minus the changes of the hours since (`Open.at`). Hours
  are UTC hours: a day of a time zone whose offset is not a whole number of hours is read to
  the hour.
- **Compacted and reconciled** like the status tallies (`licenses.tallies`): `compact` folds the
  rows of each (exporter, authority, kind, hour), and hours older than `KEEP_HOURS` into one;
  `rebuild` recounts from the flags (the daily job; and after a path that wrote flags around
  the scan).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, QuerySet, Sum, Value, When
from django.db.models.functions import TruncHour

from core import statements
from core.lookups import ids_in

from .models import Flag, FlagTally

# How far back the hours are kept apart (the chart reads 90 days); older ones are one bucket.
KEEP_HOURS = 100 * 24
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


Owner = tuple[int, int | None]  # a flag's exporter, and its application's authority (or None)


def record(
    kind: str, *, raised: Sequence[Owner], cleared: Sequence[Owner], now: dt.datetime
) -> int:
    """The deltas of the flags of `kind` just raised and cleared (their owners: exporter, and
    authority for an application's flag), at `now`; returns how many rows were written."""
    net: Counter[tuple[int | None, int | None]] = Counter()
    for owners, sign in ((raised, 1), (cleared, -1)):
        for exporter, authority in owners:
            net[(exporter, authority)] += sign
            net[(None, authority)] += sign  # all exporters
    hour = hour_of(now)
    rows = [
        FlagTally(exporter_id=e, authority_id=a, kind=kind, hour=hour, n=n)
        for (e, a), n in net.items()
        if n
    ]
    FlagTally.objects.bulk_create(rows)
    return len(rows)


def _visible(exporter_ids: Iterable[int] | None) -> QuerySet[FlagTally]:
    qs = FlagTally.objects.order_by()
    if exporter_ids is None:
        return qs.filter(exporter__isnull=True)
    return qs.filter(ids_in("exporter_id", exporter_ids))


@dataclass(frozen=True)
class Open:
    """The open flags over some exporters, from one read of their tallies (`read`): by kind and
    authority now, and the changes by kind and hour from the hour `since` on."""

    now: dict[tuple[str, int | None], int]  # (kind, authority or None): open flags
    changes: dict[str, list[tuple[dt.datetime, int]]]  # kind: (hour, change), in hour order
    since: dt.datetime | None

    def counts(self) -> dict[str, int]:
        """{kind: open flags}."""
        out: Counter[str] = Counter()
        for (kind, _authority), n in self.now.items():
            out[kind] += n
        return {kind: n for kind, n in out.items() if n}

    def by_authority(self, kind: str) -> dict[int, int]:
        """{authority id: open flags of `kind`} (an application's kind)."""
        return {a: n for (k, a), n in self.now.items() if k == kind and a is not None and n}

    def at(self, moments: Sequence[dt.datetime], *, now: dt.datetime) -> dict[str, list[int]]:
        """{kind: open flags at each of `moments`} (each at or before `now`, none before the
        hour `since`): the open count less the changes of the hours from that moment's hour
        on."""
        if moments and (self.since is None or hour_of(min(moments)) < self.since):
            raise ValueError("the changes were read from a later hour than a moment asked")
        current = self.counts()
        out: dict[str, list[int]] = {}
        for kind in {*current, *self.changes}:
            changes = self.changes.get(kind, [])
            hours = [hour for hour, _n in changes]  # in order
            # later[i]: the sum of the changes from the i-th hour on (0 past the last)
            later = [*reversed([*accumulate(reversed([n for _hour, n in changes]))]), 0]
            open_now = current.get(kind, 0)
            out[kind] = [
                open_now if moment >= now else open_now - later[bisect_left(hours, moment)]
                for moment in moments
            ]
        return out


def read(exporter_ids: Iterable[int] | None, *, since: dt.datetime | None = None) -> Open:
    """The open flags over the given exporters (None: all), and the changes of each hour from
    `since` on (none without it), in one query: the rows of each kind and authority, those of
    an hour from `since` on kept apart."""
    scope = None if exporter_ids is None else frozenset(exporter_ids)

    def build(*moment: dt.datetime) -> QuerySet:
        hour: Any = Value(None, output_field=DateTimeField())
        if moment:
            hour = Case(When(hour__gte=moment[0], then=F("hour")), default=hour)
        return (
            _visible(scope)
            .annotate(changed=hour)
            .values_list("kind", "authority", "changed")
            .annotate(total=Sum("n"))
        )

    if since is not None:
        since = hour_of(since)
    now: Counter[tuple[str, int | None]] = Counter()
    by_hour: dict[str, Counter[dt.datetime]] = {}
    # compiled once per process and scope (`core.statements`)
    moments = () if since is None else (since,)
    for kind, authority, changed, n in statements.rows(
        ("flag_tallies.read", scope), build, *moments
    ):
        now[(kind, authority)] += n
        if changed is not None:
            by_hour.setdefault(kind, Counter())[changed] += n
    return Open(
        now={key: n for key, n in now.items() if n},
        changes={kind: sorted(hours.items()) for kind, hours in by_hour.items()},
        since=since,
    )


_KEY = "exporter_id, authority_id, kind, hour"
Key = tuple[int | None, int | None, str, dt.datetime]  # exporter, authority, kind, hour


def compact(*, now: dt.datetime) -> int:
    """Fold the rows of each (exporter, authority, kind, hour) into one, hours older than
    `KEEP_HOURS` into one bucket; returns the rows folded. One statement on PostgreSQL (its
    parts share a snapshot: what it deletes is what it sums)."""
    table = FlagTally._meta.db_table
    cutoff = hour_of(now) - dt.timedelta(hours=KEEP_HOURS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            bucket = "(CASE WHEN {t}hour < %(cutoff)s THEN %(epoch)s ELSE {t}hour END)"
            with connection.cursor() as cursor:
                cursor.execute(
                    "WITH k AS (SELECT exporter_id, authority_id, kind, "
                    f"{bucket.format(t='')} AS bucket FROM {table} GROUP BY 1, 2, 3, 4 "
                    f"HAVING COUNT(*) > 1 OR MIN(hour) < %(cutoff)s AND MIN(hour) <> %(epoch)s), "
                    f"gone AS (DELETE FROM {table} AS t USING k "
                    "WHERE t.exporter_id IS NOT DISTINCT FROM k.exporter_id "
                    "AND t.authority_id IS NOT DISTINCT FROM k.authority_id AND t.kind = k.kind "
                    f"AND {bucket.format(t='t.')} = k.bucket "
                    "RETURNING t.exporter_id, t.authority_id, t.kind, "
                    f"{bucket.format(t='t.')} AS hour, t.n), "
                    f"kept AS (INSERT INTO {table} ({_KEY}, n) "
                    f"SELECT {_KEY}, SUM(n) FROM gone GROUP BY {_KEY} HAVING SUM(n) <> 0 "
                    "RETURNING 1) SELECT COUNT(*) FROM gone",
                    {"cutoff": cutoff, "epoch": EPOCH},
                )
                return int(cursor.fetchone()[0])
        rows = list(FlagTally.objects.all())
        sums: Counter[Key] = Counter()
        for row in rows:
            hour = EPOCH if row.hour < cutoff else row.hour
            sums[(row.exporter_id, row.authority_id, row.kind, hour)] += row.n
        FlagTally.objects.all().delete()
        _create(sums)
        return len(rows)


def _create(sums: Counter[Key]) -> None:
    FlagTally.objects.bulk_create(
        (
            FlagTally(exporter_id=e, authority_id=a, kind=k, hour=h, n=n)
            for (e, a, k, h), n in sums.items()
            if n
        ),
        batch_size=5000,
    )


def _recount(*, now: dt.datetime) -> Counter[Key]:
    out: Counter[Key] = Counter()
    cutoff = hour_of(now) - dt.timedelta(hours=KEEP_HOURS)
    for column, sign, flags in (
        ("raised_at", 1, Flag.objects.all()),
        ("cleared_at", -1, Flag.objects.filter(cleared_at__isnull=False)),
    ):
        for exporter, authority, kind, hour, n in (
            flags.order_by()
            .annotate(h=TruncHour(column, tzinfo=dt.UTC))
            .values_list("exporter_id", "application__authority_id", "kind", "h")
            .annotate(n=Count("id"))
        ):
            bucket = EPOCH if hour < cutoff else hour
            out[(exporter, authority, kind, bucket)] += sign * n
            out[(None, authority, kind, bucket)] += sign * n
    return out


def rebuild(*, now: dt.datetime) -> int:
    """Recount every tally from the flags (concurrent scans wait: they need the table);
    returns how many keys' open counts differed (0 when the deltas were right)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {FlagTally._meta.db_table} IN EXCLUSIVE MODE")
        before: Counter[tuple[int | None, int | None, str]] = Counter()
        for exporter, authority, kind, n in (
            FlagTally.objects.order_by()
            .values_list("exporter_id", "authority_id", "kind")
            .annotate(total=Sum("n"))
        ):
            before[(exporter, authority, kind)] = n
        recounted = _recount(now=now)
        after: Counter[tuple[int | None, int | None, str]] = Counter()
        for (exporter, authority, kind, _hour), n in recounted.items():
            after[(exporter, authority, kind)] += n
        FlagTally.objects.all().delete()
        _create(recounted)
    return sum(1 for key in before.keys() | after.keys() if before[key] != after[key])
