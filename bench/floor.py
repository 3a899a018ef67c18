"""The floors: the same work as the product, written by hand as straight SQL.

`scan_floor` does what the periodic (incremental) window scan does for one `now`: for each
kind that time can change, the due subjects in the window that time moved across get their
flag (INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING), their `flag_raised` event and — for
the alerting kinds — one outbox row per recipient with its stable Message-ID, and the flags of
subjects in the window that are no longer due are cleared with their `flag_cleared` event. One
statement per kind and direction, every row written by set-based SQL (the events linked into
their subjects' chains as the product links them, `licenses.events.linked_insert`); the
recipients (contact addresses of the exporter, and users whose preferences or role defaults
ask for the kind and who may see the exporter) are found in SQL too.

The thresholds (each authority's local `due_soon` and `expiring` horizons) are pure calendar
arithmetic on three reference rows; they are computed before the clock starts, with the
product's own function, so the floor is timed on its SQL alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection

from licenses import roles
from licenses.events import flag_source, linked_insert

PENDING = "('submitted', 'accepted', 'info_requested', 'referred')"
TO_SHIP = "('planned', 'awaiting_license', 'cleared', 'on_hold')"


def _recipients(kind: str) -> str:
    """Recipients of each exporter in `raised` (dedup by address; a user's entry wins)."""
    return f"""
    rcpt AS (
      SELECT DISTINCT ON (x.exporter_id, lower(x.email)) x.exporter_id, x.email, x.user_id
      FROM (
        SELECT e.id AS exporter_id, trim(c.email) AS email, NULL::integer AS user_id, 1 AS pri
        FROM licenses_exporter e
        CROSS JOIN LATERAL jsonb_array_elements_text(e.contact_emails) AS c(email)
        WHERE e.id IN (SELECT exporter_id FROM raised)
        UNION ALL
        SELECT e.id, trim(u.email), u.id, 0
        FROM auth_user u
        JOIN licenses_exporter e ON e.id IN (SELECT exporter_id FROM raised)
        LEFT JOIN monitoring_alertpreference p ON p.user_id = u.id
        LEFT JOIN licenses_userprofile up ON up.user_id = u.id
        WHERE u.is_active AND u.email <> ''
          AND CASE WHEN p.id IS NULL THEN
                NOT u.is_superuser
                AND EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group g
                            ON g.id = ug.group_id
                            WHERE ug.user_id = u.id AND g.name = %(officer)s)
                AND NOT EXISTS (SELECT 1 FROM auth_user_groups ug JOIN auth_group g
                                ON g.id = ug.group_id
                                WHERE ug.user_id = u.id AND g.name IN (%(manager)s, %(admin)s))
              ELSE p.immediate_kinds ? '{kind}'
                AND (p.watch_all
                     OR EXISTS (SELECT 1 FROM monitoring_alertpreference_watched_exporters w
                                WHERE w.alertpreference_id = p.id AND w.exporter_id = e.id))
              END
          AND (u.is_superuser OR up.id IS NULL OR NOT up.limited_to_exporters
               OR EXISTS (SELECT 1 FROM licenses_userprofile_exporters pe
                          WHERE pe.userprofile_id = up.id AND pe.exporter_id = e.id))
      ) x
      ORDER BY x.exporter_id, lower(x.email), x.pri
    ),
    al AS (
      INSERT INTO monitoring_alert (id, flag_id, recipient, user_id, state, created_at, sent_at,
                                   attempts, next_attempt_at, message_id)
      SELECT n.id, n.flag_id, n.email, n.user_id, 'pending', %(now)s, NULL, 0, %(sweep)s,
             '<alert-' || n.id || '@' || %(domain)s || '>'
      FROM (SELECT nextval(pg_get_serial_sequence('monitoring_alert', 'id')) AS id,
                   r.id AS flag_id, rc.email, rc.user_id
            FROM raised r JOIN rcpt rc ON rc.exporter_id = r.exporter_id
            ORDER BY r.id, rc.email) n
      RETURNING id
    )"""


def _raise(
    kind: str, *, table: str, subject: str, due: str, scope: str, details: str, alerting: bool
) -> str:
    alerts = ("," + _recipients(kind)) if alerting else ""
    count_alerts = "(SELECT count(*) FROM al)" if alerting else "0"
    source = flag_source(
        "flag_raised",
        subject,
        subject_id="r.subject",
        moment="%(now)s",
        data=f"jsonb_build_object('flag', '{kind}', 'flag_id', r.id) || d.details",
        ord="r.id",
    )
    return f"""
    WITH due AS (
      SELECT s.id, s.exporter_id, {details} AS details FROM {table} s
      WHERE ({due}) AND ({scope})
        AND NOT EXISTS (SELECT 1 FROM monitoring_flag f WHERE f.{subject} = s.id
                        AND f.kind = '{kind}' AND f.cleared_at IS NULL)
    ),
    raised AS (
      INSERT INTO monitoring_flag ({subject}, exporter_id, kind, raised_at)
      SELECT id, exporter_id, '{kind}', %(now)s FROM due ORDER BY id
      ON CONFLICT DO NOTHING
      RETURNING id, {subject} AS subject, exporter_id
    ),
    ev_source AS (
      SELECT {source}
      FROM raised r JOIN due d ON d.id = r.subject
    ),
    {linked_insert("ev_source")}{alerts}
    SELECT (SELECT count(*) FROM raised), (SELECT count(*) FROM ev), {count_alerts}"""


def _clear(kind: str, *, table: str, subject: str, due: str, scope: str) -> str:
    source = flag_source(
        "flag_cleared",
        subject,
        subject_id="subject",
        moment="%(now)s",
        data=f"jsonb_build_object('flag', '{kind}', 'flag_id', id)",
        ord="id",
    )
    return f"""
    WITH cleared AS (
      UPDATE monitoring_flag f SET cleared_at = %(now)s
      FROM {table} s
      WHERE f.kind = '{kind}' AND f.cleared_at IS NULL AND f.{subject} = s.id
        AND ({scope}) AND NOT COALESCE(({due}), false)
      RETURNING f.id, f.{subject} AS subject
    ),
    ev_source AS (
      SELECT {source}
      FROM cleared
    ),
    {linked_insert("ev_source")}
    SELECT (SELECT count(*) FROM cleared), (SELECT count(*) FROM ev), 0"""


def _per_authority(pairs: list[tuple[int, str, Any]], column: str) -> str:
    parts = [f"(s.authority_id = {pk} AND s.{column} {op} %({name})s)" for pk, op, name in pairs]
    return " OR ".join(parts) or "false"


def scan_statements(th: Any, earlier: Any) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The floor's statements for the window (earlier.now, th.now], and their parameters."""
    now, lo = th.now, earlier.now
    params: dict[str, Any] = {
        "now": now,
        "lo": lo,
        "sweep": now
        + dt.timedelta(seconds=int(getattr(settings, "ALERT_SWEEP_AFTER_SECONDS", 120))),
        "domain": urlparse(settings.SITE_URL).hostname or "localhost",
        "officer": roles.OFFICER,
        "manager": roles.MANAGER,
        "admin": roles.ADMINISTRATOR,
    }
    before = {a.authority.pk: a for a in earlier.authorities}
    soon_due, soon_scope, exp_due, exp_scope, reply_scope = [], [], [], [], []
    for a in th.authorities:
        pk, b = a.authority.pk, before[a.authority.pk]
        params[f"soon{pk}"] = a.due_soon_until
        params[f"exp{pk}"] = a.expiring_until
        soon_due.append((pk, "<=", f"soon{pk}"))
        exp_due.append((pk, "<=", f"exp{pk}"))
        if a.due_soon_until != b.due_soon_until:
            low, high = sorted((a.due_soon_until, b.due_soon_until))
            params[f"soonlo{pk}"], params[f"soonhi{pk}"] = low, high
            soon_scope.append(
                f"(s.authority_id = {pk} AND s.due_at > %(soonlo{pk})s "
                f"AND s.due_at <= %(soonhi{pk})s)"
            )
            reply_scope.append(
                f"(s.authority_id = {pk} AND s.reply_due_at > %(soonlo{pk})s "
                f"AND s.reply_due_at <= %(soonhi{pk})s)"
            )
        if a.expiring_until != b.expiring_until:
            first, last = sorted((a.expiring_until, b.expiring_until))
            params[f"explo{pk}"], params[f"exphi{pk}"] = first, last
            exp_scope.append(
                f"(s.authority_id = {pk} AND s.valid_until > %(explo{pk})s "
                f"AND s.valid_until <= %(exphi{pk})s)"
            )
    app, ship = "licenses_licenseapplication", "shipments_shipment"
    ended = "s.due_at > %(lo)s AND s.due_at <= %(now)s"
    pending = f"s.status IN {PENDING}"  # the states of the partial index on due_at
    app_details = "jsonb_build_object('status', s.status, 'due_at', s.due_at)"
    kinds = {
        "overdue": dict(
            table=app,
            subject="application_id",
            due=f"s.status IN {PENDING} AND s.due_at <= %(now)s",
            scope=f"{pending} AND {ended}",
            details=app_details,
            alerting=True,
        ),
        "due_soon": dict(
            table=app,
            subject="application_id",
            due=f"s.status IN {PENDING} AND s.due_at > %(now)s "
            f"AND ({_per_authority(soon_due, 'due_at')})",
            scope=f"{pending} AND (" + " OR ".join([f"({ended})", *soon_scope]) + ")",
            details=app_details,
            alerting=False,
        ),
        "file_by": dict(
            table=ship,
            subject="shipment_id",
            due="s.status = 'planned' AND EXISTS (SELECT 1 FROM shipments_filingdeadline f "
            "WHERE f.shipment_id = s.id AND f.planned AND f.file_by_at <= %(now)s)",
            scope="s.status = 'planned' AND s.id IN (SELECT f.shipment_id "
            "FROM shipments_filingdeadline f "
            "WHERE f.planned AND f.file_by_at > %(lo)s AND f.file_by_at <= %(now)s)",
            details="jsonb_build_object('planned_ship_date', s.planned_ship_date, "
            "'file_by_date', (SELECT f.file_by_date FROM shipments_filingdeadline f "
            "WHERE f.shipment_id = s.id))",
            alerting=True,
        ),
    }
    if exp_scope:
        kinds["expiring"] = dict(
            table=app,
            subject="application_id",
            due=f"s.status = 'approved' AND ({_per_authority(exp_due, 'valid_until')}) "
            f"AND EXISTS (SELECT 1 FROM {ship} x WHERE x.application_id = s.id "
            f"AND x.status IN {TO_SHIP})",
            scope="s.status = 'approved' AND (" + " OR ".join(exp_scope) + ")",
            details="jsonb_build_object('valid_until', s.valid_until)",
            alerting=False,
        )
    if reply_scope:
        kinds["reply_due"] = dict(
            table=app,
            subject="application_id",
            due=f"s.status = 'info_requested' AND ({_per_authority(soon_due, 'reply_due_at')})",
            scope="s.status = 'info_requested' AND (" + " OR ".join(reply_scope) + ")",
            details="jsonb_build_object('status', s.status, 'reply_due_at', s.reply_due_at)",
            alerting=True,
        )
    statements = []
    for kind in ("overdue", "due_soon", "expiring", "reply_due", "file_by"):
        if kind in kinds:
            statements += raise_and_clear(kind, kinds[kind])
    return statements, params


def raise_and_clear(
    kind: str, spec: dict[str, Any], *, clear_unless: str | None = None
) -> list[tuple[str, str]]:
    """The raise and the clear statement of one kind. A flag is cleared unless its subject is
    due (`spec["due"]`) or `clear_unless` (e.g. due, or kept open) holds."""
    return [
        (f"{kind} raise", _raise(kind, **spec)),
        (
            f"{kind} clear",
            _clear(
                kind,
                table=spec["table"],
                subject=spec["subject"],
                due=clear_unless or spec["due"],
                scope=spec["scope"],
            ),
        ),
    ]


def run_scan_floor(statements: list[tuple[str, str]], params: dict[str, Any]) -> dict[str, list]:
    out = {}
    with connection.cursor() as cursor:
        for name, sql in statements:
            cursor.execute(sql, params)
            out[name] = list(cursor.fetchone())
    return out
