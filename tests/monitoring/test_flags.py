"""Each flag is raised and cleared at the right moment, on the authorities' real calendars.

Dates of 2026 on the Chinese calendar used below: Mid-Autumn Festival Friday 25 September;
National Day holidays 1-7 October (weekdays 1, 2, 5, 6, 7 off); make-up working days Sunday
20 September and Saturday 10 October.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db.models import Q

from licenses import services
from licenses.calendars import count_days
from licenses.clock import calendar_for
from licenses.fasttrack import decision_log
from licenses.models import Event, LicenseApplication, WindowRule
from licenses.rules import rule_create
from monitoring import scan
from monitoring.models import Flag, ScanSettings
from shipments import services as shipping

from ..factories import ApplicationFactory, authority, item
from ..helpers import NEW_YORK, SHANGHAI, local_due
from .builders import (
    accept,
    approve,
    mofcom_application,
    moment,
    open_kinds,
    shipment,
    submit,
)

pytestmark = pytest.mark.django_db


def flag_events(subject) -> list[tuple[str, str]]:
    field = "application" if subject._meta.model_name == "licenseapplication" else "shipment"
    return list(
        Event.objects.filter(kind__in=["flag_raised", "flag_cleared"], **{field: subject})
        .order_by("id")
        .values_list("kind", "data__flag")
    )


# --- overdue and due soon ---------------------------------------------------------------------


def test_an_application_becomes_overdue_at_the_end_of_its_due_date_in_beijing(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    assert local_due(app) == dt.date(2026, 12, 3)

    scan.scan(now=dt.datetime(2026, 12, 3, 23, 59, tzinfo=SHANGHAI))
    assert open_kinds(app) == {"due_soon"}

    scan.scan(now=dt.datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI))
    assert open_kinds(app) == {"overdue"}
    assert flag_events(app) == [
        ("flag_raised", "due_soon"),
        ("flag_raised", "overdue"),
        ("flag_cleared", "due_soon"),
    ]
    raised = Event.objects.get(application=app, kind="flag_raised", data__flag="overdue")
    assert raised.occurred_at == dt.datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI)
    assert dt.datetime.fromisoformat(raised.data["due_at"]) == app.due_at


def test_a_raised_flag_keeps_its_cause_as_iso_text_even_with_microseconds(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    # A due instant with microseconds (and a local zone): kept as Python's isoformat in UTC.
    LicenseApplication.objects.filter(pk=app.pk).update(
        due_at=app.due_at - dt.timedelta(microseconds=250)
    )
    app.refresh_from_db()
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    scan.scan(now=moment("2026-12-04"))
    due = app.due_at.astimezone(dt.UTC).isoformat()
    assert due.endswith(".999750+00:00")
    data = {
        (e.kind, e.data["flag"]): e.data
        for e in Event.objects.filter(kind="flag_raised").filter(
            Q(application=app) | Q(shipment=goods)
        )
    }
    flags = {f.kind: f.pk for f in Flag.objects.filter(Q(application=app) | Q(shipment=goods))}
    assert data[("flag_raised", "overdue")] == {
        "flag": "overdue", "flag_id": flags["overdue"], "status": "accepted", "due_at": due,
    }  # fmt: skip
    assert data[("flag_raised", "at_risk")] == {
        "flag": "at_risk",
        "flag_id": flags["at_risk"],
        "planned_ship_date": "2026-12-02",
        "application_id": app.pk,
        "application_due_at": due,
    }


def test_approval_clears_the_overdue_flag_in_the_same_transaction(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=moment("2026-12-04"))
    approve(app, "2026-12-05")
    assert open_kinds(app) == set()
    flag = Flag.objects.get(application=app, kind="overdue")
    assert flag.cleared_at == moment("2026-12-05")
    assert flag_events(app)[-1] == ("flag_cleared", "overdue")


def test_withdrawal_clears_the_overdue_flag(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=moment("2026-12-04"))
    when = moment("2026-12-07")
    services.application_withdraw(application=app, at=when, now=when, actor=None)
    assert open_kinds(app) == set()


def test_an_information_request_stops_the_clock_so_the_application_is_not_overdue(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    when = moment("2026-11-20")
    services.application_request_info(application=app, at=when, now=when, actor=None)
    scan.scan(now=moment("2026-12-10"))
    assert open_kinds(app) == set()


def test_before_acceptance_missing_the_acceptance_deadline_is_overdue(exporter):
    app = mofcom_application(exporter, submitted="2026-09-14")  # accept by Mon 28 Sept
    scan.scan(now=moment("2026-09-28", 23))
    assert "overdue" not in open_kinds(app)
    scan.scan(now=moment("2026-09-29", 1))
    assert open_kinds(app) == {"overdue"}
    accept(app, "2026-09-29")  # the 45-day window now runs: no longer overdue
    assert open_kinds(app) == set()


def test_due_soon_counts_working_days_of_the_chinese_calendar(exporter):
    # Acceptance deadlines (10 working days): submitted Mon 21 Sept -> due Mon 12 Oct;
    # submitted Tue 22 Sept -> due Tue 13 Oct.
    early = mofcom_application(exporter, submitted="2026-09-21")
    late = mofcom_application(exporter, submitted="2026-09-22")
    assert (local_due(early), local_due(late)) == (dt.date(2026, 10, 12), dt.date(2026, 10, 13))

    # On Tue 29 Sept the next five working days are 30 Sept, 8, 9, 10 (a Saturday) and 12 Oct:
    # 12 October is due soon although it is 13 calendar days away; 13 October is not.
    scan.scan(now=moment("2026-09-29"))
    assert open_kinds(early) == {"due_soon"}
    assert open_kinds(late) == set()

    scan.scan(now=moment("2026-09-30"))
    assert open_kinds(late) == {"due_soon"}


def test_an_administrator_can_change_the_due_soon_threshold(exporter):
    app = mofcom_application(exporter, submitted="2026-09-22")  # due Tue 13 Oct
    ScanSettings.objects.update_or_create(pk=1, defaults={"due_soon_working_days": 6})
    scan.scan(now=moment("2026-09-29"))
    assert open_kinds(app) == {"due_soon"}


def test_a_longer_window_moves_the_due_date_and_clears_the_overdue_flag(exporter, manager):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=moment("2026-12-04"))
    assert open_kinds(app) == {"overdue"}
    with time_machine.travel(moment("2026-12-04", 11), tick=False):
        # rules change through their service, which recomputes what they govern
        rule_create(
            authority=authority("MOFCOM"),
            item=item("1C902"),
            window_days=60,
            actor=manager,
            now=moment("2026-12-04", 11),
        )
    app.refresh_from_db()
    assert local_due(app) > dt.date(2026, 12, 4)
    assert open_kinds(app) == set()
    assert flag_events(app)[-1] == ("flag_cleared", "overdue")


# --- expiring --------------------------------------------------------------------------------


def test_a_license_expiring_within_30_days_with_shipments_to_ship_is_flagged(exporter):
    app = ApplicationFactory(exporter=exporter, license_type="general")
    submit(app, "2026-09-20")
    accept(app, "2026-09-24")
    services.application_approve(
        application=app,
        at=moment("2026-10-15"),
        now=moment("2026-10-15"),
        actor=None,
        license_number="LIC-1",
        valid_until=dt.date(2026, 12, 31),
        approved_quantity=app.quantity,
        approved_value=app.value,
    )
    goods = shipment(exporter, ship="2026-12-20", application=app, recorded=moment("2026-10-16"))

    scan.scan(now=moment("2026-11-30"))  # 31 days before 31 December
    assert open_kinds(app) == set()
    scan.scan(now=moment("2026-12-01"))
    assert open_kinds(app) == {"expiring"}

    # Once nothing is left to ship under it, the license's expiry no longer matters.
    when = moment("2026-12-02")
    shipping.shipment_ship(shipment=goods, at=when, now=when, actor=None)
    assert open_kinds(app) == set()


def test_a_license_with_nothing_left_to_ship_is_not_expiring(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    approve(app, "2026-10-15", valid_until="2026-12-31")
    scan.scan(now=moment("2026-12-15"))
    assert open_kinds(app) == set()


# --- at risk ---------------------------------------------------------------------------------


def test_a_shipment_is_at_risk_when_its_application_is_due_after_its_ship_date(exporter):
    app = ApplicationFactory(exporter=exporter, license_type="general")
    submit(app, "2026-09-20")
    accept(app, "2026-09-24")  # due Thu 3 December
    recorded = moment("2026-09-25")
    before = shipment(exporter, ship="2026-12-02", application=app, recorded=recorded)
    same_day = shipment(exporter, ship="2026-12-03", application=app, recorded=recorded)

    assert open_kinds(before) == {"at_risk"}  # raised when the shipment was recorded
    assert open_kinds(same_day) == set()
    scan.scan(now=moment("2026-10-01"))
    assert open_kinds(before) == {"at_risk"} and open_kinds(same_day) == set()


def test_moving_the_ship_date_clears_at_risk_and_moving_it_back_raises_it_again(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    shipping.shipment_update(
        shipment=goods,
        now=moment("2026-10-01"),
        actor=None,
        planned_ship_date=dt.date(2026, 12, 10),
    )
    assert open_kinds(goods) == set()
    shipping.shipment_update(
        shipment=goods,
        now=moment("2026-10-02"),
        actor=None,
        planned_ship_date=dt.date(2026, 12, 1),
    )
    assert open_kinds(goods) == {"at_risk"}
    assert Flag.objects.filter(shipment=goods, kind="at_risk").count() == 2  # a new cause
    assert flag_events(goods) == [
        ("flag_raised", "at_risk"),
        ("flag_cleared", "at_risk"),
        ("flag_raised", "at_risk"),
    ]


def test_an_information_request_keeps_an_at_risk_flag_open_without_raising_it_again(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    flag = Flag.objects.get(shipment=goods, kind="at_risk")
    when = moment("2026-10-12")
    services.application_request_info(application=app, at=when, now=when, actor=None)
    scan.scan(now=moment("2026-10-14"))
    assert open_kinds(goods) == {"at_risk"}
    when = moment("2026-10-19")
    services.application_provide_info(application=app, at=when, now=when, actor=None)
    app.refresh_from_db()
    assert local_due(app) == dt.date(2026, 12, 10)
    assert list(Flag.objects.filter(shipment=goods).values_list("pk", "cleared_at")) == [
        (flag.pk, None)
    ]


def test_an_information_request_raises_no_at_risk_flag_until_the_due_date_is_known(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-20", application=app, recorded=moment("2026-09-25"))
    when = moment("2026-10-12")
    services.application_request_info(application=app, at=when, now=when, actor=None)
    assert open_kinds(goods) == set()
    when = moment("2026-11-19")  # 28 working days later: due date moves to 20 January 2027
    services.application_provide_info(application=app, at=when, now=when, actor=None)
    assert open_kinds(goods) == {"at_risk"}


def test_holding_a_shipment_clears_its_flags_and_releasing_it_raises_them_again(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    when = moment("2026-10-01")
    shipping.shipment_hold(shipment=goods, at=when, now=when, actor=None)
    assert open_kinds(goods) == set()
    when = moment("2026-10-02")
    shipping.shipment_release(shipment=goods, at=when, now=when, actor=None)
    assert open_kinds(goods) == {"at_risk"}


def test_approval_clears_at_risk(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    approve(app, "2026-11-20")
    assert open_kinds(goods) == set()


# --- file by ---------------------------------------------------------------------------------


def test_the_last_day_to_file_counts_back_the_window_and_the_acceptance_window(exporter):
    goods = shipment(exporter, ship="2026-12-15")
    # MOFCOM: 45 working days from acceptance, accepted within 10 working days of filing;
    # counted back across National Day, Mid-Autumn and the 10 October make-up Saturday.
    assert goods.file_by_date == dt.date(2026, 9, 22)
    assert goods.file_by_at == dt.datetime(2026, 9, 23, tzinfo=SHANGHAI)
    calendar = calendar_for(authority("MOFCOM"))
    assert (
        count_days(calendar=calendar, start=dt.date(2026, 9, 22), end=dt.date(2026, 12, 15),
                   unit="working")
        == 55
    )  # fmt: skip


def test_file_by_is_raised_once_the_last_day_to_file_has_ended(exporter):
    goods = shipment(exporter, ship="2026-12-15")
    scan.scan(now=moment("2026-09-22", 23))
    assert open_kinds(goods) == set()
    scan.scan(now=dt.datetime(2026, 9, 23, 0, 0, tzinfo=SHANGHAI))
    assert open_kinds(goods) == {"file_by"}
    assert Event.objects.get(shipment=goods, kind="flag_raised").data["file_by_date"] == (
        "2026-09-22"
    )


def test_a_draft_is_not_filed_but_submitting_it_clears_file_by(exporter):
    goods = shipment(exporter, ship="2026-12-15")
    scan.scan(now=moment("2026-09-24"))
    draft = ApplicationFactory(exporter=exporter)
    shipping.shipment_update(
        shipment=goods, now=moment("2026-09-25"), actor=None, application=draft
    )
    scan.scan(now=moment("2026-09-26"))
    assert open_kinds(goods) == {"file_by"}
    submit(draft, "2026-09-28")
    assert open_kinds(goods) == set()


def test_a_bis_shipment_counts_90_calendar_days_back_from_submission(exporter):
    bis_item = authority("BIS").items.create(code="3A001", description="Electronics")
    goods = shipment(exporter, ship="2026-12-15", item=bis_item)
    assert goods.file_by_date == dt.date(2026, 9, 16)
    assert goods.file_by_at == dt.datetime(2026, 9, 17, tzinfo=NEW_YORK)


def test_a_fast_track_decision_moves_the_last_day_to_file_and_clears_the_flag(exporter, manager):
    goods = shipment(exporter, ship="2026-12-15")
    scan.scan(now=moment("2026-10-09"))
    assert open_kinds(goods) == {"file_by"}
    with time_machine.travel(moment("2026-10-09", 11), tick=False):
        decision_log(
            authority=authority("MOFCOM"),
            announced_on=dt.date(2026, 10, 9),
            source="Ministerial trade talks, press release of 9 October 2026",
            window_days=20,
            effective_from=dt.date(2026, 10, 9),
            actor=manager,
            now=moment("2026-10-09", 11),
        )
    goods.refresh_from_db()
    # 20 working days back from Tue 15 Dec is Tue 17 Nov, 10 more is Tue 3 Nov.
    assert goods.file_by_date == dt.date(2026, 11, 3)
    assert open_kinds(goods) == set()
    assert flag_events(goods)[-1] == ("flag_cleared", "file_by")


def test_a_general_draft_takes_the_window_of_a_general_license_rule(exporter, manager):
    WindowRule.objects.create(
        authority=authority("MOFCOM"), license_type="general", window_days=30, created_by=manager
    )
    draft = ApplicationFactory(exporter=exporter, license_type="general")
    goods = shipment(exporter, ship="2026-12-15", application=draft)
    individual = shipment(exporter, ship="2026-12-15")
    assert goods.file_by_date > individual.file_by_date


def test_a_shipment_with_a_rejected_application_needs_a_new_filing(exporter):
    app = mofcom_application(exporter, submitted="2026-09-01")
    goods = shipment(exporter, ship="2026-12-15", application=app, recorded=moment("2026-09-02"))
    when = moment("2026-09-24")
    services.application_reject(application=app, at=when, now=when, actor=None, reason="No EUC")
    assert open_kinds(goods) == {"file_by"}  # back to planned, past its last day to file


def test_an_open_at_risk_flag_keeps_its_lateness_when_the_ship_date_moves(exporter):
    app = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    goods = shipment(exporter, ship="2026-12-02", application=app, recorded=moment("2026-09-25"))
    flag = Flag.objects.get(shipment=goods, kind="at_risk", cleared_at__isnull=True)
    assert flag.late == dt.timedelta(days=1)  # due Thu 3 December, ships the 2nd
    shipping.shipment_update(
        shipment=goods,
        now=moment("2026-10-01"),
        actor=None,
        planned_ship_date=dt.date(2026, 11, 25),
    )
    flag.refresh_from_db()
    assert flag.cleared_at is None  # still at risk: the same flag, a new lateness
    assert flag.late == dt.timedelta(days=8)
