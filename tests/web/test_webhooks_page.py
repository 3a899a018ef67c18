"""`/webhooks/`: a manager adds a webhook and sees its recent deliveries; others may not."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses import services
from monitoring import webhooks
from monitoring.models import Webhook
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)


def test_a_manager_adds_a_webhook_with_the_offered_secret(client, manager, ganzhou):
    client.force_login(manager)
    page = client.get("/webhooks/")
    assert page.status_code == 200
    secret = page.context["form"].initial["secret"]
    assert len(secret) >= 16
    response = client.post(
        "/webhooks/",
        {
            "url": "https://erp.example.com/events",
            "events": ["application.moved"],
            "exporters": [ganzhou.pk],
            "secret": secret,
        },
    )
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert (hook.owner, hook.secret, hook.events) == (manager, secret, ["application.moved"])
    assert list(hook.exporters.all()) == [ganzhou]
    assert secret not in client.get("/webhooks/").content.decode()


def test_an_http_url_elsewhere_than_localhost_is_refused_with_a_message(client, manager):
    client.force_login(manager)
    response = client.post(
        "/webhooks/", {"url": "http://erp.example.com/events", "secret": "x" * 20}
    )
    assert response.status_code == 200
    assert "url" in response.context["form"].errors
    assert not Webhook.objects.exists()


def test_the_page_lists_recent_deliveries(client, manager, ganzhou):
    hook = webhooks.webhook_create(
        owner=manager, url="https://erp.example.com/events", secret="s" * 20, now=NOW
    )
    services.application_submit(
        application=ApplicationFactory(exporter=ganzhou), at=NOW, now=NOW, actor=None
    )
    delivery = hook.deliveries.filter(type="application.moved").get()
    client.force_login(manager)
    text = client.get("/webhooks/").content.decode()
    assert str(delivery.pk) in text
    assert "application.moved" in text


def test_officers_may_not_open_the_webhooks_page(client, officer):
    client.force_login(officer)
    assert client.get("/webhooks/").status_code == 403
    assert client.post("/webhooks/", {"url": "https://a.example.com/"}).status_code == 403


def test_the_navigation_links_the_page_for_managers_only(client, manager, officer):
    client.force_login(manager)
    assert 'href="/webhooks/"' in client.get("/settings/alerts/").content.decode()
    client.force_login(officer)
    assert 'href="/webhooks/"' not in client.get("/settings/alerts/").content.decode()
