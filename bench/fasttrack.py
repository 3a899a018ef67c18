"""The fast-track benchmark: a decision whose scope is every pending MOFCOM application (about
100,000 at 1,000,000 shipments), logged and applied at `generate.NOW`.

Product: `licenses.fasttrack.decision_log` — which records the decision and, its scope being
larger than `FAST_TRACK_INLINE_LIMIT`, hands the pass to the Celery task on commit — then the
task function itself (`licenses.tasks.recompute_decision_scope`), called directly in the same
transaction: the whole application of the decision to the pending applications, with
everything the product does on the way (new windows and due dates, their events, and the
flags of the moved applications and their shipments re-evaluated straight away, with their
events and alerts). Then, timed apart, the follow-up task that the pass queues for large
scopes (`monitoring.tasks.refresh_decision_file_by`): the file-by deadlines of the shipments in
scope that have no application yet.

Floor: the same work as straight SQL. The new due dates are precomputed (untimed) with the pure
`licenses.calendars` arithmetic from the rows as they are; then, timed: the decision row, one
UPDATE … FROM of the applications, one INSERT … SELECT of the `fast_track_applied` events
(linked into their chains as the product links them, `licenses.events.linked_insert`), the
decision's effect (count and median change), and for the moved applications and their shipments
the flag statements of the scan's floor (`bench.floor`: raise with events and alert rows, clear
with events) for `overdue`, `due_soon` and `at_risk`. The runner checks that both write the
same number of due-date events, flags raised and cleared, and alerts.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.db import connection

from bench import floor as scan_floor
from bench import generate
from licenses.calendars import add_days
from licenses.clock import _public_calendar, end_of_day, local_date
from licenses.events import linked_insert
from licenses.fasttrack import candidates, decision_log, make_scope, scope_of
from licenses.models import Authority, ClockStart, Event, EventKind, FastTrackDecision
from licenses.tasks import recompute_decision_scope
from monitoring import scan
from monitoring.models import Alert

WINDOW = 20  # working days, down from MOFCOM's 45
SOURCE = "Benchmark: ministerial trade talks, press release"


def _mofcom() -> Authority:
    return Authority.objects.get(code="MOFCOM")


def info() -> dict[str, Any]:
    authority = _mofcom()
    pending = candidates(authority_id=authority.pk, scope=make_scope()).count()
    return {"pending": pending, "window_days": WINDOW}


def written() -> dict[str, int]:
    """What a pass wrote at `generate.NOW` (inside the rolled-back transaction)."""
    now = generate.NOW
    events = Event.objects.filter(recorded_at=now)
    return {
        "due_date_events": events.filter(kind=EventKind.FAST_TRACK_APPLIED).count(),
        "flags_raised": events.filter(kind=EventKind.FLAG_RAISED).count(),
        "flags_cleared": events.filter(kind=EventKind.FLAG_CLEARED).count(),
        "alerts": Alert.objects.filter(created_at=now).count(),
    }


def product() -> dict[str, Any]:
    started = time.perf_counter()
    authority = _mofcom()
    today = local_date(generate.NOW, authority.tz)
    decision = decision_log(
        authority=authority,
        announced_on=today,
        source=SOURCE,
        window_days=WINDOW,
        effective_from=today,
        actor=None,
        now=generate.NOW,
    )
    decision.refresh_from_db()
    moved = None
    if decision.progress_finished_at is None:  # queued for the task: run it here
        moved = recompute_decision_scope(
            decision.pk, EventKind.FAST_TRACK_APPLIED, generate.NOW.isoformat(), None
        )
    pass_seconds = time.perf_counter() - started
    decision.refresh_from_db()
    summary = {
        "seconds": pass_seconds,
        "moved": moved,
        "affected_count": decision.affected_count,
        "progress": [decision.progress_done, decision.progress_total],
        "written": written(),
    }
    # The follow-up the pass queued on commit (the transaction is rolled back, so it never
    # runs by itself here): the file-by deadlines of the shipments in scope.
    started = time.perf_counter()
    followed = scan.refresh_decision_scope(  # what `refresh_decision_file_by` runs
        now=generate.NOW, authority_id=authority.pk, scope=scope_of(decision)
    )
    summary["file_by_seconds"] = time.perf_counter() - started
    summary["file_by_changed"] = followed.file_by_changed
    summary["file_by_flags"] = {"raised": followed.raised, "cleared": followed.cleared}
    return summary


def prepare_floor() -> dict[str, Any]:
    """Untimed: read the candidates and compute their new due dates."""
    authority = _mofcom()
    calendar = _public_calendar(authority.calendar_country, authority.calendar_subdivision)
    tz = authority.tz
    rows = []
    qs = candidates(authority_id=authority.pk, scope=make_scope()).values_list(
        "id", "status", "submitted_at", "accepted_at", "due_at"
    )
    for pk, status, submitted_at, accepted_at, due_at in qs:
        new_due = None
        if status != "info_requested":
            if authority.clock_starts == ClockStart.ACCEPTED and accepted_at is None:
                start, days = submitted_at, authority.acceptance_window_days
            else:
                start = (
                    accepted_at if authority.clock_starts == ClockStart.ACCEPTED else submitted_at
                )
                days = WINDOW
            day = add_days(
                calendar=calendar,
                start=local_date(start, tz),  # type: ignore[arg-type]
                n=days,
                unit=authority.window_unit,
            )
            new_due = end_of_day(day, tz) if day else None
        change = (new_due - due_at).days if (new_due and due_at) else None
        rows.append(
            [
                pk,
                new_due.isoformat() if new_due else None,
                due_at.isoformat() if due_at else None,
                change,
            ]
        )
    today = local_date(generate.NOW, tz)
    th = scan.thresholds(now=generate.NOW)
    statements, params = flag_statements(th)
    return {
        "authority": authority.pk,
        "today": today,
        "rows": rows,
        "flag_statements": statements,
        "flag_params": params,
    }


def flag_statements(th: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The scan floor's raise and clear statements for the kinds a due date decides, over the
    applications whose due date moved (`ft_new`) and their shipments."""
    _, params = scan_floor.scan_statements(th, th)  # the shared parameters (recipients etc.)
    soon = []
    for a in th.authorities:
        params[f"soon{a.authority.pk}"] = a.due_soon_until
        soon.append(f"(s.authority_id = {a.authority.pk} AND s.due_at <= %(soon{a.authority.pk})s)")
    pending = scan_floor.PENDING
    moved = "SELECT id FROM ft_new WHERE due IS DISTINCT FROM old"
    app = "licenses_licenseapplication"
    app_details = "jsonb_build_object('status', s.status, 'due_at', s.due_at)"
    # at_risk: the due date (the local day `due_at` ends, in the authority's zone) is after
    # the planned ship date; an application waiting on information keeps an open flag.
    zones = " ".join(
        f"WHEN {a.authority.pk} THEN '{a.authority.time_zone}'" for a in th.authorities
    )
    late = (
        f"EXISTS (SELECT 1 FROM {app} a WHERE a.id = s.application_id "
        f"AND a.status IN {pending} AND a.due_at IS NOT NULL "
        f"AND ((a.due_at - interval '1 microsecond') AT TIME ZONE "
        f"(CASE a.authority_id {zones} END))::date > s.planned_ship_date)"
    )
    before_shipping = "s.status IN ('planned', 'awaiting_license', 'cleared')"
    kept = (
        f"EXISTS (SELECT 1 FROM {app} a WHERE a.id = s.application_id "
        "AND a.status = 'info_requested')"
    )
    specs = {
        "overdue": dict(
            table=app,
            subject="application_id",
            due=f"s.status IN {pending} AND s.due_at <= %(now)s",
            scope=f"s.id IN ({moved})",
            details=app_details,
            alerting=True,
        ),
        "due_soon": dict(
            table=app,
            subject="application_id",
            due=f"s.status IN {pending} AND s.due_at > %(now)s AND ({' OR '.join(soon)})",
            scope=f"s.id IN ({moved})",
            details=app_details,
            alerting=False,
        ),
        "at_risk": dict(
            table="shipments_shipment",
            subject="shipment_id",
            due=f"{before_shipping} AND {late}",
            scope=f"s.application_id IN ({moved})",
            details="jsonb_build_object('planned_ship_date', s.planned_ship_date, "
            "'application_id', s.application_id, 'application_due_at', "
            f"(SELECT a.due_at FROM {app} a WHERE a.id = s.application_id))",
            alerting=True,
        ),
    }
    statements = []
    for kind, spec in specs.items():
        # an application waiting on information keeps its shipments' at_risk flags open
        unless = f"({spec['due']}) OR ({before_shipping} AND {kept})" if kind == "at_risk" else None
        statements += scan_floor.raise_and_clear(kind, spec, clear_unless=unless)
    return statements, params


