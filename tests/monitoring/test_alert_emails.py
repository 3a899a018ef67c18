# ruff: noqa: RUF001  (the Chinese e-mails use full-width punctuation)
"""Every kind of flag that e-mails at once, in each language, read as its recipient reads it:
sent through Django's locmem backend, the subject names the kind and the reference, and the
text and the HTML say what happened, why it matters (its dates, the days late or left, the
window) and what to do next, with the link to the page where the work is done."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
import time_machine
from django.core import mail

from licenses import signals
from licenses.models import Measure, MeasureChange, MeasureSuspension
from monitoring import alerts, scan
from monitoring.models import ALERTING_FLAGS, Alert, AlertPreference, Flag

from ..factories import authority, item
from ..helpers import LONDON, at
from .builders import approve, mofcom_application, moment, shipment
from .test_reply_due import asked_on_28_april

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example"
D = dt.date.fromisoformat


@dataclass
class Case:
    """A flag raised for real, when to send its alert, and what the e-mail must say."""

    subject: object  # the application or shipment
    now: dt.datetime
    dates: list[dt.date]
    # what the e-mail must contain, in each language (beyond the dates and the link)
    says: dict[str, list[str]]
    links: list[str] = field(default_factory=list)  # other pages it links to


def day(d: dt.date, language: str) -> str:
    return f"{d.day} {d:%B} {d.year}" if language == "en" else f"{d.year}年{d.month}月{d.day}日"


# --- one real case of each kind --------------------------------------------------------------


def overdue(exporter) -> Case:
    """MOFCOM, accepted on 24 September 2026: 45 working days end on 3 December."""
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    now = moment("2026-12-04")
    scan.scan(now=now)
    return Case(
        app,
        now,
        dates=[D("2026-12-03"), D("2026-09-24")],
        says={
            "en": [
                "no decision is recorded",
                "The review window is 45 working days at MOFCOM, counted from acceptance",
                "The decision is 1 day late.",
                "Contact MOFCOM about application",
                "(approve/ or reject/)",
            ],
            "zh-hans": [
                "45 个工作日",
                "决定已逾期 1 天。",
                "请联系 MOFCOM",
                "（approve/ 或 reject/）",
            ],
        },
    )


def at_risk(exporter) -> Case:
    """Accepted on 4 November 2026: due on 19 January 2027, after a ship date of 20 December."""
    app = mofcom_application(exporter, submitted="2026-11-02", accepted="2026-11-04")
    app.refresh_from_db()
    now = moment("2026-11-05")
    goods = shipment(exporter, ship="2026-12-20", application=app, recorded=now)
    due = alerts._local_due(app.due_at, app.authority.tz)
    assert due is not None
    return Case(
        goods,
        now,
        dates=[D("2026-12-20"), due, D("2026-11-04")],
        says={
            "en": [
                f"the decision comes {(due - D('2026-12-20')).days} days after the ship date",
                "45 working days at MOFCOM",
                "Ask MOFCOM whether it can decide application",
                "move the ship date to",
                "(edit/ on the shipment page)",
            ],
            "zh-hans": [
                f"晚 {(due - D('2026-12-20')).days} 天",
                "45 个工作日",
                "请询问 MOFCOM",
                "edit/",
            ],
        },
        links=[f"/applications/{app.pk}/"],
    )


def file_by(exporter) -> Case:
    """Planned for 15 December 2026 with no application: the last day to file was 22 Sept."""
    goods = shipment(exporter, ship="2026-12-15")
    now = moment("2026-10-01")
    scan.scan(now=now)
    return Case(
        goods,
        now,
        dates=[D("2026-12-15"), D("2026-09-22")],
        says={
            "en": [
                "has no application",
                "may take 55 working days to accept and decide an application",
                "That day passed 9 days ago",
                "File an application for this shipment now",
            ],
            "zh-hans": ["没有申请", "55 个工作日", "已过去 9 天", "请立即为该装运提交申请"],
        },
    )


def reply_due(exporter) -> Case:
    """ECJU asked on 28 April 2026; 20 working days to answer end on 28 May."""
    app = asked_on_28_april(exporter)
    now = at("2026-05-20", 10, tz=LONDON)
    scan.scan(now=now)
    return Case(
        app,
        now,
        dates=[D("2026-04-28"), D("2026-05-28")],
        says={
            "en": [
                "5 working days left",
                "ECJU gives 20 working days to answer",
                "Send the information to the authority",
                "(provide-info/)",
            ],
            "zh-hans": ["还剩 5 个工作日", "20 个工作日", "provide-info/"],
        },
    )


def control_change(exporter) -> Case:
    """A suspension ending on 31 December 2026: a shipment of 1 March 2027 needs a license."""
    MeasureChange.objects.all().delete()  # the seeded measures set aside: only this one
    Measure.objects.all().delete()
    measure = Measure.objects.create(
        authority=authority("MOFCOM"),
        reference="MOFCOM 2025 No. 55",
        title="Rare earths",
        kind="control",
        announced_on=D("2025-04-04"),
        effective_from=D("2025-04-04"),
        destinations=[],
    )
    measure.items.set([item("1C902")])
    suspension = MeasureSuspension.objects.create(
        measure=measure, starts_on=D("2026-11-10"), ends_on=D("2027-11-10"), reference="No. 70"
    )
    now = moment("2026-11-29")
    goods = shipment(exporter, ship="2027-03-01", recorded=now)
    suspension.ends_on = D("2026-12-31")
    suspension.save()
    signals.measure_changed.send(
        sender=Measure, authority_id=measure.authority_id, item_ids=[item("1C902").pk], now=now
    )
    goods.refresh_from_db()
    assert goods.file_by_date is not None
    return Case(
        goods,
        now,
        dates=[D("2027-03-01"), goods.file_by_date],
        says={
            "en": [
                "It now needs a license on that date (measures that apply then: "
                "MOFCOM 2025 No. 55)",
                "Without a license it cannot ship on that date.",
                "File an application by",
            ],
            "zh-hans": ["现在需要许可证", "MOFCOM 2025 No. 55", "提交申请"],
        },
    )


def license_expires(exporter) -> Case:
    """A license valid until 25 December 2026 and a shipment planned for 14 January 2027."""
    app = mofcom_application(exporter, submitted="2026-09-01", accepted="2026-09-03")
    approve(app, "2026-10-15", valid_until="2026-12-25")
    app.refresh_from_db()
    now = moment("2026-10-20")
    goods = shipment(exporter, ship="2027-01-14", application=app, recorded=now)
    return Case(
        goods,
        now,
        dates=[D("2027-01-14"), D("2026-12-25")],
        says={
            "en": [
                f"license LIC-{app.pk} (application {app.reference})",
                "The license ends 20 days before the ship date",
                "Ask MOFCOM for an amendment extending license",
                "(amend/)",
                "move the ship date to 25 December 2026 or earlier",
            ],
            "zh-hans": ["有效期仅至", "发运日期前 20 天到期", "申请变更", "（amend/）"],
        },
        links=[f"/applications/{app.pk}/"],
    )


CASES: dict[str, Callable[..., Case]] = {
    "overdue": overdue,
    "at_risk": at_risk,
    "file_by": file_by,
    "reply_due": reply_due,
    "control_change": control_change,
    "license_expires": license_expires,
}
SUBJECTS = {
    ("overdue", "en"): "Overdue: application {ref} ({exporter})",
    ("at_risk", "en"): "At risk: shipment {ref} ({exporter})",
    ("file_by", "en"): "File by: shipment {ref} ({exporter})",
    ("reply_due", "en"): "Reply due: application {ref} ({exporter})",
    ("control_change", "en"): "Control change: shipment {ref} ({exporter})",
    ("license_expires", "en"): "License expires: shipment {ref} ({exporter})",
    ("overdue", "zh-hans"): "逾期：申请 {ref}（{exporter}）",
    ("at_risk", "zh-hans"): "有延误风险：装运 {ref}（{exporter}）",
    ("file_by", "zh-hans"): "申请提交截止日：装运 {ref}（{exporter}）",
    ("reply_due", "zh-hans"): "待答复：申请 {ref}（{exporter}）",
    ("control_change", "zh-hans"): "管制变化：装运 {ref}（{exporter}）",
    ("license_expires", "zh-hans"): "许可证先到期：装运 {ref}（{exporter}）",
}


def test_every_alerting_kind_has_a_case():
    assert set(CASES) == set(ALERTING_FLAGS)


def plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", list(CASES))
def test_the_email_says_what_happened_why_and_what_to_do_with_the_link(
    kind, language, exporter, viewer, settings
):
    settings.SITE_URL = SITE
    preference = AlertPreference.objects.create(
        user=viewer, immediate_kinds=list(ALERTING_FLAGS), language=language
    )
    preference.watched_exporters.set([exporter])
    case = CASES[kind](exporter)
    field_name = "application" if kind in ("overdue", "reply_due") else "shipment"
    flag = Flag.objects.get(kind=kind, **{field_name: case.subject})
    alert = Alert.objects.get(flag=flag, user=viewer)

    assert alerts.send_alert(alert.pk, now=case.now).state == "sent"
    [message] = [m for m in mail.outbox if m.to == [viewer.email]]
    path = "applications" if flag.application_id else "shipments"
    link = f"{SITE}/{path}/{case.subject.pk}/"  # type: ignore[attr-defined]
    assert message.subject == SUBJECTS[kind, language].format(
        ref=case.subject.reference,  # type: ignore[attr-defined]
        exporter=exporter.name,
    )
    body = " ".join(message.body.split())
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    for text in (body, plain(html)):
        for d in case.dates:
            assert day(d, language) in text, (day(d, language), text)
        for phrase in case.says[language]:
            assert phrase in text, (phrase, text)
        assert link in text
        for other in case.links:
            assert f"{SITE}{other}" in text
    assert f'href="{link}"' in html
    assert f'<html lang="{language}">' in html
    what_to_do = "What to do:" if language == "en" else "下一步："
    assert what_to_do in message.body
    assert not re.search(r"\bon\s+(and|is|\.|,)", body), body  # no empty date


# --- the demo: every e-mail true when read ---------------------------------------------------

# A Wednesday morning in Beijing, far from a holiday, a midnight or a month end.
DEMO_NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)
# An empty date leaves its preposition before punctuation or the next clause ("due on  and").
EMPTY_DATE = re.compile(r"\b(?:on|by|until|before|from)\s+(?:[,.;:)]|and\b|is\b|or\b)")


def test_after_the_demo_no_email_has_an_empty_date_or_tells_of_a_cleared_flag(settings):
    from django.core.management import call_command

    from monitoring.scan.due import due_queryset, kept_shipments
    from monitoring.scan.horizons import thresholds

    settings.DEMO = True
    settings.SITE_URL = SITE
    with time_machine.travel(DEMO_NOW, tick=False):
        call_command("demo", stdout=io.StringIO())
    sent_at = DEMO_NOW + dt.timedelta(minutes=3)
    outcomes = [
        alerts.send_alert(pk, now=sent_at).state
        for pk in Alert.objects.order_by("pk").values_list("pk", flat=True)
    ]
    assert outcomes.count("sent") == len(mail.outbox) > 0
    assert set(outcomes) <= {"sent", "cleared"}

    th = thresholds(now=sent_at)
    for alert in Alert.objects.select_related("flag"):
        flag = alert.flag
        subject_id = flag.application_id or flag.shipment_id
        kept = kept_shipments(flag.kind) if flag.shipment_id else None
        holds = flag.cleared_at is None and (
            due_queryset(flag.kind, th).filter(pk=subject_id).exists()
            or (kept is not None and kept.filter(pk=subject_id).exists())
        )
        assert alert.state == ("sent" if holds else "skipped"), (alert, flag.cleared_at)
    for message in mail.outbox:
        [(html, _mimetype)] = message.alternatives
        for text in (" ".join(message.body.split()), plain(html)):
            assert not EMPTY_DATE.search(text), text
            assert "None" not in text and "What to do" in text
            assert f"{SITE}/" in text


# --- links go where the product is served ----------------------------------------------------


def site_url_with(**env: str) -> str:
    """SITE_URL as a fresh process with these environment variables reads it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SITE_URL)",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_site_url_follows_the_port_served_unless_it_is_set():
    assert site_url_with(PORT="8080") == "http://127.0.0.1:8080"  # `PORT=8080 make run`
    assert site_url_with(PORT="8080", SITE_URL="https://tracker.example") == SITE
