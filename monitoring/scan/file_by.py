"""The file-by deadline: the last day to file a shipment's application (and the instant it
ends), computed from the window that would govern it, and stored in its narrow table
(`shipments.FilingDeadline`) — set-based on PostgreSQL — whenever one of its inputs changes."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.db.models import Value as V
from django.db.models.functions import Coalesce

from core.lookups import ids_in
from licenses.calendars import subtract_days
from licenses.clock import AuthorityContext, authority_context, end_of_day, governing_window
from licenses.models import (
    Authority,
    ClockStart,
    ControlledItem,
    LicenseApplication,
    LicenseType,
    Status,
)
from shipments.models import FilingDeadline, Shipment, ShipmentStatus

UPSERT_WORK_MEM = "256MB"


@dataclass
class _FileByMemo:
    """What `file_by_dates` learns once for many shipments: each authority's context, the
    window of each (authority, exporter, item, destination, license type), and the last day to
    file of each (authority, window, ship date) — a few thousand of each at a million
    shipments, instead of one computation per shipment."""

    contexts: dict[int, AuthorityContext] = field(default_factory=dict)
    windows: dict[tuple, int] = field(default_factory=dict)
    days: dict[tuple, tuple[dt.date, dt.datetime]] = field(default_factory=dict)


def file_by_dates(
    shipments: Sequence[Shipment], *, now: dt.datetime, memo: _FileByMemo | None = None
) -> dict[int, tuple[dt.date, dt.datetime]]:
    """The last day to file each shipment's application, and the instant it ends.

    For each shipment: build an unsaved application from its exporter, item and destination
    (license type of its draft application, else individual), take the window that would
    govern it now (`governing_window`: fast-track decisions in force, rules, default), and
    count back from the planned ship date that window and, where the clock starts at
    acceptance, the acceptance window — both in the authority's unit. Filing on that day or
    before, the due date falls on or before the ship date. A fixed number of queries per
    authority, none per shipment.
    """
    if not shipments:
        return {}
    item_authority = dict(
        ControlledItem.objects.filter(pk__in={s.item_id for s in shipments}).values_list(
            "pk", "authority_id"
        )
    )
    draft_types = dict(
        LicenseApplication.objects.filter(
            pk__in={s.application_id for s in shipments if s.application_id},
            status=Status.DRAFT,
        ).values_list("pk", "license_type")
    )
    authorities = Authority.objects.in_bulk(set(item_authority.values()))
    memo = memo if memo is not None else _FileByMemo()
    out = {}
    for shipment in shipments:
        authority = authorities[item_authority[shipment.item_id]]
        ctx = memo.contexts.get(authority.pk)
        if ctx is None:
            ctx = memo.contexts[authority.pk] = authority_context(authority, now=now)
        license_type = draft_types.get(shipment.application_id or 0, LicenseType.INDIVIDUAL)
        key = (authority.pk, shipment.exporter_id, shipment.item_id, shipment.destination)
        days = memo.windows.get((*key, license_type))
        if days is None:
            probe = LicenseApplication(
                exporter_id=shipment.exporter_id,
                authority=authority,
                destination=shipment.destination,
                license_type=license_type,
            )
            days = governing_window(probe, {shipment.item_id}, ctx).days
            memo.windows[(*key, license_type)] = days
        found = memo.days.get((authority.pk, days, shipment.planned_ship_date))
        if found is None:
            last = _last_day_to_file(ctx, ship_date=shipment.planned_ship_date, days=days)
            found = memo.days[(authority.pk, days, shipment.planned_ship_date)] = (
                last,
                end_of_day(last, authority.tz),
            )
        out[shipment.pk] = found
    return out


def _last_day_to_file(ctx: AuthorityContext, *, ship_date: dt.date, days: int) -> dt.date:
    """Count back from the ship date the window and, where the clock starts at acceptance, the
    acceptance window, both in the authority's unit."""
    authority = ctx.authority
    last = subtract_days(calendar=ctx.calendar, end=ship_date, n=days, unit=authority.window_unit)
    if authority.clock_starts == ClockStart.ACCEPTED:
        last = subtract_days(
            calendar=ctx.calendar,
            end=last,
            n=authority.acceptance_window_days,
            unit=authority.window_unit,
        )
    return last