def floor(prepared: dict[str, Any]) -> dict[str, Any]:
    now = generate.NOW
    note = "Fast-track decision %s of %s applied."
    decision = FastTrackDecision.objects.bulk_create(  # no signals: the floor writes only rows
        [
            FastTrackDecision(
                authority_id=prepared["authority"],
                announced_on=prepared["today"],
                source=SOURCE,
                window_days=WINDOW,
                effective_from=prepared["today"],
                applied=True,
                created_at=now,
            )
        ]
    )[0]
    source = f"decision:{decision.pk}"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE ft_new (id bigint, due timestamptz, old timestamptz, "
            "change integer) ON COMMIT DROP"
        )
        cursor.execute(
            "INSERT INTO ft_new SELECT (e->>0)::bigint, (e->>1)::timestamptz, "
            "(e->>2)::timestamptz, (e->>3)::integer FROM jsonb_array_elements(%s::jsonb) e",
            [json.dumps(prepared["rows"])],
        )
        cursor.execute(
            "UPDATE licenses_licenseapplication a SET due_at = n.due, window_days = %s, "
            "window_source = %s FROM ft_new n WHERE a.id = n.id",
            [WINDOW, source],
        )
        updated = cursor.rowcount
        cursor.execute(
            "WITH ev_source AS (SELECT %s AS kind, n.id AS application_id, "
            "NULL AS shipment_id, %s AS decision_id, '' AS from_status, '' AS to_status, "
            "%s AS occurred_at, %s AS recorded_at, NULL AS actor_id, %s AS note, "
            "jsonb_build_object('from', n.old, 'to', n.due, 'window_days', %s, 'source', %s, "
            "'change_days', n.change) AS data, NULL AS corrects_id, n.id AS ord "
            "FROM ft_new n WHERE n.due IS DISTINCT FROM n.old), "
            f"{linked_insert('ev_source')} SELECT count(*) FROM ev",
            [
                EventKind.FAST_TRACK_APPLIED,
                decision.pk,
                now,
                now,
                note % (decision.pk, prepared["today"]),
                WINDOW,
                source,
            ],
        )
        (events,) = cursor.fetchone()
        cursor.execute(
            "UPDATE licenses_fasttrackdecision SET affected_count = s.n, "
            "median_change_days = s.m, progress_total = %s, progress_done = %s, "
            "progress_finished_at = %s FROM (SELECT count(*) AS n, "
            "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY change)::numeric, 1) AS m "
            "FROM ft_new WHERE due IS DISTINCT FROM old) s WHERE id = %s",
            [len(prepared["rows"]), len(prepared["rows"]), now, decision.pk],
        )
    flags = scan_floor.run_scan_floor(prepared["flag_statements"], prepared["flag_params"])
    return {"updated": updated, "events": events, "flags": flags, "written": written()}


__all__ = ["dt", "floor", "info", "prepare_floor", "product"]
