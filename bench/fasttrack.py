"""The fast-track benchmark: a decision whose scope is every pending MOFCOM application (about
100,000 at 1,000,000 shipments), logged and applied at `generate.NOW`.

Product: `licenses.fasttrack.decision_log` — which records the decision and, its scope being
larger than `FAST_TRACK_INLINE_LIMIT`, hands the pass to the Celery task on commit — then the
task function itself (`licenses.tasks.recompute_decision_scope`), called directly in the same
transaction: the whole application of the decision, with everything the product does on the
way (new windows and due dates, their events, flags re-evaluated, file-by deadlines).

Floor: the new due dates precomputed (untimed) with the pure `licenses.calendars` arithmetic
from the rows as they are, then, timed: the decision row, one UPDATE … FROM (one JSON array of
id, due date) of the applications, one INSERT … SELECT of the `fast_track_applied` events, and
the decision's effect (count and median change) — the writes the issue names.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection

from bench import generate
from licenses.calendars import add_days
from licenses.clock import _public_calendar, end_of_day, local_date
from licenses.fasttrack import candidates, decision_log, make_scope
from licenses.models import Authority, ClockStart, Event, EventKind, FastTrackDecision
from licenses.tasks import recompute_decision_scope

WINDOW = 20  # working days, down from MOFCOM's 45
SOURCE = "Benchmark: ministerial trade talks, press release"


def _mofcom() -> Authority:
    return Authority.objects.get(code="MOFCOM")


def info() -> dict[str, Any]:
    authority = _mofcom()
    pending = candidates(authority_id=authority.pk, scope=make_scope()).count()
    return {"available": True, "pending": pending, "window_days": WINDOW}


def product() -> dict[str, Any]:
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
    decision.refresh_from_db()
    return {
        "moved": moved,
        "affected_count": decision.affected_count,
        "events": Event.objects.filter(decision=decision).count(),
        "progress": [decision.progress_done, decision.progress_total],
    }


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
    return {"authority": authority.pk, "today": today, "rows": rows}


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
            "INSERT INTO licenses_event (kind, application_id, decision_id, occurred_at, "
            "recorded_at, note, data, from_status, to_status) "
            "SELECT %s, n.id, %s, %s, %s, %s, jsonb_build_object('from', n.old, 'to', n.due, "
            "'window_days', %s, 'source', %s, 'change_days', n.change), '', '' "
            "FROM ft_new n WHERE n.due IS DISTINCT FROM n.old",
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
        events = cursor.rowcount
        cursor.execute(
            "UPDATE licenses_fasttrackdecision SET affected_count = s.n, "
            "median_change_days = s.m, progress_total = %s, progress_done = %s, "
            "progress_finished_at = %s FROM (SELECT count(*) AS n, "
            "round(percentile_cont(0.5) WITHIN GROUP (ORDER BY change)::numeric, 1) AS m "
            "FROM ft_new WHERE due IS DISTINCT FROM old) s WHERE id = %s",
            [len(prepared["rows"]), len(prepared["rows"]), now, decision.pk],
        )
    return {"updated": updated, "events": events}


__all__ = ["dt", "floor", "info", "prepare_floor", "product"]
