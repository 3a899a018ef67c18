"""Webhooks: rows first, HTTP second — the same outbox as e-mail alerts.

Queueing (in the transaction of the change, never after it):

1. Every event the one event writer inserts (`licenses.events`) passes the webhook sink
   (`WebhookSink`, registered in MonitoringConfig.ready). On PostgreSQL the sink is a CTE in the
   very statement that inserts the events — one row or a fast-track pass's hundred thousand —
   which maps each event to its webhook type (`TYPE_SQL`), finds its exporter, and inserts one
   `WebhookDelivery` per matching active webhook: the owner active and allowed to see that
   exporter (`licenses.selectors.visible_exporter_ids`, in SQL), the webhook's `events` and
   `exporters` filters met. The statement is gated by `EXISTS (an active webhook)`, evaluated
   once: with no webhook the product pays one index probe per statement and no extra query.
   Elsewhere (SQLite) the same is done in Python after the write.
2. A measure recorded or edited (`licenses.signals.measure_recorded`) makes a `measure.changed`
   delivery for every active webhook whose events include it (measures are shared reference
   data: every owner may see them; the exporters filter does not apply).
3. After commit, `kick` queues one `monitoring.send_webhooks` task (only when this process has
   seen an active webhook lately, `webhooks_exist`), which sends what is due; the periodic
   sweep (`WEBHOOK_SWEEP_INTERVAL_SECONDS`) sends whatever a lost task left behind. A delivery
   is due from the moment its event was recorded.

Sending (`send`), at least once:

1. Claim the row with a compare-and-set (`state = pending AND attempts = <read>`), which bumps
   `attempts` and leases it (`next_attempt_at` moves `lease()` ahead): two workers, a
   redelivered task and the sweep never POST the same delivery at once.
2. Check the scope again: the webhook still active, its owner active, still a manager or an
   administrator (`monitoring.view_webhook`) and still allowed to see the object's exporter,
   the filters still met. If not, the delivery is `skipped`, with an attempt saying why.
3. On the first attempt, freeze the body: `{"id", "type", "occurred_at", "data"}` where `data`
   is the object as the API shows it to the owner at that moment (moves add `from_status` and
   `to_status`, from the event). Every retry and redelivery sends these same bytes.
4. POST it with `X-Tracker-Delivery` (the delivery's id, also the body's `id`) and
   `X-Tracker-Signature: sha256=<HMAC-SHA256 of the body with the secret>`. A 2xx answer within
   `WEBHOOK_TIMEOUT_SECONDS` (10) is delivered; anything else (another status, a redirect, a
   timeout, a refused connection) is a failed attempt, kept with its status code, error and
   duration, and tried again after `WEBHOOK_RETRY_BASE_SECONDS * 2**(n-1)` (capped at an hour)
   until `WEBHOOK_RETRY_HOURS` (24) after the event was recorded; then it is `failed`.

A worker killed between the receiver's 2xx and our record of it leaves the row leased; when the
lease runs out it is sent again with the same id — hence "at least once", and receivers
de-duplicate by `X-Tracker-Delivery`. Deliveries are independent: no order holds between them
(a retry of an older event may arrive after a newer one); use `occurred_at` and the object's
state in `data`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import (
    Event,
    EventKind,
    Exporter,
    LicenseApplication,
    MeasureChange,
    UserProfile,
)
from licenses.selectors import visible_exporter_ids
from shipments.models import Shipment

from .models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent

log = logging.getLogger(__name__)

SWEEP_LIMIT = 200  # deliveries per sweep run
EARLY = dt.timedelta(seconds=2)  # a task may run this much before a retry is due
USER_AGENT = "export-license-tracker-webhooks/1"


# --- settings --------------------------------------------------------------------------------


def timeout() -> float:
    """How long a receiver has to answer 2xx (WEBHOOK_TIMEOUT_SECONDS, default 10)."""
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def retry_base() -> int:
    return int(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30))


def retry_window() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "WEBHOOK_RETRY_HOURS", 24)))


def lease() -> dt.timedelta:
    """How long a claim holds a delivery: well past one POST (its timeout)."""
    return dt.timedelta(
        seconds=max(int(getattr(settings, "WEBHOOK_LEASE_SECONDS", 60)), int(timeout()) + 5)
    )


def backoff(attempt: int) -> dt.timedelta:
    """Delay before the next try after the `attempt`-th failed one: exponential, capped."""
    return dt.timedelta(seconds=min(retry_base() * 2 ** max(attempt - 1, 0), 3600))


# --- the webhook itself ----------------------------------------------------------------------

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SECRET_MIN, SECRET_MAX = 16, 128


def validate_url(url: str) -> None:
    """https anywhere, or http to this machine only (a receiver under test)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a bad port raises)
    except ValueError as exc:
        raise ValidationError(_("Enter a valid URL.")) from exc
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return
    raise ValidationError(_("Use an https:// URL (http:// only to localhost, 127.0.0.1 or [::1])."))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """The `X-Tracker-Signature` of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Whether this process has seen an active webhook lately: the after-commit kick is skipped
# otherwise (the sweep still sends anything queued meanwhile, since queueing itself is SQL).
_EXISTS_TTL = 30.0
_exists_cache: tuple[float, bool] | None = None


def forget_exists() -> None:
    global _exists_cache
    _exists_cache = None


def webhooks_exist() -> bool:
    global _exists_cache
    now = time.monotonic()
    if _exists_cache is None or _exists_cache[0] < now:
        _exists_cache = (now + _EXISTS_TTL, Webhook.objects.filter(active=True).exists())
    return _exists_cache[1]


# --- queueing --------------------------------------------------------------------------------

MOVE_TYPES = (WebhookEvent.APPLICATION_MOVED, WebhookEvent.SHIPMENT_MOVED)
DUE_KINDS = (
    EventKind.DUE_DATE_CHANGED,
    EventKind.FAST_TRACK_APPLIED,
    EventKind.FAST_TRACK_REMOVED,
)


def type_of(kind: str, *, shipment_id: int | None, from_status: str, to_status: str) -> str | None:
    """The webhook type of an event (None: none). A change of state (a move, a correction
    that undoes or re-dates one, a shipment following its application) is `*.moved`."""
    if kind == EventKind.FLAG_RAISED:
        return WebhookEvent.FLAG_RAISED
    if kind == EventKind.FLAG_CLEARED:
        return WebhookEvent.FLAG_CLEARED
    if kind in DUE_KINDS:
        return WebhookEvent.DUE_DATE_CHANGED
    if from_status and to_status and from_status != to_status:
        if shipment_id is not None:
            return WebhookEvent.SHIPMENT_MOVED
        return WebhookEvent.APPLICATION_MOVED
    return None


TYPE_SQL = f"""CASE
    WHEN e.kind = '{EventKind.FLAG_RAISED}' THEN '{WebhookEvent.FLAG_RAISED}'
    WHEN e.kind = '{EventKind.FLAG_CLEARED}' THEN '{WebhookEvent.FLAG_CLEARED}'
    WHEN e.kind IN ({", ".join(f"'{k}'" for k in DUE_KINDS)})
        THEN '{WebhookEvent.DUE_DATE_CHANGED}'
    WHEN e.from_status <> '' AND e.to_status <> '' AND e.from_status <> e.to_status THEN
        CASE WHEN e.shipment_id IS NOT NULL THEN '{WebhookEvent.SHIPMENT_MOVED}'
             ELSE '{WebhookEvent.APPLICATION_MOVED}' END