def _store_file_by(rows: Sequence[tuple[int, dt.date, dt.datetime, bool]]) -> None:
    """Write the deadlines of many shipments ((shipment id, day, instant, planned) rows) into
    their narrow table: an upsert on the shipment's key (a new row says whether the shipment
    is planned; an existing one already follows its moves)."""
    FilingDeadline.objects.bulk_create(
        [
            FilingDeadline(shipment_id=pk, file_by_date=day, file_by_at=at, planned=planned)
            for pk, day, at, planned in rows
        ],
        update_conflicts=True,
        unique_fields=["shipment"],
        update_fields=["file_by_date", "file_by_at"],
    )


@dataclass
class Moved:
    """What `refresh_file_by_moves` changed: the shipments whose deadline changed, and those of
    them whose `file_by` can have changed with it (`crossed`)."""

    changed: list[int]
    crossed: list[int]


def refresh_file_by(
    *, now: dt.datetime, shipments: QuerySet[Shipment], chunk: int = 2000
) -> list[int]:
    """Recompute and store the file-by deadline of the given shipments; returns the ids whose
    deadline changed (`refresh_file_by_moves`)."""
    return refresh_file_by_moves(now=now, shipments=shipments, chunk=chunk).changed


def refresh_file_by_moves(
    *, now: dt.datetime, shipments: QuerySet[Shipment], chunk: int = 2000
) -> Moved:
    """Recompute and store the file-by deadline of the given shipments; returns the ids whose
    deadline changed, and among them those whose `file_by` the change can have changed
    (`crossed`).

    `file_by` is due when a planned shipment's deadline has passed (`file_by_at <= now`), and
    a refresh changes no shipment's state: so a deadline that moved without crossing `now`
    (passed before and after, or ahead before and after) leaves the flag as it was. Those that
    crossed, those that were emptied and those that are new are `crossed`. Re-evaluating only
    them relies on what the incremental scan relies on: a subject's flags were right for its
    stored deadline (every service re-evaluates what it changes; the daily full scan
    reconciles anything written around them).

    When it runs (every input of the deadline):
    - a shipment is saved (created or edited: ship date, item, destination, application) —
      `monitoring.receivers`, on `post_save`;
    - a draft application is saved (its license type) — its shipments;
    - an authority (window, unit, clock start, acceptance window), a calendar day or a review-
      window rule is saved or deleted — that authority's shipments before shipping;
    - a fast-track decision is applied or un-applied — the shipments in its scope
      (`refresh_decision_scope`);
    - the daily job — all of them, for fast-track decisions that begin or end by the date
      alone and for a `holidays` upgrade;
    - the scan — any planned shipment with no deadline yet (written by a bulk path);
    - a shipment's need for a license changed (`shipments.services.requirements`).

    A shipment that needs no license (`license_required` false) has no deadline: its
    deadline row is deleted, so `file_by` never flags it.

    On PostgreSQL it is set-based (`_refresh_file_by_sql`): a deadline depends only on the
    window of (exporter, item, destination, license type) and on the planned ship date, so the
    distinct (exporter, item, destination) are read once, their windows chosen for each license
    type, and one upsert joins them back to the shipments and writes only the deadlines that
    differ (into `FilingDeadline`). Elsewhere chunk by chunk.
    """
    emptied = _empty_unneeded(shipments)
    shipments = shipments.filter(license_required=True)
    if connection.vendor == "postgresql":
        written, crossed_now = _refresh_file_by_sql(now=now, shipments=shipments)
        if not emptied:  # the usual case: the lists come sorted and apart from the database
            return Moved(changed=written, crossed=crossed_now)
        return Moved(changed=sorted({*emptied, *written}), crossed=sorted({*emptied, *crossed_now}))
    changed: list[int] = list(emptied)
    crossed: list[int] = list(emptied)
    qs = (
        shipments.order_by("pk")
        .select_related("deadline")
        .only(
            "pk",
            "exporter_id",
            "item_id",
            "destination",
            "planned_ship_date",
            "application_id",
            "status",
            "deadline__file_by_date",
            "deadline__file_by_at",
        )
    )
    last_pk = 0
    memo = _FileByMemo()
    while True:
        batch = list(qs.filter(pk__gt=last_pk)[:chunk])
        if not batch:
            return Moved(changed=sorted(changed), crossed=sorted(crossed))
        computed = file_by_dates(batch, now=now, memo=memo)
        rows: list[tuple[int, dt.date, dt.datetime, bool]] = []
        for shipment in batch:
            date, instant = computed[shipment.pk]
            before = shipment.file_by_at
            if (shipment.file_by_date, before) != (date, instant):
                rows.append((shipment.pk, date, instant, shipment.status == ShipmentStatus.PLANNED))
                if before is None or (before <= now) != (instant <= now):
                    crossed.append(shipment.pk)
        if rows:
            _store_file_by(rows)
            changed.extend(row[0] for row in rows)
        last_pk = batch[-1].pk


