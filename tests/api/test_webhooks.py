"""`/api/v1/webhooks/`: managers (their own) and administrators (everyone's); deliveries with
their attempts; redelivery by hand."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from licenses import services
from monitoring import webhooks
from monitoring.models import Webhook, WebhookDelivery
from tests.factories import ApplicationFactory
from tests.monitoring.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)
SECRET = "0123456789abcdef-secret"
URL = "/api/v1/webhooks/"


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def body(**kwargs):
    return {"url": "https://erp.example.com/tracker", "secret": SECRET, **kwargs}


def test_a_manager_creates_a_webhook_and_never_reads_its_secret_back(api, manager, ganzhou):
    response = api(manager).post(
        URL, body(events=["application.moved", "flag.raised"], exporters=[ganzhou.pk]), "json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert "secret" not in data
    assert data["events"] == ["application.moved", "flag.raised"]
    assert data["exporters"] == [ganzhou.pk]
    assert (data["owner"], data["active"]) == ("max_manager", True)
    assert Webhook.objects.get(pk=data["id"]).secret == SECRET
    assert "secret" not in api(manager).get(f"{URL}{data['id']}/").json()


@pytest.mark.parametrize(
    ("fields", "culprit"),
    [
        ({"url": "http://erp.example.com/tracker"}, "url"),
        ({"url": "ftp://erp.example.com/"}, "url"),
        ({"events": ["application.created"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_webhooks_answer_400_naming_the_field(api, manager, fields, culprit):
    response = api(manager).post(URL, body(**fields), "json")
    assert response.status_code == 400
    assert culprit in response.json()["fields"]


def test_an_exporter_the_owner_may_not_see_answers_400(api, limited_manager, baotou):
    response = api(limited_manager).post(URL, body(exporters=[baotou.pk]), "json")
    assert response.status_code == 400
    assert "exporters" in response.json()["fields"]


def test_http_to_localhost_is_allowed(api, manager):
    response = api(manager).post(URL, body(url="http://127.0.0.1:9000/hook"), "json")
    assert response.status_code == 201


def test_only_managers_and_administrators_may_use_webhooks(api, viewer, officer):
    for user in (viewer, officer):
        assert api(user).get(URL).status_code == 403
        assert api(user).post(URL, body(), "json").status_code == 403
    assert api().get(URL).status_code == 401


def test_a_manager_sees_only_their_own_and_an_administrator_sees_all(
    api, manager, limited_manager, administrator
):
    mine = webhooks.webhook_create(
        owner=manager, url="https://a.example.com/", secret=SECRET, now=NOW
    )
    other = webhooks.webhook_create(
        owner=limited_manager, url="https://b.example.com/", secret=SECRET, now=NOW
    )
    listed = [w["id"] for w in api(manager).get(URL).json()["results"]]
    assert listed == [mine.pk]
    assert api(manager).get(f"{URL}{other.pk}/").status_code == 404
    everyone = [w["id"] for w in api(administrator).get(URL).json()["results"]]
    assert sorted(everyone) == sorted([mine.pk, other.pk])


def test_a_webhook_is_edited_and_deleted(api, manager):
    created = api(manager).post(URL, body(), "json").json()
    patched = api(manager).patch(f"{URL}{created['id']}/", {"active": False}, "json")
    assert patched.status_code == 200
    assert patched.json()["active"] is False
    assert api(manager).delete(f"{URL}{created['id']}/").status_code == 204
    assert not Webhook.objects.exists()


def test_deliveries_list_every_attempt_and_redeliver_sends_again_with_the_same_id(
    api, manager, ganzhou, receiver
):
    created = api(manager).post(URL, body(url=receiver.url, events=["application.moved"]), "json")
    hook_id = created.json()["id"]
    app = ApplicationFactory(exporter=ganzhou)
    services.application_submit(application=app, at=NOW, now=NOW, actor=None)
    webhooks.sweep(now=NOW)
    listed = api(manager).get(f"{URL}{hook_id}/deliveries/")
    assert listed.status_code == 200
    [delivery] = listed.json()["results"]
    assert (delivery["type"], delivery["state"]) == ("application.moved", "delivered")
    assert [(a["status_code"], a["ok"], a["manual"]) for a in delivery["attempts"]] == [
        (200, True, False)
    ]

    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        response = api(manager).post(f"{URL}{hook_id}/deliveries/{delivery['id']}/redeliver/")
    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "pending"
    webhooks.sweep(now=NOW + dt.timedelta(minutes=5))
    first, again = receiver.received
    assert first.headers["x-tracker-delivery"] == again.headers["x-tracker-delivery"]
    assert first.headers["x-tracker-delivery"] == delivery["id"]
    assert first.body == again.body
    attempts = api(manager).get(f"{URL}{hook_id}/deliveries/").json()["results"][0]["attempts"]
    assert [(a["ok"], a["manual"]) for a in attempts] == [(True, False), (True, True)]
    assert WebhookDelivery.objects.get().state == "delivered"


def test_redelivering_another_webhooks_delivery_answers_404(api, manager, administrator, ganzhou):
    theirs = webhooks.webhook_create(
        owner=administrator, url="https://b.example.com/", secret=SECRET, now=NOW
    )
    mine = webhooks.webhook_create(
        owner=manager, url="https://a.example.com/", secret=SECRET, now=NOW
    )
    services.application_submit(
        application=ApplicationFactory(exporter=ganzhou), at=NOW, now=NOW, actor=None
    )
    delivery = WebhookDelivery.objects.filter(webhook=theirs).first()
    assert delivery is not None
    url = f"{URL}{mine.pk}/deliveries/{delivery.pk}/redeliver/"
    assert api(manager).post(url).status_code == 404
    assert (
        api(manager).post(f"{URL}{theirs.pk}/deliveries/{delivery.pk}/redeliver/").status_code
        == 404
    )
