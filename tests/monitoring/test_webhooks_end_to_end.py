"""Webhooks for real: a move commits, the kick queued after commit reaches a Celery worker on
the real Redis, and the worker POSTs the delivery to a receiver on localhost. No eager tasks;
the real clock (the event is recorded now)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery_app import app as celery_app
from licenses import services
from monitoring import webhooks
from monitoring.models import WebhookDelivery

from ..conftest import make_user
from ..factories import ApplicationFactory, ExporterFactory
from .e2e import celery_processes, point_web_side_at, wait_for
from .webhook_receiver import Receiver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SECRET = "e2e-secret-0123456789abcdef"


@pytest.fixture
def redis_broker(transactional_db):
    point_web_side_at(settings.TEST_REDIS_URL)
    celery_app.control.purge()
    yield settings.TEST_REDIS_URL
    point_web_side_at(settings.CELERY_BROKER_URL)


def test_a_committed_move_reaches_the_receiver_through_the_worker(tmp_path, redis_broker):
    receiver = Receiver().start()
    try:
        owner = make_user("wanda_webhooks", "Compliance manager")
        webhooks.webhook_create(
            owner=owner,
            url=receiver.url,
            secret=SECRET,
            events=["application.moved"],
            now=timezone.now(),
        )
        app = ApplicationFactory(exporter=ExporterFactory())
        with celery_processes(tmp_path, smtp_port=1, beat=False) as processes:
            now = timezone.now()
            services.application_submit(application=app, at=now, now=now, actor=None)
            wait_for(
                lambda: receiver.received,
                timeout=30,
                what="the webhook POST\n" + processes["worker"].output()[-3000:],
            )
    finally:
        receiver.stop()
    [request] = receiver.received
    delivery = WebhookDelivery.objects.get()
    assert request.headers["x-tracker-delivery"] == str(delivery.pk)
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-tracker-signature"] == f"sha256={expected}"
    assert request.payload["data"]["id"] == app.pk
    assert delivery.state == "delivered"
