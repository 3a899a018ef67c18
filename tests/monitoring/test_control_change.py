"""`control_change`: e-mailed at once, saying what changed and what to do, in the reader's
language; and the digest's measure changes ahead, counted per watched exporter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from licenses import signals
from licenses.models import Measure, MeasureSuspension
from monitoring import alerts
from monitoring.measure_changes import measure_changes_ahead
from monitoring.models import Alert, AlertPreference, Flag, ScanSettings

from ..factories import authority, item
from .builders import moment, shipment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_seeded_measures")]

D = dt.date.fromisoformat
NOW = moment("2026-11-29")


def measure(reference="MOFCOM 2025 No. 55", *, suspended=("2026-11-10", "2027-11-10"), **kw):
    m = Measure.objects.create(
        authority=authority("MOFCOM"),
        reference=reference,
        title="Rare earths",
        kind=kw.pop("kind", "control"),
        announced_on=D("2025-04-04"),
        effective_from=D(kw.pop("effective_from", "2025-04-04")),
        destinations=kw.pop("destinations", []),
    )
    m.items.set(kw.pop("items", [item("1C902")]))
    if suspended:
        MeasureSuspension.objects.create(
            measure=m, starts_on=D(suspended[0]), ends_on=D(suspended[1]), reference="No. 70"
        )
    return m


def end_suspension(m: Measure, on: str, now=NOW) -> None:
    m.suspensions.update(ends_on=D(on))
    signals.measure_changed.send(
        sender=Measure, authority_id=m.authority_id, item_ids=[item("1C902").pk], now=now
    )


def test_a_suspension_ending_before_the_ship_date_emails_what_to_do(ganzhou):
    m = measure()
    goods = shipment(ganzhou, ship="2027-03-01", recorded=NOW)
    assert goods.status == "cleared"
    end_suspension(m, "2026-12-31")
    goods.refresh_from_db()
    assert goods.status == "planned"
    flag = Flag.objects.get(shipment=goods, kind="control_change")
    alert = Alert.objects.get(flag=flag)
    alerts.send_alert(alert.pk, now=NOW)
    [message] = [m for m in mail.outbox if "Control change" in m.subject]
    assert message.subject == f"Control change: shipment {goods.reference} ({ganzhou.name})"
    body = " ".join(message.body.split())
    assert (
        f"Shipment {goods.reference} is planned to ship on 1 March 2027. It now needs a "
        "license on that date (measures that apply then: MOFCOM 2025 No. 55), although it "
        "needs none today."
    ) in body
    deadline = goods.file_by_date
    assert f"What to do: File an application by {deadline.day} " in body
    assert f"/shipments/{goods.pk}/" in body
    [(html, _mimetype)] = message.alternatives
    assert "MOFCOM 2025 No. 55" in html


def test_the_control_change_email_speaks_chinese_to_a_reader_who_chose_it(ganzhou, viewer):
    preference = AlertPreference.objects.create(
        user=viewer, immediate_kinds=["control_change"], language="zh-hans"
    )
    preference.watched_exporters.set([ganzhou])
    m = measure()
    goods = shipment(ganzhou, ship="2027-03-01", recorded=NOW)
    end_suspension(m, "2026-12-31")
    alert = Alert.objects.get(flag__kind="control_change", user=viewer)
    alerts.send_alert(alert.pk, now=NOW)
    message = mail.outbox[-1]
    assert message.to == [viewer.email]
    assert "管制变化" in message.subject and goods.reference in message.subject
    assert "现在需要许可证" in message.body
    assert "MOFCOM 2025 No. 55" in message.body
    assert "提交申请" in message.body


def test_a_measure_ending_before_the_ship_date_says_no_license_is_needed_then(ganzhou):
    m = measure(suspended=None)
    goods = shipment(ganzhou, ship="2027-03-01", recorded=NOW)
    assert goods.status == "planned"
    m.effective_until = D("2027-01-31")
    m.save()
    signals.measure_changed.send(
        sender=Measure, authority_id=m.authority_id, item_ids=[item("1C902").pk], now=NOW
    )
    goods.refresh_from_db()
    assert (goods.status, goods.license_required, goods.license_required_today) == (
        "cleared",
        False,
        True,
    )
    alert = Alert.objects.get(flag__kind="control_change")
    alerts.send_alert(alert.pk, now=NOW)
    body = " ".join(mail.outbox[-1].body.split())
    assert "It no longer needs a license on that date" in body
    assert "What to do: Nothing is needed to ship on that date" in body


# --- the digest ------------------------------------------------------------------------------


def test_the_digest_lists_measure_changes_ahead_with_each_watched_exporters_shipments(
    ganzhou, baotou, limited, manager
):
    m = measure(suspended=("2026-11-10", "2026-12-20"))
    measure("No. 61", suspended=None, effective_from="2026-12-10", destinations=["US"])
    measure("Far", suspended=None, effective_from="2027-06-01")  # beyond 30 days
    for exporter, n in ((ganzhou, 2), (baotou, 3)):
        for _i in range(n):
            shipment(exporter, ship="2027-01-15", recorded=NOW)
    shipment(ganzhou, ship="2026-12-15", recorded=NOW)  # before the suspension ends
    del m

    changes = measure_changes_ahead(today=D("2026-11-29"), exporter_ids=None)
    assert [(c.reference, c.change, c.day) for c in changes] == [
        ("No. 61", "starts", D("2026-12-10")),
        ("MOFCOM 2025 No. 55", "suspension_ends", D("2026-12-21")),
    ]
    # shipments to DE: the US-only measure touches none
    assert changes[0].exporters == []
    assert [(e.name, n) for e, n in changes[1].exporters] == sorted(
        [(ganzhou.name, 2), (baotou.name, 3)]
    )

    # A user limited to Ganzhou sees only Ganzhou's count, in the digest they receive.
    AlertPreference.objects.create(user=limited, digest=True, digest_hour=0, watch_all=True)
    at = dt.datetime(2026, 11, 29, 1, tzinfo=dt.UTC)
    alerts.send_digests(now=at)
    [message] = [msg for msg in mail.outbox if msg.to == [limited.email]]
    body = message.body
    assert "Measure changes in the next 30 days" in body
    assert "21 December 2026: MOFCOM 2025 No. 55 applies again (suspension ends)" in body
    assert f"{ganzhou.name}: 2 planned shipments" in body
    assert baotou.name not in body
    assert "10 December 2026: No. 61 starts to apply" in body
    assert "No planned shipment of the exporters you watch." in body


def test_the_digests_horizon_is_a_scan_setting():
    measure("Far", suspended=None, effective_from="2027-02-01")
    assert measure_changes_ahead(today=D("2026-11-29"), exporter_ids=None) == []
    settings = ScanSettings.load()
    settings.measure_horizon_days = 90
    settings.save()
    [change] = measure_changes_ahead(today=D("2026-11-29"), exporter_ids=None)
    assert (change.reference, change.change) == ("Far", "starts")
