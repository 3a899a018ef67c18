"""The daily digest: at the user's local hour, once per local day, scoped to what they watch
and may see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from monitoring import alerts, scan
from monitoring.models import AlertAttempt, AlertPreference, Digest

from ..conftest import make_user
from ..helpers import UTC
from .builders import mofcom_application, moment, shipment

pytestmark = pytest.mark.django_db


def utc(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=UTC)


@pytest.fixture
def open_flags(ganzhou, baotou):
    """Ganzhou: an overdue application; Baotou: a shipment past its last day to file."""
    app = mofcom_application(ganzhou, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(baotou, ship="2026-12-15")
    scan.scan(now=moment("2026-12-04"))
    return app, goods


def test_a_manager_gets_the_digest_at_eight_utc_by_default_once_a_day(open_flags, manager):
    app, goods = open_flags
    assert alerts.send_digests(now=utc("2026-12-04", 7, 59)) == 0
    assert alerts.send_digests(now=utc("2026-12-04", 8)) == 1
    assert alerts.send_digests(now=utc("2026-12-04", 9)) == 0  # the job runs hourly
    assert alerts.send_digests(now=utc("2026-12-04", 9)) == 0  # and maybe twice
    [message] = mail.outbox
    assert message.to == ["max_manager@example.com"]
    assert message.subject == "Daily digest 4 December 2026: 2 open flags"
    assert app.reference in message.body and goods.reference in message.body
    assert f"/applications/{app.pk}/" in message.body
    assert f"/shipments/{goods.pk}/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and app.reference in html
    assert message.extra_headers["Message-ID"] == f"<digest-{Digest.objects.get().pk}@127.0.0.1>"

    assert alerts.send_digests(now=utc("2026-12-05", 8)) == 1  # the next day


def test_the_digest_follows_the_users_hour_and_time_zone(open_flags, viewer, ganzhou):
    preference = AlertPreference.objects.create(
        user=viewer, digest=True, digest_hour=9, time_zone="Asia/Shanghai"
    )
    preference.watched_exporters.set([ganzhou])
    assert alerts.send_digests(now=utc("2026-12-04", 0, 59)) == 0  # 08:59 in Beijing
    assert alerts.send_digests(now=utc("2026-12-04", 1)) == 1
    assert Digest.objects.get().local_date == dt.date(2026, 12, 4)
    # 16:00 UTC is midnight in Beijing: the 5th, but not yet 9 o'clock there.
    assert alerts.send_digests(now=utc("2026-12-04", 16)) == 0
    assert alerts.send_digests(now=utc("2026-12-05", 1)) == 1


def test_the_digest_lists_only_the_watched_exporters(open_flags, viewer, ganzhou):
    app, goods = open_flags
    preference = AlertPreference.objects.create(user=viewer, digest=True)
    preference.watched_exporters.set([ganzhou])
    alerts.send_digests(now=utc("2026-12-04", 8))
    [message] = mail.outbox
    assert app.reference in message.body and goods.reference not in message.body


def test_a_limited_user_never_sees_another_exporter_in_the_digest(
    open_flags, limited, ganzhou, baotou
):
    app, goods = open_flags
    preference = AlertPreference.objects.create(user=limited, digest=True)
    preference.watched_exporters.set([ganzhou, baotou])
    alerts.send_digests(now=utc("2026-12-04", 8))
    [message] = mail.outbox
    assert app.reference in message.body
    assert goods.reference not in message.body and baotou.name not in message.body


def test_an_inactive_user_gets_no_digest(open_flags, manager):
    manager.is_active = False
    manager.save()
    assert alerts.send_digests(now=utc("2026-12-04", 8)) == 0


def test_with_nothing_open_the_digest_says_so(manager):
    alerts.send_digests(now=utc("2026-12-04", 8))
    [message] = mail.outbox
    assert "Nothing is open for the exporters you watch." in message.body


def test_a_failed_digest_is_retried_by_the_sweep_and_sent_once(open_flags, manager, settings):
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    assert alerts.send_digests(now=utc("2026-12-04", 8)) == 0
    digest = Digest.objects.get()
    assert (digest.sent_at, digest.attempts) == (None, 1)
    assert AlertAttempt.objects.get(digest=digest).state == "failed"
    assert alerts.send_digests(now=utc("2026-12-04", 9)) == 0  # the day's row exists

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts.retry_digests(now=utc("2026-12-04", 8, 0) + dt.timedelta(seconds=30)) == 0
    assert alerts.sweep(now=utc("2026-12-04", 8, 1)).digests == 1
    assert alerts.sweep(now=utc("2026-12-04", 8, 30)).digests == 0
    assert [m.to for m in mail.outbox if "digest" in m.subject] == [["max_manager@example.com"]]
    digest.refresh_from_db()
    assert digest.sent_at == utc("2026-12-04", 8, 1)


def test_a_user_who_turned_the_digest_off_gets_none(open_flags):
    user = make_user("no_digest", None)
    AlertPreference.objects.create(user=user, digest=False)
    assert alerts.send_digests(now=utc("2026-12-04", 8)) == 0


def test_a_long_digest_lists_the_first_flags_and_counts_the_rest(open_flags, manager, monkeypatch):
    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 1)
    alerts.send_digests(now=utc("2026-12-04", 8))
    [message] = mail.outbox
    assert "… and 1 more open flag: see the tracker." in message.body
    assert message.subject == "Daily digest 4 December 2026: 2 open flags"


def test_a_long_digest_loads_only_the_flags_it_lists(open_flags, manager, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(alerts, "DIGEST_LIMIT", 1)
    with CaptureQueriesContext(connection) as captured:
        alerts.send_digests(now=utc("2026-12-04", 8))
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "monitoring_flag"' in q["sql"]]
    # One count of every open flag, one read of the listed ones (LIMIT): never all of them.
    assert any("COUNT(*)" in sql for sql in reads)
    assert [sql for sql in reads if "COUNT(*)" not in sql and "LIMIT 1" not in sql] == []
