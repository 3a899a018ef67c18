"""Webhooks end to end against a real HTTP receiver on localhost: queued in the transaction of
the change (set-based writers included), signed, retried with backoff for 24 hours, every
attempt kept, scoped to what the owner may see."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import os

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from licenses import services
from licenses.models import Event
from monitoring import scan, webhooks
from monitoring.models import Webhook, WebhookAttempt, WebhookDelivery
from tests.factories import ApplicationFactory, authority, item

from .builders import mofcom_application
from .webhook_receiver import Receiver, free_port

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)
SECRET = "s3cret-of-the-integrator-0123456789"


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def hook(owner, url, **kwargs) -> Webhook:
    return webhooks.webhook_create(owner=owner, url=url, secret=SECRET, now=NOW, **kwargs)


def submit(app, when=NOW):
    return services.application_submit(application=app, at=when, now=when, actor=None)


def deliveries(**filters):
    return WebhookDelivery.objects.filter(**filters).order_by("created_at", "type")


# --- queueing ---------------------------------------------------------------------------------


def test_without_webhooks_a_move_queues_nothing(ganzhou):
    submit(ApplicationFactory(exporter=ganzhou))
    assert not WebhookDelivery.objects.exists()


def test_webhooks_cost_a_move_no_query_of_its_own(ganzhou, manager, receiver):
    app = ApplicationFactory(exporter=ganzhou)
    with CaptureQueriesContext(connection) as without:
        submit(app)
    hook(manager, receiver.url)
    other = ApplicationFactory(exporter=ganzhou)
    with CaptureQueriesContext(connection) as with_one:
        submit(other)
    assert len(with_one.captured_queries) == len(without.captured_queries)
    for query in with_one.captured_queries:
        if "monitoring_webhook" in query["sql"]:  # only inside the statement writing events
            assert "INSERT INTO licenses_event" in query["sql"]
    assert deliveries(event__application=other).exists()


def test_a_move_queues_one_delivery_per_matching_webhook_in_its_transaction(
    ganzhou, manager, administrator, receiver
):
    mine, theirs = hook(manager, receiver.url), hook(administrator, receiver.url)
    app = ApplicationFactory(exporter=ganzhou)
    submit(app)
    moved = deliveries(type="application.moved")
    assert sorted(d.webhook_id for d in moved) == sorted([mine.pk, theirs.pk])
    event = Event.objects.get(application=app, kind="status_changed")
    assert {d.event_id for d in moved} == {event.pk}
    assert all(d.state == "pending" and d.next_attempt_at == event.recorded_at for d in moved)


def test_nothing_is_queued_inside_a_rolled_back_transaction(ganzhou, manager, receiver):
    hook(manager, receiver.url)
    app = ApplicationFactory(exporter=ganzhou)
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(app)
        assert deliveries().exists()  # the outbox row is written with the change...
        raise RuntimeError("the change fails")
    assert not deliveries().exists()  # ...and goes with it
    assert receiver.received == []


def test_sending_is_queued_only_after_commit(
    ganzhou, manager, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    kicked = []
    monkeypatch.setattr(webhooks, "publish", lambda: kicked.append(1) or True)
    hook(manager, receiver.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit(ApplicationFactory(exporter=ganzhou))
        assert kicked == []  # never inside the transaction
    assert receiver.received == []
    for callback in callbacks:
        callback()
    assert kicked == [1]  # one kick for the whole transaction, however many events


def test_a_scan_raising_flags_set_based_queues_their_deliveries(exporter, manager, receiver):
    hook(manager, receiver.url, events=["flag.raised"])
    apps = [
        mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
        for _ in range(3)
    ]
    scan.scan(now=dt.datetime(2026, 12, 10, tzinfo=dt.UTC))
    raised = Event.objects.filter(kind="flag_raised", application__in=apps)
    assert raised.count() >= 3
    queued = deliveries(type="flag.raised")
    assert {d.event_id for d in queued} == set(raised.values_list("pk", flat=True))
    assert not deliveries().exclude(type="flag.raised").exists()  # the events filter


def test_recording_a_measure_queues_measure_changed(manager, receiver, no_seeded_measures):
    hook(manager, receiver.url, events=["measure.changed"])
    services.measure_create(
        authority=authority("MOFCOM"),
        reference="TEST 2026 No. 1",
        title="Test controls on samarium",
        kind="control",
        announced_on=dt.date(2026, 1, 5),
        effective_from=dt.date(2026, 2, 1),
        items=[item("1C902")],
        actor=manager,
        now=NOW,
    )
    delivery = deliveries().get()
    assert delivery.type == "measure.changed"
    webhooks.sweep(now=NOW)
    payload = receiver.received[0].payload
    assert payload["type"] == "measure.changed"
    assert payload["data"]["reference"] == "TEST 2026 No. 1"


# --- scoping ----------------------------------------------------------------------------------


def test_a_limited_owner_never_hears_of_another_exporter(
    ganzhou, baotou, limited_manager, receiver
):
    hook(limited_manager, receiver.url)
    submit(ApplicationFactory(exporter=baotou))
    assert not deliveries().exists()
    submit(ApplicationFactory(exporter=ganzhou))
    assert deliveries(type="application.moved").count() == 1


def test_the_exporters_and_events_filters_choose_what_is_sent(ganzhou, baotou, manager, receiver):
    only_baotou = hook(manager, receiver.url, exporters=[baotou])
    only_flags = hook(manager, receiver.url, events=["flag.raised", "flag.cleared"])
    submit(ApplicationFactory(exporter=ganzhou))
    assert not deliveries(webhook=only_baotou).exists()
    assert not deliveries(webhook=only_flags).exists()
    submit(ApplicationFactory(exporter=baotou))
    assert deliveries(webhook=only_baotou, type="application.moved").count() == 1


def test_an_owner_limited_after_the_event_is_not_sent_it(ganzhou, baotou, manager, receiver):
    hook(manager, receiver.url)
    submit(ApplicationFactory(exporter=baotou))
    profile = manager.profile if hasattr(manager, "profile") else None
    from licenses.models import UserProfile

    profile, _ = UserProfile.objects.get_or_create(user=manager)
    profile.limited_to_exporters = True
    profile.save()
    profile.exporters.set([ganzhou])
    result = webhooks.sweep(now=NOW)
    assert receiver.received == []
    assert result.skipped >= 1
    delivery = deliveries(type="application.moved").get()
    assert delivery.state == "skipped"
    assert "may not see" in delivery.attempt_log.get().error


def test_a_deactivated_owner_is_sent_nothing(ganzhou, manager, receiver):
    hook(manager, receiver.url)
    submit(ApplicationFactory(exporter=ganzhou))
    manager.is_active = False
    manager.save()
    webhooks.sweep(now=NOW)
    assert receiver.received == []
    assert set(deliveries().values_list("state", flat=True)) == {"skipped"}


# --- sending ----------------------------------------------------------------------------------


def test_a_delivery_is_signed_over_its_raw_body_with_the_documented_headers(
    ganzhou, manager, receiver
):
    hook(manager, receiver.url, events=["application.moved"])
    app = ApplicationFactory(exporter=ganzhou)
    submit(app)
    webhooks.sweep(now=NOW)
    [request] = receiver.received
    delivery = deliveries().get()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tracker-delivery"] == str(delivery.pk)
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-tracker-signature"] == f"sha256={expected}"
    payload = request.payload
    assert set(payload) == {"id", "type", "occurred_at", "data"}
    assert payload["id"] == str(delivery.pk)
    assert payload["type"] == "application.moved"
    assert dt.datetime.fromisoformat(payload["occurred_at"]) == NOW
    assert payload["data"]["id"] == app.pk
    assert payload["data"]["reference"] == app.reference
    assert (payload["data"]["from_status"], payload["data"]["to_status"]) == (
        "draft",
        "submitted",
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.delivered_at) == ("delivered", NOW)
    attempt = delivery.attempt_log.get()
    assert (attempt.status_code, attempt.ok, attempt.error) == (200, True, "")


def test_a_500_is_retried_after_its_backoff_with_the_same_id_and_body(ganzhou, manager, receiver):
    receiver.plan = [500, 200]
    hook(manager, receiver.url, events=["application.moved"])
    submit(ApplicationFactory(exporter=ganzhou))
    first = webhooks.sweep(now=NOW)
    assert first.retrying == 1
    delivery = deliveries().get()
    assert delivery.state == "pending"
    assert delivery.next_attempt_at == NOW + webhooks.backoff(1)
    assert webhooks.sweep(now=NOW + dt.timedelta(seconds=10)).delivered == 0  # not due yet
    assert webhooks.sweep(now=delivery.next_attempt_at).delivered == 1
    a, b = receiver.received
    assert a.headers["x-tracker-delivery"] == b.headers["x-tracker-delivery"] == str(delivery.pk)
    assert a.body == b.body
    attempts = list(delivery.attempt_log.values_list("status_code", "ok"))
    assert attempts == [(500, False), (200, True)]
    delivery.refresh_from_db()
    assert delivery.state == "delivered"


@override_settings(WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_a_receiver_that_answers_too_late_has_failed(ganzhou, manager, receiver):
    receiver.plan = [("hang", 3)]
    hook(manager, receiver.url, events=["application.moved"])
    submit(ApplicationFactory(exporter=ganzhou))
    assert webhooks.sweep(now=NOW).retrying == 1
    attempt = WebhookAttempt.objects.get()
    assert not attempt.ok
    assert attempt.status_code is None
    assert "timed out" in attempt.error.lower() or "after" in attempt.error
    assert deliveries().get().state == "pending"


def test_the_timeout_is_ten_seconds_by_default(settings):
    if "WEBHOOK_TIMEOUT_SECONDS" not in os.environ:
        from config.settings import base

        assert base.WEBHOOK_TIMEOUT_SECONDS == 10
    del settings.WEBHOOK_TIMEOUT_SECONDS
    assert webhooks.timeout() == 10


def test_a_receiver_down_for_a_while_then_back_gets_everything_once(ganzhou, manager):
    port = free_port()
    hook(manager, f"http://127.0.0.1:{port}/hooks", events=["application.moved"])
    for _ in range(3):
        submit(ApplicationFactory(exporter=ganzhou))
    ids = {str(pk) for pk in deliveries().values_list("pk", flat=True)}
    assert len(ids) == 3
    when = NOW
    for _ in range(4):  # down: connection refused, retried with backoff
        webhooks.sweep(now=when)
        when += dt.timedelta(hours=1)
    assert WebhookAttempt.objects.filter(ok=False).exists()
    assert all(a.status_code is None for a in WebhookAttempt.objects.all())
    assert set(deliveries().values_list("state", flat=True)) == {"pending"}
    back = Receiver(port=port).start()
    try:
        for _ in range(4):
            webhooks.sweep(now=when)
            when += dt.timedelta(hours=1)
    finally:
        back.stop()
    received = [r.headers["x-tracker-delivery"] for r in back.received]
    assert sorted(received) == sorted(ids)  # nothing lost, nothing twice
    assert set(deliveries().values_list("state", flat=True)) == {"delivered"}


def test_it_gives_up_24_hours_after_the_event_keeping_every_attempt(ganzhou, manager, receiver):
    receiver.plan = [503]
    hook(manager, receiver.url, events=["application.moved"])
    submit(ApplicationFactory(exporter=ganzhou))
    delivery = deliveries().get()
    when = NOW
    for _ in range(100):
        webhooks.sweep(now=when)
        delivery.refresh_from_db()
        if delivery.state != "pending":
            break
        when = delivery.next_attempt_at
    assert delivery.state == "failed"
    attempts = list(delivery.attempt_log.order_by("at").values_list("at", flat=True))
    assert attempts[-1] == NOW + dt.timedelta(hours=24)
    assert len(attempts) == len(receiver.received) > 10
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[:3] == [webhooks.backoff(1), webhooks.backoff(2), webhooks.backoff(3)]
    assert webhooks.sweep(now=when + dt.timedelta(days=1)).delivered == 0
    assert len(receiver.received) == len(attempts)


def test_two_workers_never_send_the_same_delivery(ganzhou, manager, receiver):
    hook(manager, receiver.url, events=["application.moved"])
    submit(ApplicationFactory(exporter=ganzhou))
    delivery = deliveries().get()
    claimed = webhooks._claim(delivery.pk, now=NOW)
    assert claimed is not None
    assert webhooks.send(delivery.pk, now=NOW).state == "busy"  # leased by the first
    assert receiver.received == []


def test_http_is_only_for_localhost():
    for url in ("https://erp.example.com/hooks", "http://localhost:8000/x", "http://[::1]/x"):
        webhooks.validate_url(url)
    from django.core.exceptions import ValidationError

    for url in ("http://erp.example.com/hooks", "ftp://x.example.com/", "https://", "nonsense"):
        with pytest.raises(ValidationError):
            webhooks.validate_url(url)
