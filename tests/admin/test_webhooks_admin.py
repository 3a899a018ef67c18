"""The admin's webhook pages: a manager's own webhooks, deliveries read-only with their
attempts inline, and an action that sends a delivery again."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses import services
from monitoring import webhooks
from monitoring.models import WebhookDelivery
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)


@pytest.fixture
def delivered(manager, ganzhou):
    hook = webhooks.webhook_create(
        owner=manager, url="https://erp.example.com/events", secret="s" * 20, now=NOW
    )
    services.application_submit(
        application=ApplicationFactory(exporter=ganzhou), at=NOW, now=NOW, actor=None
    )
    delivery = hook.deliveries.filter(type="application.moved").get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="failed", next_attempt_at=None)
    return delivery


def test_the_delivery_page_shows_it_read_only(client, manager, delivered):
    client.force_login(manager)
    response = client.get(f"/admin/monitoring/webhookdelivery/{delivered.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_the_admin_action_sends_a_delivery_again(client, manager, delivered):
    client.force_login(manager)
    response = client.post(
        "/admin/monitoring/webhookdelivery/",
        {"action": "send_again", "_selected_action": [str(delivered.pk)]},
    )
    assert response.status_code == 302
    delivered.refresh_from_db()
    assert (delivered.state, delivered.manual) == ("pending", True)


def test_a_manager_sees_only_their_own_webhooks_in_the_admin(
    client, manager, administrator, delivered
):
    theirs = webhooks.webhook_create(
        owner=administrator, url="https://other.example.com/", secret="s" * 20, now=NOW
    )
    client.force_login(manager)
    assert client.get(f"/admin/monitoring/webhook/{theirs.pk}/change/").status_code in (302, 404)
    assert (
        client.get(f"/admin/monitoring/webhook/{delivered.webhook_id}/change/").status_code == 200
    )
