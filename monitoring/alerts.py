"""Alerts: rows first, e-mail second.

Raising a flag of a kind that alerts (`overdue`, `at_risk`, `file_by`, `reply_due`,
`control_change`, `license_expires`: `ALERTING_FLAGS`) writes one `Alert` row per recipient
in the transaction that raised it (`create_alerts`, the outbox) and queues its sending after
commit (`queue_after_commit`). Delivery is at least once, never repeats what is recorded as
sent, and a repeat that SMTP forces on us carries the same Message-ID:

1. `send_alert` claims the row with a compare-and-set (`state = pending AND attempts = <read>`,
   which bumps `attempts` and leases the row by moving `next_attempt_at` `lease()` ahead, five
   minutes), so a redelivered task, the sweep and a second worker never send it twice; a row
   already `sent` is left alone.
2. A row claimed before (a failed try due again, or a claim that outlived its lease: its worker
   died, or is still in the SMTP exchange) is sent only after a look at its attempts: one
   `sent` means the mail went out, so the alert is marked sent and nothing is sent again; one
   left `started` means the outcome is unknown, so it is sent again (at least once) under the
   same Message-ID, the new attempt marked as a resend.
3. It reads the flag again (`cause_holds`): if it has cleared, or its subject no longer meets
   the cause at the moment of sending (the scan's query of what is due), the alert is marked
   `skipped` with an attempt saying why, and never sent — it would say something untrue.
4. It writes the message from the state of its subject at that moment (`flag_context`,
   `explain`: what happened, why it matters, what to do next, with links), with a stable
   Message-ID derived from the alert's id and stored with the row, then writes and commits an
   `AlertAttempt` as `started` before the SMTP exchange begins: a worker killed during the
   exchange leaves it behind.
5. Success marks the attempt and the alert `sent`; a failure marks the attempt `failed` with
   the error and schedules the next try `ALERT_RETRY_BASE_SECONDS * 2**(n-1)` seconds later
   (capped at an hour); after `ALERT_MAX_ATTEMPTS` tries it is `failed` (kept, shown in the
   admin with every attempt).
6. `sweep` (periodic) sends every pending alert whose `next_attempt_at` has come: a new alert
   is due for the sweep `ALERT_SWEEP_AFTER_SECONDS` after it was written, so an alert whose
   task was never queued (the broker was down) still goes out; a failed try is due at its
   backoff; a lease that ran out (a worker died mid-send) makes the row due again (step 2).

What SMTP allows: the mail server's "250 OK" and our record of it cannot be one atomic step,
so a worker killed between them leaves a delivered mail recorded only as `started`. Such a
mail is sent again under the same Message-ID, by which a receiver can tell the repeat (many
mail systems fold such duplicates).

Queueing after commit never holds up a web request: a broker error is logged and swallowed
(the sweep sends later), and after one failure this process stops trying for a while.

Recipients: the exporter's compliance contacts, plus active users with an e-mail address who
watch that exporter and chose that kind — never a user whose exporter limit excludes it
(`licenses.selectors.visible_exporter_ids`). A user without saved preferences gets the
defaults of their role (`ROLE_DEFAULTS`): compliance officers get every kind that alerts
immediately for every exporter they may see; compliance managers get the daily
digest at 08:00 UTC for every exporter they may see; viewers and administrators get nothing
until they choose.

Digests (`send_digests`, hourly): each user due a digest gets one per local day at or after
their hour, listing every open flag of the exporters they watch and may see; the `Digest` row
(unique per user and local day) is inserted before sending, so a second run sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import ngettext

from licenses import roles
from licenses.calendars import WorkCalendar, count_days
from licenses.clock import amendment_window, calendar_for, local_date
from licenses.models import (
    PENDING_STATUSES,
    Authority,
    ClockPause,
    ClockStart,
    Exporter,
    LicenseApplication,
    Status,
    WindowUnit,
)
from licenses.selectors import visible_exporter_ids
from shipments.services.requirements import MeasureBook, shipment_measures

from .measure_changes import horizon_days, measure_changes_ahead
from .models import (
    ALERTING_FLAGS,
    Alert,
    AlertAttempt,
    AlertPreference,
    Digest,
    Flag,
    FlagKind,
)
from .selectors import flag_list

log = logging.getLogger(__name__)
User = get_user_model()

EARLY = dt.timedelta(seconds=2)  # a retry task may run this much before its time
BROKER_PAUSE_SECONDS = 30.0  # after a broker error, this process stops queueing for this long
SWEEP_LIMIT = 200  # alerts per sweep run
SWEEP_GIVE_UP_AFTER = 3  # consecutive failures (SMTP down): the rest wait for their backoff
DIGEST_LIMIT = 300  # flags listed in one digest; the rest are counted


def lease() -> dt.timedelta:
    """How long a claim holds an alert: longer than writing it and one SMTP conversation
    (EMAIL_TIMEOUT is 10 s). A claim older than this is taken to be dead."""
    return dt.timedelta(seconds=int(getattr(settings, "ALERT_LEASE_SECONDS", 300)))


def retry_base() -> int:
    return int(getattr(settings, "ALERT_RETRY_BASE_SECONDS", 60))


def max_attempts() -> int:
    return int(getattr(settings, "ALERT_MAX_ATTEMPTS", 10))


def sweep_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "ALERT_SWEEP_AFTER_SECONDS", 120)))


def backoff(attempt: int) -> dt.timedelta:
    """Delay before the next try after the `attempt`-th failed one: exponential, capped."""
    return dt.timedelta(seconds=min(retry_base() * 2 ** max(attempt - 1, 0), 3600))


# --- preferences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preference:
    """What a user gets: saved preferences, or the defaults of their role."""

    immediate_kinds: frozenset[str]
    watched: frozenset[int] | None  # None: every exporter the user may see
    digest: bool
    digest_hour: int = 8
    time_zone: str = "UTC"
    language: str = "en"


NOTHING = Preference(immediate_kinds=frozenset(), watched=frozenset(), digest=False)
ROLE_DEFAULTS: dict[str, Preference] = {
    roles.OFFICER: Preference(
        immediate_kinds=frozenset(ALERTING_FLAGS), watched=None, digest=False
    ),
    roles.MANAGER: Preference(immediate_kinds=frozenset(), watched=None, digest=True),
}


def default_preference(user: Any) -> Preference:
    """The defaults of a user's role (also the initial values of a preferences form)."""
    role = roles.role_of(user)
    return ROLE_DEFAULTS.get(role or "", NOTHING)


