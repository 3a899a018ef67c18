"""Pauses with reasons, reply deadlines, referred and returned applications, resubmission, and
the corrections of these moves."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import IllegalMove, InvalidInput
from licenses import services
from licenses.authorities import authority_update
from licenses.models import ClockPause, LicenseApplication
from monitoring import scan
from monitoring.models import Flag
from shipments.models import Shipment

from ..factories import ApplicationFactory, authority
from ..helpers import LONDON, NEW_YORK, NOW, SHANGHAI, accepted, at, local_due, submitted
from ..monitoring.builders import shipment

pytestmark = pytest.mark.django_db

PAUSE_REASONS = ["information", "expert_review", "inspection", "identification"]


def request_info(app, day: str, *, reason: str | None = None, tz=SHANGHAI):
    kwargs = {"reason": reason} if reason else {}
    return services.application_request_info(
        application=app, at=at(day, tz=tz), now=NOW, actor=None, **kwargs
    )


def provide_info(app, day: str, *, tz=SHANGHAI):
    return services.application_provide_info(
        application=app, at=at(day, tz=tz), now=NOW, actor=None
    )


def refer(app, day: str, reason: str = "state_council"):
    return services.application_refer(
        application=app, at=at(day), now=NOW, actor=None, reason=reason, note="Reported"
    )


def give_back(app, day: str):
    return services.application_return(application=app, at=at(day), now=NOW, actor=None)


def resubmit(app, day: str, *, tz=SHANGHAI):
    return services.application_resubmit(application=app, at=at(day, tz=tz), now=NOW, actor=None)


def correct(app, *, undo: bool = False, day: str | None = None):
    return services.application_correct(
        application=app,
        now=NOW,
        actor=None,
        note="Wrong entry",
        undo=undo,
        at=at(day) if day else None,
    )


def ecju_application():
    ecju = authority("ECJU")
    return ApplicationFactory(
        authority=ecju, items=[ecju.items.create(code="ML22", description="T")]
    )


def bis_application():
    bis = authority("BIS")
    return ApplicationFactory(
        authority=bis, items=[bis.items.create(code="3A001", description="E")]
    )


# --- pauses with reasons --------------------------------------------------------------------


@pytest.mark.parametrize("reason", PAUSE_REASONS)
def test_every_pause_reason_stops_mofcoms_45_working_days(reason):
    # The specification's example (due 3 December 2026) with a pause from Monday 12 to Monday
    # 19 October: five working days do not count, so it is due a week later.
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    assert local_due(app) == dt.date(2026, 12, 3)
    request_info(app, "2026-10-12", reason=reason)
    assert (app.status, app.due_at, app.pause_reason) == ("info_requested", None, reason)
    assert ClockPause.objects.get(application=app).reason == reason
    provide_info(app, "2026-10-19")
    assert (app.status, app.pause_reason) == ("accepted", None)
    assert local_due(app) == dt.date(2026, 12, 10)


def test_the_reason_defaults_to_information_and_an_unknown_one_is_refused():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    with pytest.raises(InvalidInput) as exc:
        request_info(app, "2026-10-12", reason="coffee_break")
    assert "reason" in exc.value.fields
    assert LicenseApplication.objects.get(pk=app.pk).status == "submitted"
    request_info(app, "2026-10-12")
    assert app.pause_reason == "information"


# --- reply deadlines ------------------------------------------------------------------------


def test_ecju_gives_20_working_days_to_reply_skipping_bank_holidays():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    # day 0 is Tuesday 28 April; the early May (4 May) and spring (25 May) bank holidays skip
    assert app.reply_due_at == dt.datetime(2026, 5, 29, tzinfo=LONDON)
    provide_info(app, "2026-05-06", tz=LONDON)
    assert app.reply_due_at is None and app.pause_reason is None


def test_bis_gives_10_calendar_days_to_reply():
    app = bis_application()
    submitted(app, "2026-01-15", tz=NEW_YORK)
    request_info(app, "2026-01-20", tz=NEW_YORK)
    assert app.reply_due_at == dt.datetime(2026, 1, 31, tzinfo=NEW_YORK)


def test_mofcom_sets_no_reply_deadline():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    request_info(app, "2026-10-12")
    assert app.status == "info_requested" and app.reply_due_at is None


def test_only_a_request_for_information_has_a_reply_deadline():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", reason="expert_review", tz=LONDON)
    assert app.pause_reason == "expert_review" and app.reply_due_at is None


def test_editing_an_authoritys_reply_window_moves_open_reply_deadlines():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    ecju = authority("ECJU")
    authority_update(authority=ecju, now=NOW, actor=None, reply_window_days=5)
    app.refresh_from_db()
    assert app.reply_due_at == dt.datetime(2026, 5, 7, tzinfo=LONDON)  # 4 May skipped
    authority_update(authority=ecju, now=NOW, actor=None, reply_window_unit="calendar")
    app.refresh_from_db()
    assert app.reply_due_at == dt.datetime(2026, 5, 4, tzinfo=LONDON)
    authority_update(authority=ecju, now=NOW, actor=None, reply_window_days=None)
    app.refresh_from_db()
    assert app.reply_due_at is None


def test_the_recompute_command_restores_a_reply_deadline():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    LicenseApplication.objects.filter(pk=app.pk).update(reply_due_at=None)
    services.recompute_due_dates(now=NOW)
    app.refresh_from_db()
    assert app.reply_due_at == dt.datetime(2026, 5, 29, tzinfo=LONDON)


# --- referred: no time limit ----------------------------------------------------------------


def test_a_referred_application_has_no_due_date_and_is_never_overdue_or_due_soon():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    accepted(app, "2026-06-03")
    planned = shipment(app.exporter, ship="2026-12-15", application=app)
    refer(app, "2026-06-10", reason="watch_list")
    assert (app.status, app.due_at, app.referral_reason) == ("referred", None, "watch_list")
    assert app.is_pending
    planned.refresh_from_db()
    assert planned.status == "awaiting_license"
    for later in (NOW, NOW + dt.timedelta(days=400)):
        scan.scan(now=later)
        kinds = set(
            Flag.objects.filter(application=app, cleared_at__isnull=True).values_list(
                "kind", flat=True
            )
        )
        assert not kinds & {"overdue", "due_soon"}
    services.recompute_due_dates(now=NOW)
    assert LicenseApplication.objects.get(pk=app.pk).due_at is None


def test_a_referral_ends_an_open_request_for_information():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    refer(app, "2026-05-05", reason="interagency")
    assert (app.status, app.pause_reason, app.reply_due_at) == ("referred", None, None)
    pause = ClockPause.objects.get(application=app)
    assert pause.provided_at == at("2026-05-05")


def test_a_referral_needs_a_known_reason():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    with pytest.raises(InvalidInput) as exc:
        refer(app, "2026-06-10", reason="")
    assert "reason" in exc.value.fields
    assert LicenseApplication.objects.get(pk=app.pk).status == "submitted"


def test_from_referred_only_approve_reject_withdraw_and_return():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    refer(app, "2026-06-10")
    assert services.legal_moves(app) == ["approve", "reject", "withdraw", "return"]
    with pytest.raises(IllegalMove):
        request_info(app, "2026-06-11")


# --- returned and resubmitted ---------------------------------------------------------------


def test_a_returned_application_is_not_pending_and_its_shipments_are_planned_again():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    planned = shipment(app.exporter, ship="2026-12-15", application=app)
    planned.refresh_from_db()
    assert planned.status == "awaiting_license"
    request_info(app, "2026-06-05")
    give_back(app, "2026-06-20")
    assert (app.status, app.due_at, app.pause_reason) == ("returned", None, None)
    assert not app.is_pending
    assert ClockPause.objects.get(application=app).provided_at == at("2026-06-20")
    assert Shipment.objects.get(pk=planned.pk).status == "planned"
    assert services.legal_moves(app) == ["resubmit"]


def test_a_resubmission_starts_the_clock_again_and_nothing_before_it_counts():
    # Filed in June, paused, accepted, returned; filed again on 20 September and accepted on
    # 24 September: due exactly as the specification's fresh example, 3 December.
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    request_info(app, "2026-06-02")
    provide_info(app, "2026-06-30")
    accepted(app, "2026-07-01")
    give_back(app, "2026-08-20")
    resubmit(app, "2026-09-20")
    assert app.status == "submitted"
    assert app.submitted_at == at("2026-09-20") and app.accepted_at is None
    # MOFCOM must accept it again: first the acceptance deadline, from the resubmission
    # 10 working days: National Day (1-7 October) skipped, Saturday 10 October a make-up day
    assert local_due(app) == dt.date(2026, 10, 10)
    accepted(app, "2026-09-24")
    assert local_due(app) == dt.date(2026, 12, 3)


def test_a_resubmission_ignores_a_pause_left_open_before_it():
    # A pause left open by a path that bypassed the services must not stop the new clock.
    app = bis_application()
    submitted(app, "2026-01-05", tz=NEW_YORK)
    give_back(app, "2026-01-10")
    ClockPause.objects.create(
        application=app, requested_at=at("2026-01-06", tz=NEW_YORK), resume_status="submitted"
    )
    resubmit(app, "2026-01-15", tz=NEW_YORK)
    assert local_due(app, NEW_YORK) == dt.date(2026, 4, 15)


# --- corrections ----------------------------------------------------------------------------


def test_undoing_a_request_for_information_forgets_its_reason_and_deadline():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    correct(app, undo=True)
    assert (app.status, app.pause_reason, app.reply_due_at) == ("submitted", None, None)
    assert not ClockPause.objects.filter(application=app).exists()


def test_re_dating_a_request_for_information_moves_its_reply_deadline():
    app = bis_application()
    submitted(app, "2026-01-15", tz=NEW_YORK)
    request_info(app, "2026-01-20", tz=NEW_YORK)
    services.application_correct(
        application=app, now=NOW, actor=None, note="Earlier", at=at("2026-01-18", tz=NEW_YORK)
    )
    assert app.reply_due_at == dt.datetime(2026, 1, 29, tzinfo=NEW_YORK)


def test_undoing_provide_info_reopens_the_pause_with_its_reason():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    request_info(app, "2026-10-12", reason="inspection")
    provide_info(app, "2026-10-19")
    correct(app, undo=True)
    assert (app.status, app.pause_reason) == ("info_requested", "inspection")


def test_undoing_a_referral_reopens_the_request_it_ended():
    app = ecju_application()
    submitted(app, "2026-04-20", tz=LONDON)
    request_info(app, "2026-04-28", tz=LONDON)
    refer(app, "2026-05-05")
    correct(app, undo=True)
    assert (app.status, app.pause_reason, app.referral_reason) == (
        "info_requested",
        "information",
        None,
    )
    assert app.reply_due_at == dt.datetime(2026, 5, 29, tzinfo=LONDON)
    assert ClockPause.objects.get(application=app).provided_at is None


def test_re_dating_a_referral_moves_the_end_of_the_pause_it_ended():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    request_info(app, "2026-10-12")
    refer(app, "2026-10-19")
    correct(app, day="2026-10-15")
    assert app.status == "referred" and app.last_moved_at == at("2026-10-15")
    assert ClockPause.objects.get(application=app).provided_at == at("2026-10-15")
    with pytest.raises(InvalidInput):
        correct(app, day="2026-10-10")  # before the request: before the previous move


def test_undoing_a_return_makes_the_application_pending_again():
    app = ApplicationFactory()
    submitted(app, "2026-09-20")
    accepted(app, "2026-09-24")
    planned = shipment(app.exporter, ship="2026-12-15", application=app)
    give_back(app, "2026-10-01")
    assert Shipment.objects.get(pk=planned.pk).status == "planned"
    correct(app, undo=True)
    assert app.status == "accepted" and local_due(app) == dt.date(2026, 12, 3)
    assert Shipment.objects.get(pk=planned.pk).status == "awaiting_license"


def test_undoing_a_resubmission_restores_the_previous_submission():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    accepted(app, "2026-06-03")
    refer(app, "2026-06-10", reason="watch_list")
    give_back(app, "2026-08-20")
    resubmit(app, "2026-09-20")
    assert app.referral_reason is None
    correct(app, undo=True)
    assert app.status == "returned"
    assert app.submitted_at == at("2026-06-01") and app.accepted_at == at("2026-06-03")
    assert app.referral_reason == "watch_list" and app.due_at is None


def test_re_dating_a_resubmission_moves_day_0():
    app = ApplicationFactory()
    submitted(app, "2026-06-01")
    give_back(app, "2026-08-20")
    resubmit(app, "2026-09-20")
    correct(app, day="2026-09-14")
    assert app.submitted_at == at("2026-09-14")
    assert local_due(app) == dt.date(2026, 9, 28)  # the acceptance deadline from 14 Sept
