"""`reply_due`: an open request for information whose reply falls due within the due-soon
horizon, or is late; raised by the scan (in full and incrementally), cleared when the
information is provided, e-mailed at once in the recipient's language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from licenses import services
from monitoring import alerts, scan
from monitoring.models import Alert, Flag

from ..factories import ApplicationFactory, authority
from ..helpers import LONDON, at

pytestmark = pytest.mark.django_db


def ecju_application(exporter):
    ecju = authority("ECJU")
    item = ecju.items.create(code="ML22", description="Technology")
    return ApplicationFactory(exporter=exporter, authority=ecju, items=[item])


def london(day: str, hour: int = 10) -> dt.datetime:
    return at(day, hour, tz=LONDON)


def asked_on_28_april(exporter, *, reason: str = "information"):
    """Submitted 20 April, information requested Tuesday 28 April 2026: the reply is due on
    Thursday 28 May (20 working days; the 4 and 25 May bank holidays skipped)."""
    app = ecju_application(exporter)
    when = london("2026-04-20")
    services.application_submit(application=app, at=when, now=when, actor=None)
    when = london("2026-04-28")
    services.application_request_info(application=app, at=when, now=when, actor=None, reason=reason)
    return app


def open_kinds(app) -> set[str]:
    return set(
        Flag.objects.filter(application=app, cleared_at__isnull=True).values_list("kind", flat=True)
    )


def test_it_flags_a_reply_due_within_the_horizon_and_clears_it_when_provided(exporter):
    app = asked_on_28_april(exporter)
    assert app.reply_due_at == dt.datetime(2026, 5, 29, tzinfo=LONDON)
    # On 19 May five working days reach 27 May (25 May is a holiday); on 20 May, 28 May.
    scan.scan(now=london("2026-05-19"))
    assert "reply_due" not in open_kinds(app)
    scan.scan(now=london("2026-05-20"))
    assert "reply_due" in open_kinds(app)
    when = london("2026-05-21")
    services.application_provide_info(application=app, at=when, now=when, actor=None)
    assert "reply_due" not in open_kinds(app)
    flag = Flag.objects.get(application=app, kind="reply_due")
    assert flag.cleared_at == when


def test_a_late_reply_is_flagged_and_stays_flagged(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-06-15"))
    assert "reply_due" in open_kinds(app)
    scan.scan(now=london("2026-07-15"))
    assert Flag.objects.filter(application=app, kind="reply_due").count() == 1


def test_the_incremental_scan_catches_a_reply_deadline_entering_the_horizon(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-05-19"))
    result = scan.scan(now=london("2026-05-20"), incremental=True)
    assert result.since is not None
    assert "reply_due" in open_kinds(app)


def test_no_reply_deadline_no_flag(exporter):
    app = asked_on_28_april(exporter, reason="expert_review")
    scan.scan(now=london("2026-07-15"))
    assert "reply_due" not in open_kinds(app)


def test_leaving_info_requested_clears_it(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-06-15"))
    when = london("2026-06-16")
    services.application_withdraw(application=app, at=when, now=when, actor=None)
    assert app.reply_due_at is None
    assert "reply_due" not in open_kinds(app)


def test_shortening_the_reply_window_raises_it_at_once(exporter):
    from licenses.authorities import authority_update

    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-05-05"))
    assert "reply_due" not in open_kinds(app)
    authority_update(
        authority=authority("ECJU"), now=london("2026-05-05"), actor=None, reply_window_days=5
    )
    assert "reply_due" in open_kinds(app)


def test_its_email_says_when_it_was_asked_when_it_is_due_and_what_to_do(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-05-20"))
    alert = Alert.objects.get(flag__application=app, flag__kind="reply_due")
    assert alerts.send_alert(alert.pk, now=london("2026-05-20", 11)).state == "sent"
    [message] = mail.outbox
    assert app.reference in message.subject and "Reply due" in message.subject
    body = message.body
    assert f"asked for information on application {app.reference} on 28 April 2026" in body
    assert "The reply is due on 28 May 2026: 5 working days left." in body
    assert "“Provide information” (provide-info/)" in body
    assert f"/applications/{app.pk}/" in body
    html = message.alternatives[0][0]
    assert "28 May 2026" in html


def test_its_email_in_chinese(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-05-20"))
    flag = Flag.objects.get(application=app, kind="reply_due")
    subject, text, _html = alerts.render_flag(flag, now=london("2026-05-20"), language="zh-hans")
    assert app.reference in subject
    assert "要求就申请" in text and "补充信息" in text
    assert "还剩 5 个工作日" in text
    assert "provide-info/" in text


def test_a_late_reply_email_says_it_is_late(exporter):
    app = asked_on_28_april(exporter)
    scan.scan(now=london("2026-06-02"))
    flag = Flag.objects.get(application=app, kind="reply_due")
    _subject, text, _html = alerts.render_flag(flag, now=london("2026-06-02"), language="en")
    assert "The reply was due on 28 May 2026 and is late." in text