def _preferences(users: Iterable[Any]) -> dict[int, Preference]:
    """Effective preferences of many users in three queries."""
    users = list(users)
    saved = {
        p.user_id: p for p in AlertPreference.objects.filter(user__in=users).order_by("user_id")
    }
    watched: dict[int, set[int]] = defaultdict(set)
    through = AlertPreference.watched_exporters.through
    for pref_id, exporter_id in through.objects.filter(alertpreference__user__in=users).values_list(
        "alertpreference_id", "exporter_id"
    ):
        watched[pref_id].add(exporter_id)
    out = {}
    for user in users:
        pref = saved.get(user.pk)
        if pref is None:
            out[user.pk] = default_preference(user)
        else:
            out[user.pk] = Preference(
                immediate_kinds=frozenset(pref.immediate_kinds or []),
                watched=None if pref.watch_all else frozenset(watched[pref.pk]),
                digest=pref.digest,
                digest_hour=pref.digest_hour,
                time_zone=pref.time_zone,
                language=pref.language,
            )
    return out


def _active_users() -> list[Any]:
    return list(
        User.objects.filter(is_active=True)
        .exclude(email="")
        .select_related("profile")
        .prefetch_related("groups")
        .order_by("pk")
    )


# --- recipients and the outbox ---------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None = None


def _valid_address(address: Any) -> bool:
    try:
        validate_email(address)
    except (ValidationError, TypeError):
        return False
    return True


def recipients(*, exporter_ids: Iterable[int], kind: str) -> dict[int, list[Recipient]]:
    """Who gets an immediate alert of `kind` about each exporter: its compliance contacts, and
    the users who watch it, chose the kind and may see it. One entry per address."""
    exporter_ids = set(exporter_ids)
    out: dict[int, dict[str, Recipient]] = {pk: {} for pk in exporter_ids}
    for pk, contacts in Exporter.objects.filter(pk__in=exporter_ids).values_list(
        "pk", "contact_emails"
    ):
        for address in contacts or []:
            if _valid_address(address):
                out[pk].setdefault(address.strip().lower(), Recipient(address.strip()))
    users = _active_users()
    preferences = _preferences(users)
    for user in users:
        pref = preferences[user.pk]
        if kind not in pref.immediate_kinds:
            continue
        visible = visible_exporter_ids(user)
        for pk in exporter_ids:
            if pref.watched is not None and pk not in pref.watched:
                continue
            if visible is not None and pk not in visible:
                continue
            # A user's own entry wins over a bare contact address (it has a language).
            out[pk][user.email.strip().lower()] = Recipient(user.email.strip(), user.pk)
    return {pk: list(found.values()) for pk, found in out.items()}


def message_id(kind: str, pk: int) -> str:
    """A stable Message-ID: the same row always sends the same id."""
    domain = urlparse(settings.SITE_URL).hostname or "localhost"
    return f"<{kind}-{pk}@{domain}>"


def create_alerts(*, kind: str, flags: Sequence[tuple[int, int]], now: dt.datetime) -> list[int]:
    """Write the outbox rows of newly raised flags ((flag id, exporter id) pairs), one per
    recipient, in the caller's transaction. Returns the new alert ids."""
    if kind not in ALERTING_FLAGS or not flags:
        return []
    by_exporter = recipients(exporter_ids={e for _f, e in flags}, kind=kind)
    due_for_sweep = now + sweep_after()
    if connection.vendor == "postgresql":
        return _insert_alerts(flags, by_exporter, now=now, due_for_sweep=due_for_sweep)
    rows = [
        (flag_id, r.email, r.user_id)
        for flag_id, exporter_id in flags
        for r in by_exporter.get(exporter_id, [])
    ]
    if not rows:
        return []
    created = Alert.objects.bulk_create(
        Alert(
            flag_id=flag_id,
            recipient=email,
            user_id=user_id,
            state=Alert.State.PENDING,
            created_at=now,
            next_attempt_at=due_for_sweep,
        )
        for flag_id, email, user_id in rows
    )
    for alert in created:
        alert.message_id = message_id("alert", alert.pk)
    Alert.objects.bulk_update(created, ["message_id"])
    return [a.pk for a in created]