def _empty_unneeded(shipments: QuerySet[Shipment]) -> list[int]:
    """Empty the deadline of the given shipments that need no license; returns their ids."""
    ids = list(
        shipments.order_by()
        .filter(license_required=False, deadline__isnull=False)
        .values_list("pk", flat=True)
    )
    if ids:
        FilingDeadline.objects.filter(ids_in("shipment_id", ids)).delete()
    return sorted(ids)


def _refresh_file_by_sql(
    *, now: dt.datetime, shipments: QuerySet[Shipment]
) -> tuple[list[int], list[int]]:
    """`refresh_file_by_moves` on PostgreSQL, in three statements whatever the number of
    shipments: the distinct window inputs, the distinct (authority, ship date), one statement
    that updates the deadlines that differ and inserts the missing ones. Returns the ids of
    the shipments whose deadline it wrote, and of those the ones that crossed `now` (new, or
    moved across it), each sorted: two arrays in one row, not a row per deadline (a decision
    writes hundreds of thousands)."""
    shipments = shipments.order_by()
    # The window inputs without the license type, which would join every shipment to its
    # application: each key's window is chosen for every license type instead (two of them).
    keys = list(
        shipments.values_list(
            "item__authority_id", "exporter_id", "item_id", "destination"
        ).distinct()
    )
    if not keys:
        return [], []
    authorities = Authority.objects.in_bulk({key[0] for key in keys})
    contexts = {pk: authority_context(a, now=now) for pk, a in authorities.items()}
    windows = []
    days_by_authority: dict[int, set[int]] = defaultdict(set)
    # One unsaved application per authority stands for every key in turn (its fields set for
    # each): a decision moves tens of thousands of keys, and building a model instance for each
    # cost more than choosing its window.
    probes = {pk: LicenseApplication(authority=a) for pk, a in authorities.items()}
    for (authority_id, exporter_id, item_id, destination), license_type in product(
        keys, LicenseType.values
    ):
        probe = probes[authority_id]
        probe.exporter_id, probe.destination = exporter_id, destination
        probe.license_type = license_type
        days = governing_window(probe, {item_id}, contexts[authority_id]).days
        windows.append([exporter_id, item_id, destination, license_type, days])
        days_by_authority[authority_id].add(days)
    deadlines = []
    for authority_id, ship_date in shipments.values_list(
        "item__authority_id", "planned_ship_date"
    ).distinct():
        authority, ctx = authorities[authority_id], contexts[authority_id]
        for days in days_by_authority[authority_id]:
            last = _last_day_to_file(ctx, ship_date=ship_date, days=days)
            deadlines.append(
                [
                    authority_id,
                    days,
                    ship_date.isoformat(),
                    last.isoformat(),
                    end_of_day(last, authority.tz).isoformat(),
                ]
            )
    subjects_sql, subjects_params = _subjects(shipments)
    deadline_table = FilingDeadline._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # A decision can move half a million deadlines: enough memory for the statement's hash
        # joins and its sort to stay off the disk (for this transaction only).
        cursor.execute(f"SET LOCAL work_mem = '{UPSERT_WORK_MEM}'")
        cursor.execute(
            # The shipments first, read once with their own conditions and their deadline
            # (materialised: the planner knows their number from their own predicate), then
            # the two small lists (materialised too: their JSON is read once, not once per
            # shipment) joined to them by hash, whatever their size. Deadlines that exist are
            # updated, the others inserted.
            f"WITH subject ({', '.join(SUBJECT_COLUMNS)}) AS MATERIALIZED ({subjects_sql}), "
            "w AS MATERIALIZED (SELECT (e->>0)::bigint AS exporter_id, (e->>1)::bigint AS item_id, "
            "e->>2 AS destination, e->>3 AS license_type, (e->>4)::integer AS days "
            "FROM jsonb_array_elements(%s::jsonb) AS e), "
            "d AS MATERIALIZED (SELECT (e->>0)::bigint AS authority_id, (e->>1)::integer AS days, "
            "(e->>2)::date AS ship, (e->>3)::date AS last, (e->>4)::timestamptz AS at "
            "FROM jsonb_array_elements(%s::jsonb) AS e), "
            "target AS (SELECT x.id, x.status, x.stored IS NOT NULL AS stored, d.last, d.at, "
            "x.file_by_at AS before "
            "FROM subject AS x "
            "JOIN w ON w.exporter_id = x.exporter_id AND w.item_id = x.item_id "
            "AND w.destination = x.destination AND w.license_type = x.license_type "
            "JOIN d ON d.authority_id = x.authority_id AND d.days = w.days "
            "AND d.ship = x.planned_ship_date "
            "WHERE x.file_by_date IS DISTINCT FROM d.last OR x.file_by_at IS DISTINCT FROM d.at), "
            f"updated AS (UPDATE {deadline_table} AS f "
            "SET file_by_date = target.last, file_by_at = target.at FROM target "
            "WHERE target.stored AND f.shipment_id = target.id "
            "RETURNING f.shipment_id, "
            "(target.before <= %s) IS DISTINCT FROM (target.at <= %s) AS crossed), "
            f"inserted AS (INSERT INTO {deadline_table} (shipment_id, file_by_date, file_by_at, "
            "planned) SELECT id, last, at, status = %s FROM target WHERE NOT stored "
            "ORDER BY id ON CONFLICT (shipment_id) DO UPDATE "
            "SET file_by_date = EXCLUDED.file_by_date, file_by_at = EXCLUDED.file_by_at "
            "RETURNING shipment_id, true), "
            "written AS (SELECT * FROM updated UNION ALL SELECT * FROM inserted) "
            "SELECT COALESCE(array_agg(shipment_id ORDER BY shipment_id), '{}'), "
            "COALESCE(array_agg(shipment_id ORDER BY shipment_id) FILTER (WHERE crossed), '{}') "
            "FROM written",
            [
                *subjects_params,
                json.dumps(windows),
                json.dumps(deadlines),
                now,
                now,
                ShipmentStatus.PLANNED,
            ],
        )
        changed, crossed = cursor.fetchone()
        return changed, crossed


