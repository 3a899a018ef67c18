"""The work queue on the dashboard: what the user's exporters need done, most urgent first,
each row linking to the page where the work is done, and nothing of other exporters."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from licenses import services
from licenses.clock import calendar_for
from licenses.timeline import local_due_date, local_reply_due_date
from monitoring import workqueue
from shipments import services as shipping

from ..factories import ApplicationFactory, authority, item
from .conftest import WEB_NOW, ago, open_flag

pytestmark = pytest.mark.django_db


def planned_shipment(exporter, reference, *, ship_in_days=40):
    """A planned shipment with no application: its last day to file (MOFCOM: 55 working days
    before it ships) has passed."""
    now = timezone.now()
    return shipping.shipment_create(
        now=now,
        actor=None,
        exporter=exporter,
        reference=reference,
        item=item("1C902"),
        quantity=Decimal("50"),
        value=Decimal("9000"),
        currency="USD",
        destination="DE",
        planned_ship_date=(now + dt.timedelta(days=ship_in_days)).date(),
    )


def awaiting_our_reply(exporter, reference):
    """An ECJU application whose case officer asked for information two days ago: the reply
    is due 20 working days after the request."""
    ecju = authority("ECJU")
    app = ApplicationFactory(
        exporter=exporter,
        reference=reference,
        authority=ecju,
        items=[ecju.items.get_or_create(code="ML22", defaults={"description": "Technology"})[0]],
    )
    now = timezone.now()
    services.application_submit(application=app, at=ago(10), now=now, actor=None)
    services.application_request_info(
        application=app, at=ago(2), now=now, actor=None, reason="information"
    )
    app.refresh_from_db()
    return app


@pytest.fixture
def queue_world(world):
    gz_file = planned_shipment(world.mine.exporter, "GZ-FILE")
    bt_file = planned_shipment(world.theirs.exporter, "BT-FILE")
    reply = awaiting_our_reply(world.mine.exporter, "GZ-REPLY")
    open_flag(
        shipment=world.mine.shipment, exporter=world.mine.exporter, kind="at_risk", raised_at=ago(1)
    )
    return SimpleNamespace(world=world, gz_file=gz_file, bt_file=bt_file, reply=reply)


def beijing_today():
    return timezone.localtime(timezone.now(), authority("MOFCOM").tz).date()


def test_the_officers_queue_lists_every_kind_of_work_most_urgent_first(officer, queue_world):
    queue = workqueue.work_queue(user=officer, now=timezone.now())
    assert [(r.section, r.reference) for r in queue.rows] == [
        # Both applications were due on the same day, long ago: the most overdue come first.
        ("overdue", "BT-APP-1"),
        ("overdue", "GZ-APP-1"),
        # Their last day to file passed more recently.
        ("file_by", "BT-FILE"),
        ("file_by", "GZ-FILE"),
        # Ships in 5 days.
        ("at_risk", "GZ-SHP-1"),
        # The reply is due in about four weeks.
        ("reply_due", "GZ-REPLY"),
    ]
    counts = {s.code: s.count for s in queue.sections}
    assert counts == {
        "overdue": 2,
        "file_by": 2,
        "reply_due": 1,
        "license_expires": 0,
        "likely_late": 0,
        "at_risk": 1,
        "expiring": 0,
    }
    assert queue.total == 6


def test_each_row_states_its_deciding_date_in_words(officer, queue_world):
    q = queue_world
    rows = {r.reference: r for r in workqueue.work_queue(user=officer, now=timezone.now()).rows}
    today = beijing_today()

    overdue = rows["GZ-APP-1"]
    late = (today - local_due_date(q.world.mine.application)).days
    assert late > 60
    assert (overdue.date, overdue.when, overdue.late) == (
        local_due_date(q.world.mine.application),
        f"{late} days late",
        True,
    )

    filing = rows["GZ-FILE"]
    q.gz_file.refresh_from_db()
    assert filing.date == q.gz_file.file_by_date
    assert filing.when == f"{(today - q.gz_file.file_by_date).days} days late"

    answer = rows["GZ-REPLY"]
    due = local_reply_due_date(q.reply)
    working = calendar_for(authority("ECJU")).working_days_between(
        timezone.localtime(timezone.now(), authority("ECJU").tz).date(), due
    )
    assert answer.date == due and answer.when == f"in {working} working days" and working > 10

    risky = rows["GZ-SHP-1"]
    assert (risky.date, risky.when) == (q.world.mine.shipment.planned_ship_date, "in 5 days")


def test_working_days_in_words_skip_the_days_an_administrator_added(officer, queue_world):
    """A holiday added to ECJU's calendar between today and the reply's day is one working
    day fewer to reply; a Saturday added as a workday, one more."""
    from licenses.models import CalendarDay

    ecju = authority("ECJU")
    now = timezone.now()  # one instant for every reading below
    today = timezone.localtime(now, ecju.tz).date()
    due = local_reply_due_date(queue_world.reply)
    public = calendar_for(ecju)
    before = public.working_days_between(today, due)

    def reply_when() -> str:
        rows = workqueue.work_queue(user=officer, now=now).rows
        return next(r.when for r in rows if r.reference == "GZ-REPLY")

    assert reply_when() == f"in {before} working days"
    days = [today + dt.timedelta(days=n) for n in range(1, (due - today).days)]
    holiday = next(d for d in days if public.working_days_between(d - dt.timedelta(days=1), d))
    CalendarDay.objects.create(authority=ecju, date=holiday, kind="holiday")
    assert reply_when() == f"in {before - 1} working days"
    saturday = next(d for d in days if d.weekday() == 5 and d > holiday)
    CalendarDay.objects.create(authority=ecju, date=saturday, kind="workday")
    assert reply_when() == f"in {before} working days"


def test_dates_in_words_count_working_days_on_the_authoritys_calendar():
    china = calendar_for(authority("MOFCOM"))
    wednesday = dt.date(2026, 11, 18)

    def words(day, calendar=china):
        return workqueue._in_words(day, today=wednesday, calendar=calendar)[0]

    assert words(dt.date(2026, 11, 15)) == "3 days late"
    assert words(dt.date(2026, 11, 17)) == "1 day late"
    assert words(wednesday) == "today"
    assert words(dt.date(2026, 11, 19)) == "in 1 working day"
    assert words(dt.date(2026, 11, 23)) == "in 3 working days"  # Thursday, Friday, Monday
    assert words(dt.date(2026, 11, 23), calendar=None) == "in 5 days"
    assert words(None) == "no deadline set"


def test_each_row_links_to_the_page_where_the_work_is_done(client, officer, queue_world):
    q = queue_world
    rows = {r.reference: r for r in workqueue.work_queue(user=officer, now=timezone.now()).rows}
    assert rows["GZ-FILE"].action_url == f"/shipments/{q.gz_file.pk}/#file-application"
    assert rows["GZ-REPLY"].action_url == f"/applications/{q.reply.pk}/provide-info/"
    assert rows["GZ-APP-1"].action_url == f"/applications/{q.world.mine.application.pk}/"
    assert rows["GZ-SHP-1"].action_url == f"/shipments/{q.world.mine.shipment.pk}/"
    client.force_login(officer)
    shipment_page = client.get(rows["GZ-FILE"].action_url.split("#")[0]).content.decode()
    assert 'id="file-application"' in shipment_page
    assert "File an application for this shipment" in shipment_page
    reply_page = client.get(rows["GZ-REPLY"].action_url)
    assert reply_page.status_code == 200
    assert "Provide information" in reply_page.content.decode()
    for row in rows.values():
        assert client.get(row.subject_url).status_code == 200


def test_a_draft_already_filed_is_submitted_from_the_queue(officer, queue_world):
    q = queue_world
    draft = shipping.shipment_file_application(shipment=q.gz_file, now=timezone.now(), actor=None)
    rows = {r.reference: r for r in workqueue.work_queue(user=officer, now=timezone.now()).rows}
    assert rows["GZ-FILE"].action == f"Submit draft {draft.reference}"
    assert rows["GZ-FILE"].action_url == f"/applications/{draft.pk}/submit/"


def test_a_limited_user_sees_only_the_work_of_their_exporters(client, limited, queue_world):
    queue = workqueue.work_queue(user=limited, now=timezone.now())
    assert [r.reference for r in queue.rows] == ["GZ-APP-1", "GZ-FILE", "GZ-SHP-1", "GZ-REPLY"]
    assert {s.code: s.count for s in queue.sections}["file_by"] == 1
    cache.clear()
    client.force_login(limited)
    html = client.get("/").content.decode()
    assert "GZ-FILE" in html and "GZ-REPLY" in html
    assert "BT-" not in html and "Baotou" not in html


def test_a_user_limited_to_no_exporter_has_an_empty_queue(client, queue_world):
    from licenses import roles

    from ..conftest import make_user

    nobody = make_user("nils_none", roles.OFFICER, limited_to=[])
    queue = workqueue.work_queue(user=nobody, now=timezone.now())
    assert queue.rows == [] and queue.total == 0


def test_the_dashboard_shows_the_queue_with_links_to_the_full_lists(client, officer, queue_world):
    cache.clear()
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert 'id="work-queue"' in html and "My work" in html
    assert "/shipments/?status=planned&amp;sort=file_by" in html
    assert "/applications/?status=info_requested&amp;sort=due" in html
    assert html.index("BT-APP-1") < html.index("GZ-FILE") < html.index("GZ-REPLY")


def test_the_queue_costs_the_same_queries_for_many_rows_as_for_none(
    officer, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    officer.refresh_from_db()
    workqueue.work_queue(user=officer, now=now)  # the user's scope, read once per request
    with CaptureQueriesContext(connection) as few:
        workqueue.work_queue(user=officer, now=now)
    for n in range(15):
        planned_shipment(world.mine.exporter, f"GZ-MANY-{n}")
    for n in range(3):
        awaiting_our_reply(world.mine.exporter, f"GZ-ASK-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        queue = workqueue.work_queue(user=officer, now=now)
    assert len(few.captured_queries) <= 4
    assert {s.code: s.count for s in queue.sections}["file_by"] == 15
    # Each section gives its first rows: 2 overdue, 10 of the 15 to file, 3 replies.
    assert len(queue.rows) == 2 + workqueue.PER_SECTION + 3


def test_the_cached_dashboard_keeps_each_users_queue(client, officer, limited, queue_world):
    from monitoring import dashboard

    cache.clear()
    now = WEB_NOW

    def total(body: str) -> int:  # the work queue's badge
        found = re.search(r'id="work-h">[^<]*<span class="badge">(\d+)</span>', body)
        assert found, body
        return int(found.group(1))

    mine = dashboard.cached_dashboard(user=limited, now=now)
    every = dashboard.cached_dashboard(user=officer, now=now)
    again = dashboard.cached_dashboard(user=limited, now=now)
    assert total(every) == 6 and total(mine) == total(again) == 4


def test_the_statement_reused_for_another_moment_is_the_one_built_for_it(
    officer, limited, queue_world
):
    """The heads' statement is built once per scope and given each moment's values: for any
    moment and scope it is the statement built afresh for that moment."""
    workqueue._STATEMENTS.clear()
    for user in (officer, limited):
        for moment in (WEB_NOW, WEB_NOW + dt.timedelta(days=3, hours=7, microseconds=5)):
            assert workqueue._statement(user, moment) == workqueue._compiled(user, moment)
    assert len(workqueue._STATEMENTS) == 2  # one per scope


def test_a_moment_reaching_the_statement_unmapped_stops_its_reuse(officer, monkeypatch):
    """Were a section to filter on a value derived from the moment that is not among the
    moment's values (here the horizon, left out), reusing the statement would keep the value
    of the first moment: it is refused instead."""
    from django.core.exceptions import ImproperlyConfigured

    workqueue._STATEMENTS.clear()
    monkeypatch.setattr(workqueue, "_moment_values", lambda now: (now,))
    with pytest.raises(ImproperlyConfigured, match="depends on the moment"):
        workqueue._statement(officer, WEB_NOW)
    assert workqueue._STATEMENTS == {}