def _insert_alerts(
    flags: Sequence[tuple[int, int]],
    by_exporter: dict[int, list[Recipient]],
    *,
    now: dt.datetime,
    due_for_sweep: dt.datetime,
) -> list[int]:
    """PostgreSQL: one INSERT … SELECT joining the flags ((flag, exporter) pairs, as two
    arrays) with each exporter's recipients (one small JSON parameter), one row per flag and
    recipient in flag order then recipient order — the rows are made in SQL, not sent one by
    one (a scan can raise thousands of alerts). Each row takes its id from the sequence first
    so that its stable Message-ID (`message_id("alert", id)`) is written with the row, not by a
    second row-by-row UPDATE."""
    who = {
        str(pk): [[r.email, r.user_id] for r in found] for pk, found in by_exporter.items() if found
    }
    if not who:
        return []
    table = Alert._meta.db_table
    domain = urlparse(settings.SITE_URL).hostname or "localhost"
    sql = (
        "WITH f AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY "
        "AS t(flag_id, exporter_id, n)), "
        "r AS (SELECT x.key::bigint AS exporter_id, y.e->>0 AS recipient, "
        "(y.e->>1)::integer AS user_id, y.m FROM jsonb_each(%s::jsonb) AS x, "
        "jsonb_array_elements(x.value) WITH ORDINALITY AS y(e, m)), "
        # The sequence is looked up once (an InitPlan), not once per row.
        f"v AS (SELECT nextval((SELECT pg_get_serial_sequence('{table}', 'id'))::regclass) "
        "AS id, f.flag_id, r.recipient, r.user_id FROM f JOIN r ON r.exporter_id = f.exporter_id "
        "ORDER BY f.n, r.m) "
        f"INSERT INTO {table} (id, flag_id, recipient, user_id, state, created_at, sent_at, "
        "attempts, next_attempt_at, message_id) "
        "SELECT id, flag_id, recipient, user_id, %s, %s, NULL, 0, %s, "
        "'<alert-' || id || '@' || %s || '>' FROM v "
        "RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                [f for f, _e in flags],
                [e for _f, e in flags],
                json.dumps(who),
                Alert.State.PENDING,
                now,
                due_for_sweep,
                domain,
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


# --- queueing --------------------------------------------------------------------------------

# After a broker error this process leaves queueing to the sweep for a while, so that a web
# request never waits on a dead broker more than once (the connect timeout, 2 s).
_broker_paused_until = 0.0


def queue_after_commit(alert_ids: Sequence[int]) -> None:
    """Queue the sending of these alerts once the current transaction commits."""
    if alert_ids:
        transaction.on_commit(partial(publish, list(alert_ids)))


def publish(alert_ids: Sequence[int]) -> bool:
    """Queue one `send_alert` task per alert (see `publish_tasks`)."""
    from .tasks import send_alert

    return publish_tasks(send_alert, alert_ids, what="alert(s)")


def publish_tasks(task: Any, ids: Sequence[int], *, what: str) -> bool:
    """Queue `task` once per id. Never raises and never waits long: a broker error is logged,
    and this process then skips queueing (of anything) for BROKER_PAUSE_SECONDS — the sweep
    sends whatever was not queued."""
    global _broker_paused_until

    if time.monotonic() < _broker_paused_until:
        log.info("Broker recently unreachable; %d %s left to the sweep.", len(ids), what)
        return False
    try:
        for pk in ids:
            task.apply_async((pk,), retry=False)
    except Exception:
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning(
            "Could not queue %d %s; the sweep will send them.", len(ids), what, exc_info=True
        )
        return False
    return True


def schedule_retry(alert_id: int, delay: dt.timedelta) -> None:
    """Queue the next try of a failed send; if the broker is down the sweep finds it."""
    from .tasks import send_alert

    try:
        send_alert.apply_async((alert_id,), countdown=delay.total_seconds(), retry=False)
    except Exception:
        log.warning("Could not queue the retry of alert %s; the sweep will.", alert_id)


@dataclass(frozen=True)
class RetryResult:
    due: int  # made due at the next sweep
    sent: int  # refused: already sent (delivery never repeats what is recorded as sent)
    skipped: int  # refused: not sent because their flag cleared first (it would be untrue)


def alert_retry(*, alerts: QuerySet[Alert], now: dt.datetime) -> RetryResult:
    """Make the given failed or pending alerts due at the next sweep. Sent alerts are never
    sent again, and skipped ones (their flag cleared before sending) never sent at all."""
    with transaction.atomic():
        due = alerts.filter(state__in=[Alert.State.PENDING, Alert.State.FAILED]).update(
            state=Alert.State.PENDING, next_attempt_at=now
        )
        sent = alerts.filter(state=Alert.State.SENT).count()
        skipped = alerts.filter(state=Alert.State.SKIPPED).count()
    return RetryResult(due=due, sent=sent, skipped=skipped)


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    # "sent", "retry", "failed", "cleared" (not sent: its flag cleared first, marked skipped),
    # "delivered" (an earlier attempt, whose claim ran out, had sent it: marked sent, not sent
    # again) or "skipped" (not ours to send now: sent or given up already, leased, not due yet)
    state: str
    retry_in: dt.timedelta | None = None


SKIPPED = Outcome("skipped")
CLEARED = Outcome("cleared")
DELIVERED = Outcome("delivered")


@dataclass(frozen=True)
class EarlierAttempts:
    """What the earlier attempts of an alert or digest came to."""

    delivered_at: dt.datetime | None  # the first that was sent, if any
    unknown: bool  # one started and never finished: it may have been delivered


def earlier_attempts(**owner: Any) -> EarlierAttempts:
    """The attempts recorded for `alert=…` or `digest=…` so far, in one query."""
    rows = list(AlertAttempt.objects.filter(**owner).values_list("state", "at"))
    delivered = [at for state, at in rows if state == AlertAttempt.State.SENT]
    return EarlierAttempts(
        delivered_at=min(delivered) if delivered else None,
        unknown=any(state == AlertAttempt.State.STARTED for state, _at in rows),
    )


def start_attempt(*, now: dt.datetime, resend: bool, **owner: Any) -> AlertAttempt:
    """Write the attempt as `started` before the SMTP exchange begins, so that a worker killed
    during the exchange leaves the attempt behind (and the next claim knows the outcome is
    unknown). Sending runs in autocommit (the tasks and the commands call it outside any
    transaction), so the row is committed here; only the benchmark sends inside a transaction,
    which it rolls back."""
    return AlertAttempt.objects.create(
        at=now, state=AlertAttempt.State.STARTED, resend=resend, **owner
    )


def finish_attempt(attempt: AlertAttempt, *, error: str = "") -> None:
    """Record how a started attempt ended: sent, or failed with `error`."""
    AlertAttempt.objects.filter(pk=attempt.pk).update(
        state=AlertAttempt.State.FAILED if error else AlertAttempt.State.SENT,
        error=error[:4000],
    )


def _subject(flag: Flag) -> Any:
    return flag.application if flag.application_id else flag.shipment


def _local_due(due_at: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> dt.date | None:
    if due_at is None:
        return None
    return (due_at.astimezone(tz) - dt.timedelta(microseconds=1)).date()


def cause_holds(flag: Flag, *, now: dt.datetime) -> bool:
    """Whether an alert about `flag` would still say something true at `now`: the flag is open
    and its subject is still one the scan would flag for that kind (`scan.due`) — a move or a
    new due date may have taken the cause away before the scan cleared the flag."""
    # Imported here: the scan writes alerts (it imports this module).
    from .scan.due import due_queryset, kept_shipments
    from .scan.horizons import thresholds

    if flag.cleared_at is not None:
        return False
    subject_id = flag.application_id or flag.shipment_id
    assert subject_id is not None  # a flag has exactly one subject (flag_one_subject)
    # A worker whose clock runs a little behind the process that raised the flag must not
    # find its cause "not yet" true.
    now = max(now, flag.raised_at)
    if due_queryset(flag.kind, thresholds(now=now)).filter(pk=subject_id).exists():
        return True
    kept = kept_shipments(flag.kind) if flag.shipment_id else None
    return kept is not None and kept.filter(pk=subject_id).exists()


def days_text(n: int, unit: str) -> str:
    """ "45 working days", "1 calendar day", in the active language."""
    if unit == WindowUnit.WORKING:
        return ngettext("%(n)d working day", "%(n)d working days", n) % {"n": n}
    return ngettext("%(n)d calendar day", "%(n)d calendar days", n) % {"n": n}


class RenderCache:
    """What rendering many flags reads once: each authority's calendar, the measure book."""

    def __init__(self) -> None:
        self.calendars: dict[int, WorkCalendar] = {}
        self._book: MeasureBook | None = None

    def calendar(self, authority: Authority) -> WorkCalendar:
        if authority.pk not in self.calendars:
            self.calendars[authority.pk] = calendar_for(authority)
        return self.calendars[authority.pk]

    @property
    def book(self) -> MeasureBook:
        if self._book is None:
            self._book = MeasureBook.load()
        return self._book


def _site() -> str:
    return settings.SITE_URL.rstrip("/")


def _window(app: LicenseApplication) -> dict[str, Any]:
    """The window the application's due date ends: which one, from when, how long."""
    authority = app.authority
    tz = authority.tz
    if app.status == Status.AMENDMENT_REQUESTED:
        days, start_kind, started = (
            amendment_window(authority).days,
            "amendment",
            (app.amendment_requested_at),
        )
    elif authority.clock_starts == ClockStart.ACCEPTED and app.accepted_at is None:
        days, start_kind, started = (
            authority.acceptance_window_days,
            "acceptance",
            (app.submitted_at),
        )
    else:
        started = app.accepted_at if authority.clock_starts == ClockStart.ACCEPTED else None
        start_kind = "review"
        started = started or app.submitted_at
        days = app.window_days or authority.window_days
    return {
        "kind": start_kind,
        "days": days,
        "text": days_text(days, authority.window_unit),
        "started_on": local_date(started, tz) if started else None,
        "from_acceptance": start_kind == "review" and authority.clock_starts == ClockStart.ACCEPTED,
    }


def _app_state(app: LicenseApplication | None) -> str:
    """Where a shipment's application stands, as its e-mail's next step needs it."""
    if app is None:
        return "none"
    if app.status == Status.DRAFT:
        return "draft"
    if app.status in PENDING_STATUSES:
        return "pending"
    if app.status in (
        Status.APPROVED,
        Status.AMENDMENT_REQUESTED,
        Status.EXHAUSTED,
        Status.SUSPENDED,
    ):
        return "licensed"
    return "ended"  # rejected, withdrawn, returned, expired, revoked, surrendered


def flag_context(
    flag: Flag, *, now: dt.datetime, cache: RenderCache | None = None
) -> dict[str, Any]:
    """What an e-mail says about a flag at `now` (the moment it is sent), from the state of its
    subject then: the facts (dates, days late or left, the window) and the links to the pages
    where the work is done. Call it in the reader's language (day counts are words). Pass the
    same `cache` for many flags."""
    cache = cache if cache is not None else RenderCache()
    context: dict[str, Any] = {
        "flag": flag,
        "kind": flag.kind,
        "kind_label": FlagKind(flag.kind).label,
        "exporter": flag.exporter,
    }
    if flag.application_id:
        app = flag.application
        assert app is not None
        authority = app.authority
        today = local_date(now, authority.tz)
        due = _local_due(app.due_at, authority.tz)
        context.update(
            subject_type="application",
            reference=app.reference,
            url=f"{_site()}/applications/{app.pk}/",
            application=app,
            authority=authority,
            due_date=due,
            valid_until=app.valid_until,
            today=today,
            window=_window(app),
            late_days=(today - due).days if due and today > due else 0,
            left_days=(due - today).days if due and due >= today else None,
            left_until_expiry=(app.valid_until - today).days if app.valid_until else None,
        )
        if flag.kind == FlagKind.REPLY_DUE:
            context["reply"] = reply_context(app, today=today)
    else:
        shipment = flag.shipment
        assert shipment is not None
        app = shipment.application
        authority = shipment.item.authority
        today = local_date(now, authority.tz)
        ship = shipment.planned_ship_date
        due = _local_due(app.due_at, app.authority.tz) if app else None
        last = shipment.file_by_date
        context.update(
            subject_type="shipment",
            app_state=_app_state(app),
            reference=shipment.reference,
            url=f"{_site()}/shipments/{shipment.pk}/",
            app_url=f"{_site()}/applications/{app.pk}/" if app else "",
            shipment=shipment,
            application=app,
            authority=app.authority if app else authority,
            planned_ship_date=ship,
            file_by_date=last,
            due_date=due,
            today=today,
            window=_window(app) if app and app.status != Status.DRAFT else None,
            # at_risk: how long after the ship date the decision may come
            due_after_ship_days=(due - ship).days if due and due > ship else 0,
            # file_by: what the authority needs, counted back from the ship date; days since
            needed=days_text(
                count_days(
                    calendar=cache.calendar(authority),
                    start=last,
                    end=ship,
                    unit=authority.window_unit,
                ),
                authority.window_unit,
            )
            if last and last < ship
            else "",
            file_by_passed_days=(today - last).days if last and today > last else 0,
            file_by_left_days=(last - today).days if last and last >= today else None,
            # license_expires: how long before the ship date the license ends
            license_gap_days=((ship - app.valid_until).days if app and app.valid_until else 0),
        )
        if flag.kind == FlagKind.CONTROL_CHANGE:
            context["measures"] = shipment_measures([shipment], cache.book)[shipment.pk]
    return context


def reply_context(
    app: LicenseApplication, *, today: dt.date, cache: RenderCache | None = None
) -> dict[str, Any] | None:
    """What a `reply_due` e-mail says: the day the authority asked for information, the day
    the reply is due, and how many days (in the reply window's unit) are left on `today`, or
    that it is late. None when no request is open any more."""
    if app.status != Status.INFO_REQUESTED or app.reply_due_at is None:
        return None
    authority = app.authority
    tz = authority.tz
    requested = (
        ClockPause.objects.filter(application=app, provided_at__isnull=True)
        .values_list("requested_at", flat=True)
        .first()
    )
    due = _local_due(app.reply_due_at, tz)
    assert due is not None
    late = today > due
    left = 0
    if not late:
        calendar = (cache or RenderCache()).calendar(authority)
        left = count_days(calendar=calendar, start=today, end=due, unit=authority.reply_window_unit)
    return {
        "requested_on": local_date(requested, tz) if requested else None,
        "due_on": due,
        "days_left": left,
        "late": late,
        "late_days": (today - due).days if late else 0,
        "working": authority.reply_window_unit == "working",
        "window": days_text(authority.reply_window_days, authority.reply_window_unit)
        if authority.reply_window_days
        else "",
    }


# Sentences run on after these marks with no space in Chinese.
_CJK_PUNCTUATION_SPACE = re.compile(r"(?<=[\u3000-\u303f\uff00-\uffef])\s+|\s+(?=[\uff08\uff09])")


def _sentences(template: str, context: dict[str, Any]) -> str:
    """A part of an e-mail rendered as one paragraph: the template's line breaks (it is laid
    out to be read) become single spaces, and none is left after Chinese punctuation."""
    text = " ".join(render_to_string(template, context).split())
    return _CJK_PUNCTUATION_SPACE.sub("", text)


def explain(context: dict[str, Any]) -> dict[str, str]:
    """The three paragraphs of a flag's e-mail, in the active language: what happened, why it
    matters, what to do next (`templates/email/parts/`)."""
    c = {"c": context}
    return {
        "what": _sentences("email/parts/what.txt", c),
        "why": _sentences("email/parts/why.txt", c),
        "next_step": _sentences("email/parts/next.txt", c),
    }


def _render(template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    with translation.override(language):
        subject = render_to_string(f"email/{template}_subject.txt", context)
        text = render_to_string(f"email/{template}.txt", context)
        html = render_to_string(f"email/{template}.html", context)
    return " ".join(subject.split()), text, html


def render_flag(flag: Flag, *, now: dt.datetime, language: str) -> tuple[str, str, str]:
    """The subject, text and HTML of the e-mail about `flag` as it reads at `now`."""
    with translation.override(language):
        context = flag_context(flag, now=now)
        context.update(explain(context))
        return _render("alert", context, language)


def _message(*, subject: str, text: str, html: str, to: str, msg_id: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": msg_id,
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _flag(pk: int) -> Flag:
    return Flag.objects.select_related(
        "exporter",
        "application__authority",
        "shipment__item__authority",
        "shipment__application__authority",
    ).get(pk=pk)


def alert_language(alert: Alert) -> str:
    """The recipient's language: their saved preference, else the site's."""
    language = settings.LANGUAGE_CODE
    if alert.user_id:
        saved = AlertPreference.objects.filter(user_id=alert.user_id).first()
        if saved is not None:
            language = saved.language or language
    return language


def alert_message(
    alert: Alert, *, now: dt.datetime, flag: Flag | None = None
) -> EmailMultiAlternatives:
    """The e-mail of an alert, written from the state of its subject at `now`."""
    flag = flag or _flag(alert.flag_id)
    subject, text, html = render_flag(flag, now=now, language=alert_language(alert))
    return _message(
        subject=subject,
        text=text,
        html=html,
        to=alert.recipient,
        msg_id=alert.message_id or message_id("alert", alert.pk),
    )


def _ineligible(alert: Alert) -> str:
    """A user recipient who may no longer receive it (deactivated, limited since)."""
    if not alert.user_id:
        return ""
    user = User.objects.filter(pk=alert.user_id).first()
    if user is None or not user.is_active:
        return "The recipient's account is no longer active."
    visible = visible_exporter_ids(user)
    exporter_id = Flag.objects.filter(pk=alert.flag_id).values_list("exporter_id", flat=True)[0]
    if visible is not None and exporter_id not in visible:
        return "The recipient may no longer see this exporter."
    return ""


def _why_not_sent(flag: Flag) -> str:
    """The outbox's note on an alert whose flag cleared, or lost its cause, before sending."""
    if flag.cleared_at is not None:
        return f"Not sent: its flag cleared first (at {flag.cleared_at.isoformat()})."
    return f"Not sent: its {flag.kind} flag no longer holds (the scan will clear it)."


def send_alert(alert_id: int, *, now: dt.datetime) -> Outcome:
    """Claim, check, send and record one alert (see the module docstring)."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None or alert.state != Alert.State.PENDING:
        return SKIPPED  # sent, given up or cleared already: never again
    if alert.attempts and alert.next_attempt_at and alert.next_attempt_at > now + EARLY:
        return SKIPPED  # being sent by someone else (leased), or its retry is not due yet
    claimed = Alert.objects.filter(
        pk=alert.pk, state=Alert.State.PENDING, attempts=alert.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease())
    if claimed != 1:
        return SKIPPED
    attempt = alert.attempts + 1
    resend = False
    if alert.attempts:
        # An earlier claim: failed and due again, or one that outlived its lease (its worker
        # died, or is still in the SMTP exchange). Send only if no attempt completed.
        earlier = earlier_attempts(alert=alert)
        if earlier.delivered_at is not None:
            _record_delivered(alert, at=earlier.delivered_at)
            return DELIVERED
        resend = earlier.unknown
    problem = _ineligible(alert)
    if problem:
        with transaction.atomic():
            Alert.objects.filter(pk=alert.pk).update(state=Alert.State.FAILED, next_attempt_at=None)
            AlertAttempt.objects.create(
                alert=alert, at=now, state=AlertAttempt.State.FAILED, error=problem
            )
        return Outcome("failed")
    try:
        flag = _flag(alert.flag_id)
        if not cause_holds(flag, now=now):
            # It would say something no longer true: kept in the outbox as skipped, never
            # retried (a new flag, if the cause comes back, alerts afresh).
            with transaction.atomic():
                Alert.objects.filter(pk=alert.pk, state=Alert.State.PENDING).update(
                    state=Alert.State.SKIPPED, next_attempt_at=None
                )
                AlertAttempt.objects.create(
                    alert=alert, at=now, state=AlertAttempt.State.SKIPPED, error=_why_not_sent(flag)
                )
            return CLEARED
        message = alert_message(alert, now=now, flag=flag)
    except Exception as exc:
        return _record_failure(alert, attempt, now=now, error=f"{type(exc).__name__}: {exc}")
    started = start_attempt(alert=alert, now=now, resend=resend)
    if resend:
        log.warning(
            "Alert %s to %s: an earlier attempt was cut off mid-send; sending again under the "
            "same Message-ID %s.",
            alert.pk,
            alert.recipient,
            message.extra_headers["Message-ID"],
        )
    try:
        message.send()
    except Exception as exc:
        return _record_failure(
            alert, attempt, now=now, error=f"{type(exc).__name__}: {exc}", started=started
        )
    with transaction.atomic():
        finish_attempt(started)
        Alert.objects.filter(pk=alert.pk).update(
            state=Alert.State.SENT, sent_at=now, next_attempt_at=None
        )
        Flag.objects.filter(pk=alert.flag_id, notified_at__isnull=True).update(notified_at=now)
    return Outcome("sent")


def _record_delivered(alert: Alert, *, at: dt.datetime) -> None:
    """An earlier attempt sent the alert, but its worker stopped before marking the alert
    sent: mark it now, as of that attempt, and send nothing."""
    with transaction.atomic():
        Alert.objects.filter(pk=alert.pk, state=Alert.State.PENDING).update(
            state=Alert.State.SENT, sent_at=at, next_attempt_at=None
        )
        Flag.objects.filter(pk=alert.flag_id, notified_at__isnull=True).update(notified_at=at)
    log.info("Alert %s to %s was sent at %s; not sent again.", alert.pk, alert.recipient, at)


def _record_failure(
    alert: Alert,
    attempt: int,
    *,
    now: dt.datetime,
    error: str,
    started: AlertAttempt | None = None,
) -> Outcome:
    """Record a failed try (finishing `started`, when the SMTP exchange had begun) and, while
    the claim is still this one (`attempts` unchanged: a worker whose lease ran out leaves the
    alert to the one that claimed it since), schedule the next try or give up."""
    give_up = attempt >= max_attempts()
    delay = None if give_up else backoff(attempt)
    with transaction.atomic():
        still_ours = Alert.objects.filter(
            pk=alert.pk, state=Alert.State.PENDING, attempts=attempt
        ).update(
            state=Alert.State.FAILED if give_up else Alert.State.PENDING,
            next_attempt_at=None if delay is None else now + delay,
        )
        if started is not None:
            finish_attempt(started, error=error)
        else:
            AlertAttempt.objects.create(
                alert=alert, at=now, state=AlertAttempt.State.FAILED, error=error[:4000]
            )
    if not still_ours:
        log.warning(
            "Alert %s: attempt %d failed (%s) after its claim ran out.", alert.pk, attempt, error
        )
        return Outcome("retry")
    log.warning(
        "Alert %s to %s: attempt %d failed (%s); %s",
        alert.pk,
        alert.recipient,
        attempt,
        error,
        "giving up" if give_up else f"next try in {delay}",
    )
    return Outcome("failed") if give_up else Outcome("retry", delay)


@dataclass
class SweepResult:
    sent: int = 0
    failed: int = 0
    cleared: int = 0  # not sent: their flag cleared first (marked skipped)
    delivered: int = 0  # not sent again: an earlier attempt, whose claim ran out, had sent it
    digests: int = 0
    password_resets: int = 0  # reset e-mails whose task was never queued, or retried

    def summary(self) -> str:
        return (
            f"{self.sent} alert(s) sent, {self.failed} failed, {self.cleared} skipped "
            f"(cleared first), {self.delivered} found sent by an earlier attempt, "
            f"{self.digests} digest(s) sent, {self.password_resets} password reset(s) sent"
        )


def sweep(*, now: dt.datetime, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Send the pending alerts whose time has come (index `alert_unsent`), retry the digests
    of the day that failed, and handle the password-reset requests still pending."""
    # Imported here: the password-reset module queues its tasks through this one.
    from .password_reset import password_reset_sweep

    result = SweepResult()
    due = list(
        Alert.objects.filter(state=Alert.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    failures_in_a_row = 0
    for pk in due:
        outcome = send_alert(pk, now=now)
        if outcome.state == "sent":
            result.sent += 1
            failures_in_a_row = 0
        elif outcome.state == "cleared":
            result.cleared += 1
        elif outcome.state == "delivered":
            result.delivered += 1
        elif outcome.state in ("retry", "failed"):
            result.failed += 1
            failures_in_a_row += 1
            if failures_in_a_row >= SWEEP_GIVE_UP_AFTER:
                break  # the mail server is down: the rest wait for their own backoff
    result.digests = retry_digests(now=now)
    result.password_resets = password_reset_sweep(now=now, limit=limit)
    return result


# --- digests ---------------------------------------------------------------------------------


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def digest_flags(user: Any, preference: Preference) -> QuerySet[Flag]:
    """Every open flag of the exporters the user watches and may see, in the digest's order."""
    qs = flag_list(user=user).filter(cleared_at__isnull=True)
    if preference.watched is not None:
        qs = qs.filter(exporter_id__in=preference.watched)
    return qs.order_by("exporter__name", "kind", "raised_at", "pk")


def digest_message(
    digest: Digest, user: Any, preference: Preference, *, now: dt.datetime
) -> EmailMultiAlternatives:
    """The user's digest, written from the state of each flag's subject at `now`."""
    # Only the flags it lists are loaded (and counted in SQL): a user who watches large
    # exporters may have hundreds of thousands open, and the digest job must not hold them.
    open_flags = digest_flags(user, preference)
    count = open_flags.count()
    listed = open_flags.select_related(
        "exporter",
        "application__authority",
        "shipment__item__authority",
        "shipment__application__authority",
    )[:DIGEST_LIMIT]
    language = preference.language or "en"
    by_exporter: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    cache = RenderCache()
    with translation.override(language):
        for flag in listed:
            context = flag_context(flag, now=now, cache=cache)
            context.update(explain(context))
            by_exporter[flag.exporter].append(context)
    # The exporters the reader watches and may see (None: all).
    exporter_ids: set[int] | None = None
    for limit in (visible_exporter_ids(user), preference.watched):
        if limit is not None:
            exporter_ids = set(limit) if exporter_ids is None else exporter_ids & set(limit)
    context = {
        "user": user,
        "local_date": digest.local_date,
        "measure_changes": measure_changes_ahead(
            today=digest.local_date, exporter_ids=exporter_ids
        ),
        "measure_horizon_days": horizon_days(),
        "count": count,
        "more": max(count - DIGEST_LIMIT, 0),
        "exporters": [
            {"exporter": exporter, "flags": items} for exporter, items in by_exporter.items()
        ],
        "site_url": _site(),
    }
    subject, text, html = _render("digest", context, language)
    return _message(
        subject=subject,
        text=text,
        html=html,
        to=user.email,
        msg_id=digest.message_id or message_id("digest", digest.pk),
    )


def _deliver_digest(digest: Digest, user: Any, preference: Preference, *, now: dt.datetime) -> bool:
    """Claim (compare-and-set on `attempts`), send and record one digest, as an alert is: the
    attempt is committed as started before the SMTP exchange, and a digest that an earlier
    attempt sent is marked sent, not sent again."""
    claimed = Digest.objects.filter(
        pk=digest.pk, sent_at__isnull=True, attempts=digest.attempts
    ).update(attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    resend = False
    if digest.attempts:
        earlier = earlier_attempts(digest=digest)
        if earlier.delivered_at is not None:
            Digest.objects.filter(pk=digest.pk, sent_at__isnull=True).update(
                sent_at=earlier.delivered_at
            )
            return False
        resend = earlier.unknown
    try:
        message = digest_message(digest, user, preference, now=now)
    except Exception as exc:
        AlertAttempt.objects.create(
            digest=digest,
            at=now,
            state=AlertAttempt.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
        )
        log.warning("Digest %s to %s could not be written: %s", digest.pk, user.email, exc)
        return False
    started = start_attempt(digest=digest, now=now, resend=resend)
    try:
        message.send()
    except Exception as exc:
        finish_attempt(started, error=f"{type(exc).__name__}: {exc}")
        log.warning("Digest %s to %s failed: %s", digest.pk, user.email, exc)
        return False
    with transaction.atomic():
        Digest.objects.filter(pk=digest.pk).update(sent_at=now)
        finish_attempt(started)
    return True


def send_digests(*, now: dt.datetime) -> int:
    """Send each user due a digest their one digest of the local day (the hourly job)."""
    users = _active_users()
    preferences = _preferences(users)
    sent = 0
    for user in users:
        preference = preferences[user.pk]
        if not preference.digest:
            continue
        local = now.astimezone(_zone(preference.time_zone))
        if local.hour < preference.digest_hour:
            continue
        try:
            with transaction.atomic():
                digest = Digest.objects.create(
                    user=user, local_date=local.date(), created_at=now, message_id=""
                )
        except IntegrityError:
            continue  # this user's digest of the day exists: sent, or being sent
        digest.message_id = message_id("digest", digest.pk)
        Digest.objects.filter(pk=digest.pk).update(message_id=digest.message_id)
        sent += _deliver_digest(digest, user, preference, now=now)
    return sent


def retry_digests(*, now: dt.datetime) -> int:
    """Send again the digests of the last day that failed, each after its backoff."""
    pending = (
        Digest.objects.filter(
            sent_at__isnull=True,
            attempts__lt=max_attempts(),
            created_at__gte=now - dt.timedelta(days=1),
        )
        .filter(Q(created_at__lte=now - sweep_after()) | Q(attempts__gt=0))
        .annotate(
            last_try=Max("attempt_log__at"),
            last_started=Max(
                "attempt_log__at", filter=Q(attempt_log__state=AlertAttempt.State.STARTED)
            ),
        )
        .select_related("user")
    )
    sent = 0
    for digest in pending:
        if digest.last_try is None:
            # Never tried (its run died before sending), or being sent right now: wait out
            # the lease before trying it here.
            if digest.attempts and digest.created_at + lease() > now:
                continue
        elif digest.last_started == digest.last_try:
            # The latest attempt never finished: still in its SMTP exchange, or cut off there
            # (then the outcome is unknown, and it is sent again once the lease has run out).
            if digest.last_try + lease() > now:
                continue
        elif digest.last_try + backoff(digest.attempts) > now:
            continue
        user = digest.user
        if not user.is_active or not user.email:
            continue
        preference = _preferences([user])[user.pk]
        sent += _deliver_digest(digest, user, preference, now=now)
    return sent
