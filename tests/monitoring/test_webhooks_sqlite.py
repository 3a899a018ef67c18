"""Webhooks on the embedded default, SQLite, where the event writer hands the new events'
ids to Python instead of a CTE: migrate a fresh database, add a webhook, move an application,
scan, and send to a real receiver on localhost."""

from __future__ import annotations

import pytest

from .e2e import result_on_sqlite

pytestmark = pytest.mark.slow

SCRIPT = """
import datetime as dt, zoneinfo
from decimal import Decimal
from django.contrib.auth import get_user_model
from licenses import services
from licenses.models import Authority, ControlledItem, Exporter
from monitoring import scan, webhooks
from monitoring.models import WebhookDelivery
from tests.monitoring.webhook_receiver import Receiver
tz = zoneinfo.ZoneInfo("Asia/Shanghai")
receiver = Receiver().start()
owner = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
webhooks.webhook_create(
    owner=owner, url=receiver.url, secret="s" * 20, now=dt.datetime(2026, 9, 1, tzinfo=tz),
    events=["application.moved", "flag.raised"],
)
exporter = Exporter.objects.create(
    name="Smoke", registration_number="SMOKE", country="CN", contact_emails=["c@example.com"]
)
app = services.application_create(
    now=dt.datetime(2026, 9, 1, tzinfo=tz), actor=None,
    items=[ControlledItem.objects.get(code="1C902")], exporter=exporter,
    authority=Authority.objects.get(code="MOFCOM"), destination="DE", reference="SMOKE-1",
    authority_reference="MOFCOM-SMOKE-1", quantity=Decimal(1), value=Decimal(1), currency="USD",
)
for move, day in ((services.application_submit, 20), (services.application_accept, 24)):
    when = dt.datetime(2026, 9, day, 10, tzinfo=tz)
    move(application=app, at=when, now=when, actor=None)
now = dt.datetime(2026, 12, 4, 10, tzinfo=tz)
scan.scan(now=now)
webhooks.sweep(now=now)
receiver.stop()
print("RESULT", sorted(r.payload["type"] for r in receiver.received),
      sorted(WebhookDelivery.objects.values_list("state", flat=True)))
"""


def test_webhooks_are_queued_and_sent_on_sqlite(tmp_path):
    result = result_on_sqlite(tmp_path / "hooks.sqlite3", SCRIPT)
    assert result == (
        "RESULT ['application.moved', 'application.moved', 'flag.raised'] "
        "['delivered', 'delivered', 'delivered']"
    )
