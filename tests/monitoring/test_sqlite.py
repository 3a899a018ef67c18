"""The scan's hand-written SQL (INSERT … ON CONFLICT DO NOTHING RETURNING, UPDATE … RETURNING)
also runs on the embedded default, SQLite: migrate a fresh database, record an application
whose review window has passed, scan twice."""

from __future__ import annotations

import pytest

from .e2e import result_on_sqlite

pytestmark = pytest.mark.slow

SCRIPT = """
import datetime as dt, zoneinfo
from decimal import Decimal
from django.core import mail
from licenses import services
from licenses.models import Authority, ControlledItem, Exporter
from monitoring import alerts, scan
from monitoring.models import Alert, Flag
tz = zoneinfo.ZoneInfo("Asia/Shanghai")
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
first = scan.scan(now=now)
second = scan.scan(now=now)
alerts.sweep(now=now + dt.timedelta(minutes=5))
periodic = scan.scan(now=now + dt.timedelta(hours=1), incremental=True)  # windowed statements
print("RESULT", first.summary(), "|", second.summary(), "|",
      sorted(Flag.objects.values_list("kind", flat=True)), len(mail.outbox),
      Alert.objects.get().state, "|", periodic.since == now, periodic.summary())
"""


def test_the_scan_runs_on_sqlite(tmp_path):
    result = result_on_sqlite(tmp_path / "smoke.sqlite3", SCRIPT)
    assert result == (
        "RESULT overdue: +1 -0; 1 alert(s) queued | nothing changed; 0 alert(s) queued | "
        "['overdue'] 1 sent | True nothing changed; 0 alert(s) queued"
    )


REQUIREMENTS_SCRIPT = """
import datetime as dt, zoneinfo
from decimal import Decimal
from licenses import signals
from licenses.models import (
    Authority, ControlledItem, Exporter, Measure, MeasureChange, MeasureSuspension
)
MeasureChange.objects.all().delete()
Measure.objects.all().delete()  # the seeded measures aside: only this script's measure counts
from monitoring.models import Flag
from shipments import services as shipping
tz = zoneinfo.ZoneInfo("Asia/Shanghai")
now = dt.datetime(2026, 11, 29, 10, tzinfo=tz)
item = ControlledItem.objects.get(code="1C902")
exporter = Exporter.objects.create(
    name="Smoke", registration_number="SMOKE", country="CN", contact_emails=["c@example.com"]
)
m = Measure.objects.create(
    authority=item.authority, reference="No. 55", title="t", kind="control",
    announced_on=dt.date(2025, 4, 4), effective_from=dt.date(2025, 4, 4),
)
m.items.set([item])
s = MeasureSuspension.objects.create(
    measure=m, starts_on=dt.date(2026, 11, 10), ends_on=dt.date(2027, 11, 10)
)
shipment = shipping.shipment_create(
    now=now, actor=None, exporter=exporter, reference="S-1", item=item,
    quantity=Decimal(1), value=Decimal(1), currency="USD", destination="DE",
    planned_ship_date=dt.date(2027, 1, 20),
)
before = shipment.status
s.ends_on = dt.date(2026, 12, 31)
s.save()
signals.measure_changed.send(
    sender=Measure, authority_id=m.authority_id, item_ids=[item.pk], now=now
)
shipment.refresh_from_db()
print("RESULT", before, shipment.status, shipment.license_required,
      shipment.license_required_today, shipment.file_by_date is not None,
      sorted(Flag.objects.values_list("kind", flat=True)))
"""


def test_license_requirements_are_evaluated_on_sqlite(tmp_path):
    result = result_on_sqlite(tmp_path / "req.sqlite3", REQUIREMENTS_SCRIPT)
    assert result == "RESULT cleared planned True False True ['control_change', 'file_by']"
