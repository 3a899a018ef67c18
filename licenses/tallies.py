"""Status tallies: how many applications and shipments each exporter has in each state
(applications also by authority), kept so that the dashboard never counts a million rows.

- **Written with the events.** Every change of state is recorded as an event with its
  `from_status` and `to_status` (a creation has only the latter), and the event writer
  (`licenses.events.write`, the one writer of events) passes what it wrote to `record`, in the
  same transaction: a signed delta row per (exporter, authority, subject, state) that changed,
  and one for all exporters together (`exporter` empty), so that a user who sees every
  exporter reads a few dozen rows rather than every exporter's.
  Deltas are only ever inserted, so concurrent moves never wait on one another here; a set-based
  path (shipments following their application, a change of the rules that moves thousands)
  writes its deltas in one INSERT.
- **Read as sums.** A count is the sum of the rows of its key (`counts`, `pending_by_authority`),
  over the exporters the user may see (the all-exporters rows for a user who sees them all).
- **Compacted.** `compact` folds the rows of each key into one, in one statement (the rows it
  deletes are the rows it sums), run by the scan every minute: the table stays at about one
  row per key.
- **Reconciled.** `rebuild` recounts from the tables (a lock keeps concurrent deltas out while
  it does) and reports any drift; the daily job runs it, as does the demo and the benchmark
  database builder after their bulk loads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum

from core import statements
from core.lookups import ids_in

from .models import PENDING_STATUSES, LicenseApplication, StatusTally

APPLICATION: str = StatusTally.Subject.APPLICATION
SHIPMENT: str = StatusTally.Subject.SHIPMENT
# exporter (None: all exporters), authority (applications), subject, state
Key = tuple[int | None, int | None, str, str]


def _shipments() -> QuerySet:
    return apps.get_model(settings.EVENT_SHIPMENT_MODEL).objects.all()


def record(changes: Iterable[tuple[int | None, int | None, str, str]]) -> int:
    """Write the deltas of events just written: (application id, shipment id, from state, to
    state) each, a shipment's move when it has a shipment, else its application's. Returns how
    many delta rows were written (a move back and forth nets to none)."""
    by_subject: dict[str, Counter[tuple[int, str]]] = {APPLICATION: Counter(), SHIPMENT: Counter()}
    for application_id, shipment_id, old, new in changes:
        if old == new:
            continue
        subject, pk = (SHIPMENT, shipment_id) if shipment_id else (APPLICATION, application_id)
        if pk is None:
            continue
        if old:
            by_subject[subject][(pk, old)] -= 1
        if new:
            by_subject[subject][(pk, new)] += 1
    deltas: Counter[Key] = Counter()
    for subject, changed in by_subject.items():
        if not changed:
            continue
        ids = {pk for pk, _status in changed}
        owners: dict[int, tuple[int, int | None]]
        if subject == APPLICATION:
            owners = {
                pk: (exporter, authority)
                for pk, exporter, authority in LicenseApplication.objects.filter(
                    ids_in("pk", ids)
                ).values_list("pk", "exporter_id", "authority_id")
            }
        else:
            owners = {
                pk: (exporter, None)
                for pk, exporter in _shipments()
                .filter(ids_in("pk", ids))
                .values_list("pk", "exporter_id")
            }
        for (pk, status), n in changed.items():
            exporter, authority = owners[pk]
            deltas[(exporter, authority, subject, status)] += n
            deltas[(None, authority, subject, status)] += n  # all exporters
    rows = [
        StatusTally(exporter_id=e, authority_id=a, subject=s, status=status, n=n)
        for (e, a, s, status), n in deltas.items()
        if n
    ]
    StatusTally.objects.bulk_create(rows)
    return len(rows)


def _visible(exporter_ids: Iterable[int] | None) -> QuerySet[StatusTally]:
    """The rows of the given exporters, or (None) those of all exporters together."""
    qs = StatusTally.objects.order_by()
    if exporter_ids is None:
        return qs.filter(exporter__isnull=True)
    return qs.filter(ids_in("exporter_id", exporter_ids))


Sums = dict[tuple[str, str, int | None], int]  # (subject, state, authority): count


def sums(exporter_ids: Iterable[int] | None) -> Sums:
    """{(subject, state, authority): count} over the given exporters (None: all), in one
    statement: what `counts` and `pending_by_authority` add up (the dashboard reads both)."""
    scope = None if exporter_ids is None else frozenset(exporter_ids)
    summed = statements.rows(  # compiled once per process and scope
        ("tallies.sums", scope),
        lambda: (
            _visible(scope)
            .values_list("subject", "status", "authority_id")
            .annotate(total=Sum("n"))
        ),
    )
    return {(subject, status, authority): n for subject, status, authority, n in summed if n}


def counts(
    exporter_ids: Iterable[int] | None, *, summed: Sums | None = None
) -> dict[str, dict[str, int]]:
    """{subject: {state: count}} over the given exporters (None: all), or of the `sums`
    given."""
    added: Counter[tuple[str, str]] = Counter()
    for (subject, status, _authority), n in (
        sums(exporter_ids) if summed is None else summed
    ).items():
        added[(subject, status)] += n
    out: dict[str, dict[str, int]] = {APPLICATION: {}, SHIPMENT: {}}
    for (subject, status), n in added.items():
        if n:
            out[subject][status] = n
    return out


def known_count(
    subject: str, params: dict[str, str], states: list[str], *, user: Any
) -> int | None:
    """A list's number of rows from the tallies, for the exporters the user may see: with no
    filter, all of the subject's rows; filtered by one state (`status`, one of `states`) and
    nothing else, that state's. None for any other filter (the list counts its rows)."""
    from .selectors import visible_exporter_ids

    if set(params) - {"status"} or params.get("status", "") not in {"", *states}:
        return None
    counted = counts(visible_exporter_ids(user))[subject]
    return counted.get(params["status"], 0) if params else sum(counted.values())