END"""


def _sink_sql(source: str) -> str:
    # Each event's exporter is looked up by primary key (a scalar subquery, never a join that
    # the planner could turn into a read of the whole shipments or applications table).
    user = get_user_model()._meta.db_table
    chosen = Webhook.exporters.through._meta.db_table
    limited = UserProfile.exporters.through._meta.db_table
    return f"""wh_deliveries AS (
    INSERT INTO {WebhookDelivery._meta.db_table} (id, webhook_id, type, event_id,
        measure_change_id, occurred_at, created_at, state, attempts, next_attempt_at,
        delivered_at, body, manual)
    SELECT gen_random_uuid(), w.id, t.type, t.id, NULL, t.occurred_at, t.recorded_at,
           '{WebhookDelivery.State.PENDING}', 0, t.recorded_at, NULL, '', false
    FROM (
        SELECT e.id, e.occurred_at, e.recorded_at, {TYPE_SQL} AS type,
               COALESCE(
                   (SELECT s.exporter_id FROM {Shipment._meta.db_table} s
                     WHERE s.id = e.shipment_id),
                   (SELECT a.exporter_id FROM {LicenseApplication._meta.db_table} a
                     WHERE a.id = e.application_id)
               ) AS exporter_id
        FROM {source} e
        WHERE EXISTS (SELECT 1 FROM {Webhook._meta.db_table} WHERE active)
    ) t
    JOIN {Webhook._meta.db_table} w
      ON w.active AND (jsonb_array_length(w.events) = 0 OR w.events ? t.type)
    JOIN {user} u ON u.id = w.owner_id AND u.is_active
    LEFT JOIN {UserProfile._meta.db_table} p ON p.user_id = u.id
    WHERE t.type IS NOT NULL AND t.exporter_id IS NOT NULL
      AND (u.is_superuser OR p.id IS NULL OR NOT p.limited_to_exporters
           OR EXISTS (SELECT 1 FROM {limited} pe
                      WHERE pe.userprofile_id = p.id AND pe.exporter_id = t.exporter_id))
      AND (NOT EXISTS (SELECT 1 FROM {chosen} we WHERE we.webhook_id = w.id)
           OR EXISTS (SELECT 1 FROM {chosen} we
                      WHERE we.webhook_id = w.id AND we.exporter_id = t.exporter_id))
    ON CONFLICT DO NOTHING
)"""


class WebhookSink:
    """Hung on the event writer (`licenses.events.register_sink`)."""

    def sql(self, source: str) -> str:
        return _sink_sql(source)

    def written(self, event_ids: Sequence[int] | None) -> None:
        if event_ids:
            queue_events(event_ids)
        kick_after_commit()


def _may_see(owner: Any, exporter_id: int | None) -> bool:
    ids = visible_exporter_ids(owner)
    return ids is None or exporter_id in ids


def _matches(webhook: Webhook, type_: str, exporter_id: int | None, chosen: set[int]) -> bool:
    if webhook.events and type_ not in webhook.events:
        return False
    if type_ == WebhookEvent.MEASURE_CHANGED:
        return True
    return _may_see(webhook.owner, exporter_id) and (not chosen or exporter_id in chosen)


def queue_events(event_ids: Sequence[int]) -> int:
    """Where the sink's SQL is not used (SQLite): the same, in Python. Returns how many."""
    hooks = list(
        Webhook.objects.filter(active=True, owner__is_active=True)
        .select_related("owner")
        .prefetch_related("exporters")
    )
    if not hooks:
        return 0
    chosen = {w.pk: {e.pk for e in w.exporters.all()} for w in hooks}
    rows = []
    for e in Event.objects.filter(pk__in=list(event_ids)).select_related("application", "shipment"):
        type_ = type_of(
            e.kind, shipment_id=e.shipment_id, from_status=e.from_status, to_status=e.to_status
        )
        if type_ is None:
            continue
        subject = e.shipment or e.application
        exporter_id = getattr(subject, "exporter_id", None)
        if exporter_id is None:
            continue
        for w in hooks:
            if _matches(w, type_, exporter_id, chosen[w.pk]):
                rows.append(
                    WebhookDelivery(
                        id=uuid.uuid4(),
                        webhook=w,
                        type=type_,
                        event=e,
                        occurred_at=e.occurred_at,
                        created_at=e.recorded_at,
                        next_attempt_at=e.recorded_at,
                    )
                )
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def queue_measure_change(change: MeasureChange, *, now: dt.datetime) -> int:
    """One `measure.changed` delivery per active webhook that wants it, in the caller's
    transaction; the sending is kicked after commit."""
    hooks = Webhook.objects.filter(active=True, owner__is_active=True)
    rows = [
        WebhookDelivery(
            id=uuid.uuid4(),
            webhook=w,
            type=WebhookEvent.MEASURE_CHANGED,
            measure_change=change,
            occurred_at=change.changed_at,
            created_at=now,
            next_attempt_at=now,
        )
        for w in hooks
        if not w.events or WebhookEvent.MEASURE_CHANGED in w.events
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        kick_after_commit()
    return len(rows)


def _kick() -> None:
    if webhooks_exist():
        publish()


def kick_after_commit() -> None:
    """Queue one sending task once the current transaction commits (once per transaction)."""
    if connection.in_atomic_block and any(entry[1] is _kick for entry in connection.run_on_commit):
        return
    transaction.on_commit(_kick, robust=True)


def publish() -> bool:
    from .alerts import publish_tasks
    from .tasks import send_webhooks

    return publish_tasks(_NoArgTask(send_webhooks), [0], what="webhook kick")


@dataclass(frozen=True)
class _NoArgTask:
    """`publish_tasks` queues `task(pk)`; the sending task takes no argument."""

    task: Any

    def apply_async(self, args: Any, **kwargs: Any) -> Any:
        return self.task.apply_async((), **kwargs)


# --- the payload -----------------------------------------------------------------------------


def _view_queryset(view_class: Any, owner: Any) -> Any:
    view = view_class()
    view.request = SimpleNamespace(user=owner)
    view.action = "retrieve"
    return view.get_queryset()


def _serialize(serializer_class: Any, instance: Any, now: dt.datetime) -> dict[str, Any]:
    with timezone.override(dt.UTC):
        data = serializer_class(instance, context={"request": None, "now": now, "view": None}).data
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


class OutOfScope(Exception):
    """The owner may no longer see what this delivery is about."""


def build_data(delivery: WebhookDelivery, *, now: dt.datetime) -> dict[str, Any]:
    """`data`: the object as the API shows it to the webhook's owner now; for moves, the
    event's `from_status` and `to_status` too. Raises `OutOfScope`."""
    from licenses.api.serializers import ApplicationSerializer, MeasureSerializer
    from licenses.api.views import ApplicationViewSet, MeasureViewSet
    from shipments.api.serializers import ShipmentSerializer
    from shipments.api.views import ShipmentViewSet

    from .api.serializers import FlagSerializer
    from .selectors import flag_list

    owner = delivery.webhook.owner
    if delivery.measure_change_id is not None:
        change = delivery.measure_change
        assert change is not None
        measure = _view_queryset(MeasureViewSet, owner).filter(pk=change.measure_id).first()
        if measure is None:
            raise OutOfScope(_("the measure is not visible to the owner"))
        return _serialize(MeasureSerializer, measure, now)
    event = delivery.event
    assert event is not None
    if delivery.type in (WebhookEvent.FLAG_RAISED, WebhookEvent.FLAG_CLEARED):
        flag_id = (event.data or {}).get("flag_id")
        flag = flag_list(user=owner).filter(pk=int(flag_id or 0)).first()
        if flag is None:
            raise OutOfScope(_("the flag is not visible to the owner"))
        return _serialize(FlagSerializer, flag, now)
    if event.shipment_id is not None:
        obj = _view_queryset(ShipmentViewSet, owner).filter(pk=event.shipment_id).first()
        serializer: Any = ShipmentSerializer
    else:
        obj = _view_queryset(ApplicationViewSet, owner).filter(pk=event.application_id).first()
        serializer = ApplicationSerializer
    if obj is None:
        raise OutOfScope(_("the object is not visible to the owner"))
    data = _serialize(serializer, obj, now)
    if delivery.type in MOVE_TYPES:
        data["from_status"] = event.from_status
        data["to_status"] = event.to_status
    return data


def build_body(delivery: WebhookDelivery, *, now: dt.datetime) -> str:
    payload = {
        "id": str(delivery.id),
        "type": delivery.type,
        "occurred_at": delivery.occurred_at.astimezone(dt.UTC).isoformat(),
        "data": build_data(delivery, now=now),
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def _exporter_of(delivery: WebhookDelivery) -> int | None:
    event = delivery.event
    if event is None:
        return None
    if event.shipment_id is not None:
        return (
            Shipment.objects.filter(pk=event.shipment_id)
            .values_list("exporter_id", flat=True)
            .first()
        )
    if event.application_id is None:
        return None
    return (
        LicenseApplication.objects.filter(pk=event.application_id)
        .values_list("exporter_id", flat=True)
        .first()
    )


def why_not_in_scope(delivery: WebhookDelivery) -> str:
    """Why this delivery may no longer go out ("" if it may)."""
    webhook = delivery.webhook
    owner = webhook.owner
    if not webhook.active:
        return _("the webhook is inactive")
    if not owner.is_active:
        return _("the owner's account is inactive")
    if not owner.has_perm("monitoring.view_webhook"):
        return _("the owner is no longer a manager or an administrator")
    if webhook.events and delivery.type not in webhook.events:
        return _("the webhook no longer listens to this type")
    if delivery.type == WebhookEvent.MEASURE_CHANGED:
        return ""
    exporter_id = _exporter_of(delivery)
    if not _may_see(owner, exporter_id):
        return _("the owner may not see this exporter")
    chosen = set(webhook.exporters.values_list("pk", flat=True))
    if chosen and exporter_id not in chosen:
        return _("the webhook no longer covers this exporter")
    return ""


# --- sending ---------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer, not a delivery


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST and judge the answer: a 2xx within `timeout()` seconds is a delivery."""
    limit = timeout()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        with _opener.open(request, timeout=limit) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(reason).__name__}: {reason}"[:2000]
    elapsed = time.monotonic() - started
    if not error:
        if status is None or not 200 <= status < 300:
            error = f"HTTP {status}"
        elif elapsed > limit:
            error = f"answered after {elapsed:.1f} s (limit {limit:g} s)"
    return Answer(status_code=status, error=error, duration_ms=int(elapsed * 1000))


@dataclass(frozen=True)
class Outcome:
    # "delivered", "retry", "failed", "skipped" (out of scope now), "busy" (not ours to send
    # now: delivered or given up already, leased by another worker, or not due yet)
    state: str
    retry_at: dt.datetime | None = None


BUSY = Outcome("busy")


def _claim(delivery_id: Any, *, now: dt.datetime) -> WebhookDelivery | None:
    row = WebhookDelivery.objects.filter(pk=delivery_id).values("state", "attempts").first()
    if row is None or row["state"] != WebhookDelivery.State.PENDING:
        return None
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        next_attempt_at__lte=now + EARLY,
        state=WebhookDelivery.State.PENDING,
        attempts=row["attempts"],
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease())
    if claimed != 1:
        return None  # another worker claimed it first
    return WebhookDelivery.objects.select_related("webhook__owner", "event", "measure_change").get(
        pk=delivery_id
    )


def send(delivery_id: Any, *, now: dt.datetime) -> Outcome:
    """Claim one delivery and POST it (see the module docstring). Runs in autocommit: the
    claim, the attempt and the outcome are committed as they happen."""
    delivery = _claim(delivery_id, now=now)
    if delivery is None:
        return BUSY
    manual = delivery.manual
    why = why_not_in_scope(delivery)
    body = delivery.body
    if not why and not body:
        try:
            body = build_body(delivery, now=now)
        except OutOfScope as exc:
            why = str(exc)
        except Exception as exc:  # a bug of ours: kept as a failed attempt, retried
            log.exception("Could not build the payload of webhook delivery %s", delivery.pk)
            answer = Answer(None, f"could not build the payload: {type(exc).__name__}", 0)
            return _failed(delivery, answer, manual=manual, now=now)
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(body=body)
    if why:
        WebhookAttempt.objects.create(
            delivery=delivery, at=now, error=_("Not sent: %(why)s.") % {"why": why}, manual=manual
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.SKIPPED, next_attempt_at=None, manual=False
        )
        return Outcome("skipped")
    raw = body.encode()
    answer = post(
        delivery.webhook.url,
        raw,
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Tracker-Delivery": str(delivery.pk),
            "X-Tracker-Signature": signature(delivery.webhook.secret, raw),
        },
    )
    _attempt(delivery, answer, manual=manual, now=now)
    if answer.ok:
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            state=WebhookDelivery.State.DELIVERED,
            delivered_at=now,
            next_attempt_at=None,
            manual=False,
        )
        return Outcome("delivered")
    return _failed(delivery, answer, manual=manual, now=now, recorded=True)


def _attempt(delivery: WebhookDelivery, answer: Answer, *, manual: bool, now: dt.datetime) -> None:
    """Keep one attempt: when, what the receiver answered (or what went wrong), how long."""
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=answer.status_code,
        error=answer.error,
        duration_ms=answer.duration_ms,
        manual=manual,
        ok=answer.ok,
    )


def _failed(
    delivery: WebhookDelivery,
    answer: Answer,
    *,
    manual: bool,
    now: dt.datetime,
    recorded: bool = False,
) -> Outcome:
    """Record a failed attempt (unless `recorded`) and schedule the next, or give up 24 hours
    after the event. Only this claim's outcome is written (`attempts` unchanged)."""
    if not recorded:
        _attempt(delivery, answer, manual=manual, now=now)
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
    failures = delivery.attempt_log.filter(ok=False, manual=False).count()
    deadline = delivery.created_at + retry_window()
    if now >= deadline:
        mine.update(state=WebhookDelivery.State.FAILED, next_attempt_at=None, manual=False)
        return Outcome("failed")
    retry_at = min(now + backoff(max(failures, 1)), deadline)
    mine.update(next_attempt_at=retry_at, manual=False)
    return Outcome("retry", retry_at)


def redeliver(delivery: WebhookDelivery, *, now: dt.datetime) -> WebhookDelivery:
    """Send a delivery again by hand (whatever its state): the same id and body, a new
    attempt, marked `manual`; queued after commit, sent by the worker. It is not retried
    past its 24 hours if this attempt fails."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING, next_attempt_at=now, manual=True
    )
    transaction.on_commit(publish, robust=True)
    delivery.refresh_from_db()
    return delivery


@dataclass
class SweepResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return (
            f"{self.delivered} webhook(s) delivered, {self.retrying} to retry, "
            f"{self.failed} given up, {self.skipped} out of scope"
        )


def sweep(*, now: dt.datetime, limit: int = SWEEP_LIMIT) -> SweepResult:
    """Send every pending delivery that is due (oldest first; the partial index
    `webhook_delivery_due` finds them). A webhook that failed in this run is not tried again
    in it: its other deliveries wait for the next run, so one dead receiver cannot hold the
    worker for `limit` timeouts."""
    result = SweepResult()
    due = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "created_at")
        .values_list("pk", "webhook_id")[:limit]
    )
    down: set[int] = set()
    for pk, webhook_id in due:
        if webhook_id in down:
            continue
        outcome = send(pk, now=now)
        if outcome.state == "delivered":
            result.delivered += 1
        elif outcome.state == "retry":
            result.retrying += 1
            down.add(webhook_id)
        elif outcome.state == "failed":
            result.failed += 1
            down.add(webhook_id)
        elif outcome.state == "skipped":
            result.skipped += 1
    return result


# --- the webhook's own services --------------------------------------------------------------


def webhook_create(
    *,
    owner: Any,
    url: str,
    secret: str,
    events: Sequence[str] = (),
    exporters: Sequence[Exporter] = (),
    active: bool = True,
    now: dt.datetime,
) -> Webhook:
    validate_url(url)
    webhook = Webhook.objects.create(
        owner=owner,
        url=url,
        secret=secret,
        events=sorted(set(events)),
        active=active,
        created_at=now,
    )
    webhook.exporters.set(exporters)
    forget_exists()
    return webhook


def webhook_update(*, webhook: Webhook, **changes: Any) -> Webhook:
    exporters = changes.pop("exporters", None)
    if "url" in changes:
        validate_url(changes["url"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    for name, value in changes.items():
        setattr(webhook, name, value)
    webhook.save()
    if exporters is not None:
        webhook.exporters.set(exporters)
    forget_exists()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()
    forget_exists()
