"""Due dates on real calendars, exactly as the specification defines them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from licenses import services
from licenses.authorities import calendar_day_delete, calendar_day_save
from licenses.models import Event, LicenseApplication
from licenses.rules import rule_create

from ..factories import ApplicationFactory, authority, item
from ..helpers import LONDON, NEW_YORK, NOW, SHANGHAI, accepted, at, local_due, submitted

pytestmark = pytest.mark.django_db


def test_the_specs_mofcom_example_is_due_on_3_december_2026():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    assert local_due(app) == dt.date(2026, 12, 3)
    # overdue from the end of that day in Beijing
    assert app.due_at == dt.datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI)
    assert app.window_days == 45


def test_before_acceptance_the_due_date_is_the_acceptance_deadline():
    app = ApplicationFactory()
    submitted(app, "2026-09-14")  # Monday; 10 Chinese working days
    assert local_due(app) == dt.date(2026, 9, 28)  # skips the Mid-Autumn holiday on 25 Sept


def test_a_mofcom_application_across_the_2026_spring_festival():
    app = ApplicationFactory()
    submitted(app, "2026-01-20")
    accepted(app, "2026-02-02")
    # 45 working days from Mon 2 Feb: the festival (15-23 Feb) and Qingming (6 Apr) are
    # skipped; Saturday 14 Feb and 28 Feb are make-up workdays that count.
    assert local_due(app) == dt.date(2026, 4, 13)


def test_a_bis_application_counts_calendar_days_from_submission():
    app = ApplicationFactory(authority=authority("BIS"), items=[])
    app.items.set([])
    bis_item = authority("BIS").items.create(code="3A001", description="Electronics")
    app.items.set([bis_item])
    submitted(app, "2026-01-15", tz=NEW_YORK)
    assert local_due(app, NEW_YORK) == dt.date(2026, 4, 15)
    assert app.due_at == dt.datetime(2026, 4, 16, tzinfo=NEW_YORK)


def test_an_ecju_application_skips_english_bank_holidays():
    ecju = authority("ECJU")
    uk_item = ecju.items.create(code="ML22", description="Technology")
    app = ApplicationFactory(authority=ecju, items=[uk_item])
    submitted(app, "2026-04-28", tz=LONDON)
    # 20 working days, skipping the early May (4 May) and spring (25 May) bank holidays
    assert local_due(app, LONDON) == dt.date(2026, 5, 28)


def test_an_information_request_stops_the_clock_and_moves_the_due_date():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    services.application_request_info(application=app, at=at("2026-10-12"), now=NOW, actor=None)
    assert app.status == "info_requested" and app.due_at is None
    services.application_provide_info(application=app, at=at("2026-10-19"), now=NOW, actor=None)
    assert app.status == "accepted"
    # seven days from Monday 12 to Monday 19 October: 13..19 skipped = 5 working days
    assert local_due(app) == dt.date(2026, 12, 10)


def test_information_requested_before_acceptance_returns_to_submitted():
    app = ApplicationFactory()
    submitted(app, "2026-09-14")
    services.application_request_info(application=app, at=at("2026-09-16"), now=NOW, actor=None)
    services.application_provide_info(application=app, at=at("2026-09-18"), now=NOW, actor=None)
    assert app.status == "submitted"
    assert local_due(app) == dt.date(2026, 9, 30)  # two working days later


def test_a_calendar_edit_moves_due_dates():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    day = calendar_day_save(
        now=NOW, actor=None, authority=authority(), date=dt.date(2026, 11, 16), kind="holiday"
    )
    app.refresh_from_db()
    assert local_due(app) == dt.date(2026, 12, 4)
    assert Event.objects.filter(application=app, kind="due_date_changed").count() >= 2
    calendar_day_delete(day=day, now=NOW, actor=None)
    app.refresh_from_db()
    assert local_due(app) == dt.date(2026, 12, 3)


def test_the_most_specific_rule_governs_and_the_longest_item_window_wins():
    app = ApplicationFactory(destination="US", items=[item("1C902"), item("1C903")])
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    app.refresh_from_db()
    assert app.window_days == 30
    rule_create(
        authority=authority(),
        item=item("1C902"),
        destination="US",
        window_days=20,
        actor=None,
        now=NOW,
    )
    app.refresh_from_db()
    # 1C902 now has 20, 1C903 still 30 through the destination rule: the longest governs
    assert app.window_days == 30
    rule_create(authority=authority(), item=item("1C903"), window_days=60, actor=None, now=NOW)
    app.refresh_from_db()
    # 1C903: the US rule (one field) and the item rule (one field) tie; the newest wins
    assert app.window_days == 60


def test_recompute_due_dates_command_restores_stored_due_dates():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    LicenseApplication.objects.filter(pk=app.pk).update(due_at=None)
    call_command("recompute_due_dates")
    app.refresh_from_db()
    assert local_due(app) == dt.date(2026, 12, 3)


def test_decided_applications_have_no_due_date():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    services.application_withdraw(application=app, at=at("2026-09-21"), now=NOW, actor=None)
    assert app.due_at is None