def pending_by_authority(
    exporter_ids: Iterable[int] | None, *, summed: Sums | None = None
) -> dict[int, int]:
    """{authority id: pending applications} over the given exporters (None: all), or of the
    `sums` given."""
    added: Counter[int] = Counter()
    for (subject, status, authority), n in (
        sums(exporter_ids) if summed is None else summed
    ).items():
        if subject == APPLICATION and status in PENDING_STATUSES and authority is not None:
            added[authority] += n
    return {authority: n for authority, n in added.items() if n}


_FIELDS = "exporter_id, authority_id, subject, status"


def compact() -> int:
    """Fold the rows of each key that has several into one (dropping keys that sum to zero);
    returns the number of rows folded. On PostgreSQL one statement, whose parts share one
    snapshot: the rows it deletes are exactly the rows it sums, so deltas committed meanwhile
    are neither lost nor counted twice, and keys with a single row are not rewritten."""
    table = StatusTally._meta.db_table
    same_key = " AND ".join(f"t.{c} IS NOT DISTINCT FROM k.{c}" for c in _FIELDS.split(", "))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"WITH k AS (SELECT {_FIELDS} FROM {table} "
                    f"GROUP BY {_FIELDS} HAVING COUNT(*) > 1), "
                    f"gone AS (DELETE FROM {table} AS t USING k WHERE {same_key} "
                    f"RETURNING t.exporter_id, t.authority_id, t.subject, t.status, t.n), "
                    f"kept AS (INSERT INTO {table} ({_FIELDS}, n) "
                    f"SELECT {_FIELDS}, SUM(n) FROM gone "
                    f"GROUP BY {_FIELDS} HAVING SUM(n) <> 0 RETURNING 1) "
                    "SELECT COUNT(*) FROM gone"
                )
                return int(cursor.fetchone()[0])
        else:  # SQLite: one writer at a time
            sums = list(
                StatusTally.objects.values_list("exporter_id", "authority_id", "subject", "status")
                .annotate(total=Sum("n"))
                .order_by()
            )
            folded = StatusTally.objects.count()
            StatusTally.objects.all().delete()
            StatusTally.objects.bulk_create(
                StatusTally(exporter_id=e, authority_id=a, subject=s, status=st, n=n)
                for e, a, s, st, n in sums
                if n
            )
            return folded


def _recount() -> Counter[Key]:
    out: Counter[Key] = Counter()
    for exporter, authority, status, n in (
        LicenseApplication.objects.order_by()
        .values_list("exporter_id", "authority_id", "status")
        .annotate(n=Count("id"))
    ):
        out[(exporter, authority, APPLICATION, status)] = n
        out[(None, authority, APPLICATION, status)] += n
    for exporter, status, n in (
        _shipments().order_by().values_list("exporter_id", "status").annotate(n=Count("id"))
    ):
        out[(exporter, None, SHIPMENT, status)] = n
        out[(None, None, SHIPMENT, status)] += n
    return out


def _summed() -> Counter[Key]:
    return Counter(
        {
            (e, a, s, st): n
            for e, a, s, st, n in StatusTally.objects.order_by()
            .values_list("exporter_id", "authority_id", "subject", "status")
            .annotate(total=Sum("n"))
            if n
        }
    )


def _difference(summed: Counter[Key], recounted: Counter[Key]) -> dict[Key, int]:
    return {
        key: summed[key] - recounted[key]
        for key in summed.keys() | recounted.keys()
        if summed[key] != recounted[key]
    }


def drift() -> dict[Key, int]:
    """Keys whose tally differs from a recount, with the difference (tally - recount)."""
    return _difference(_summed(), _recount())


def rebuild() -> dict[Key, int]:
    """Recount every tally from the tables; returns the drift it corrected (empty when the
    deltas were right). Concurrent moves wait for it (their deltas need the table) and are
    counted either in the recount (committed before it) or by their own delta (after)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {StatusTally._meta.db_table} IN EXCLUSIVE MODE")
        summed, recounted = _summed(), _recount()
        StatusTally.objects.all().delete()
        StatusTally.objects.bulk_create(
            StatusTally(exporter_id=e, authority_id=a, subject=s, status=st, n=n)
            for (e, a, s, st), n in recounted.items()
            if n
        )
    return _difference(summed, recounted)