# The columns of the shipments a refresh reads (`_subjects`), in their order.
SUBJECT_COLUMNS = (
    "id",
    "status",
    "exporter_id",
    "item_id",
    "destination",
    "planned_ship_date",
    "authority_id",
    "stored",
    "file_by_date",
    "file_by_at",
    "license_type",
)


def _subjects(shipments: QuerySet[Shipment]) -> tuple[str, tuple[Any, ...]]:
    """SQL reading the given shipments once, with their own conditions (not `id IN (…)`, which
    reads the table twice), each with what its deadline depends on and its stored deadline:
    the columns of `SUBJECT_COLUMNS`, in that order."""
    rows = (
        shipments.annotate(
            draft=FilteredRelation("application", condition=Q(application__status=Status.DRAFT))
        )
        # the license type the deadline assumes: the draft application's, else individual
        .annotate(license=Coalesce(F("draft__license_type"), V(LicenseType.INDIVIDUAL)))
        .values_list(
            "id",
            "status",
            "exporter_id",
            "item_id",
            "destination",
            "planned_ship_date",
            "item__authority_id",
            "deadline__shipment_id",
            "deadline__file_by_date",
            "deadline__file_by_at",
            "license",
        )
    )
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return f"SELECT {', '.join(['NULL'] * len(SUBJECT_COLUMNS))} WHERE false", ()
    return sql, tuple(params)
