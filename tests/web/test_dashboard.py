"""The dashboard's numbers, lists and charts, always for the user asking: counts by state and
open flag, overdue and at-risk lists with days past due, pending by authority, approval time
(median and 90th percentile by authority and month) and open flags over time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses import services
from licenses.timeline import local_due_date
from monitoring import approvals, dashboard, flag_tallies
from monitoring.models import Alert, Flag

from ..factories import ApplicationFactory
from .conftest import ago, approve, open_flag

pytestmark = pytest.mark.django_db


def tally(rows, code):
    return next(t.count for t in rows if t.code == code)


def test_counts_by_state_and_open_flag_are_the_users_own(officer, limited, world):
    every = dashboard.status_counts(user=officer)
    mine = dashboard.status_counts(user=limited)
    assert tally(every["applications"], "submitted") == 2
    assert tally(mine["applications"], "submitted") == 1
    assert tally(mine["shipments"], "awaiting_license") == 1
    assert tally(dashboard.flag_counts(user=officer), "overdue") == 2
    assert tally(dashboard.flag_counts(user=limited), "overdue") == 1
    assert dict((t.code, t.url) for t in mine["applications"])["submitted"] == (
        "/applications/?status=submitted"
    )


def test_the_overdue_list_gives_days_past_due_and_the_waiting_shipments(officer, limited, world):
    now = timezone.now()
    rows = dashboard.overdue_applications(user=limited, now=now)
    assert [r.reference for r in rows] == ["GZ-APP-1"]
    row, app = rows[0], world.mine.application
    assert row.pk == app.pk and row.due_date == local_due_date(app)
    assert row.days_past_due == (now - app.due_at).days > 60
    assert [s.reference for s in row.shipments] == ["GZ-SHP-1"]
    assert row.waiting == [
        (
            f"/shipments/{world.mine.shipment.pk}/",
            "GZ-SHP-1",
            world.mine.shipment.planned_ship_date.isoformat(),
        )
    ]
    assert sum(dashboard.overdue_by_authority(user=officer).values()) == 2


def test_a_shipment_is_at_risk_when_its_license_is_due_after_its_ship_date(officer, world):
    now = timezone.now()
    app = ApplicationFactory(exporter=world.mine.exporter, reference="GZ-SLOW")
    from ..factories import ShipmentFactory

    late = ShipmentFactory(
        exporter=app.exporter,
        reference="GZ-LATE",
        application=app,
        planned_ship_date=(now + dt.timedelta(days=2)).date(),
    )
    services.application_submit(application=app, at=ago(1), now=now, actor=None)
    rows = dashboard.at_risk_shipments(user=officer, now=now)
    late_row = next(r for r in rows if r.pk == late.pk)
    app.refresh_from_db()
    assert late_row.due_date == local_due_date(app)
    assert late_row.days_late == (late_row.due_date - late.planned_ship_date).days > 0
    assert (late_row.reference, late_row.application_reference) == ("GZ-LATE", "GZ-SLOW")
    # The world's shipments ship in 5 days, but their licenses were due long ago: not at risk
    # (they are overdue, on the other list).
    assert world.mine.shipment.pk not in [r.pk for r in rows]


def test_a_shipment_the_scan_flagged_at_risk_is_listed(officer, world):
    open_flag(
        shipment=world.mine.shipment, exporter=world.mine.exporter, kind="at_risk", raised_at=ago(1)
    )
    rows = dashboard.at_risk_shipments(user=officer, now=timezone.now())
    assert [r.pk for r in rows] == [world.mine.shipment.pk]


def test_pending_by_authority_counts_pending_and_overdue(officer, limited, world):
    rows = dashboard.pending_by_authority(user=officer)
    assert [(r.code, r.pending, r.overdue) for r in rows] == [("MOFCOM", 2, 2)]
    assert rows[0].url == "/applications/?authority=MOFCOM&status=pending"
    assert [(r.code, r.pending) for r in dashboard.pending_by_authority(user=limited)] == [
        ("MOFCOM", 1)
    ]


def test_approval_time_is_the_median_and_90th_percentile_by_month(officer, limited, world):
    exporter = world.mine.exporter
    for n, days in enumerate([10, 20, 30, 40, 100]):
        approve(exporter, f"A-{n}", days + 1, 1)  # all approved yesterday
    approve(world.theirs.exporter, "B-1", 301, 1)
    now = timezone.now()
    stats = approvals.approval_times(user=limited, now=now)["MOFCOM"]
    month = timezone.localtime(ago(1)).date().replace(day=1)
    this = next(s for s in stats if s.month == month)
    assert this.count == 5
    assert this.median == pytest.approx(30, abs=0.01)
    assert this.p90 == pytest.approx(76, abs=0.01)  # between 40 and 100
    everyone = next(
        s for s in approvals.approval_times(user=officer, now=now)["MOFCOM"] if s.month == month
    )
    assert everyone.count == 6
    assert len(stats) == 12 and all(s.count == 0 for s in stats if s.month != month)


def test_open_flags_over_time_come_from_when_each_was_raised_and_cleared(limited, world):
    exporter = world.mine.exporter
    app = world.mine.application
    Alert.objects.filter(flag__application=app).delete()  # the scan's own, for a clean slate
    Flag.objects.filter(application=app).delete()
    Flag.objects.create(
        application=app, exporter=exporter, kind="overdue", raised_at=ago(10), cleared_at=ago(5)
    )
    open_flag(application=app, exporter=exporter, kind="overdue", raised_at=ago(3))
    Flag.objects.create(
        application=app, exporter=exporter, kind="due_soon", raised_at=ago(200), cleared_at=ago(150)
    )
    open_flag(
        application=world.theirs.application,
        exporter=world.theirs.exporter,
        kind="expiring",
        raised_at=ago(4),
    )
    flag_tallies.rebuild(now=timezone.now())  # written around the scan: recounted
    days, series = dashboard.open_flags_over_time(user=limited, now=timezone.now(), days=14)
    assert len(days) == 14 and days[-1] == timezone.localdate()
    assert series["overdue"] == [0] * 3 + [1] * 5 + [0] * 2 + [1] * 4
    assert series["due_soon"] == [0] * 14
    assert series["expiring"] == [0] * 14  # another exporter's


def test_percentiles_interpolate_between_ranks():
    assert approvals.percentile([], 50) is None
    assert approvals.percentile([4], 90) == 4
    assert approvals.percentile([1, 2, 3, 4], 50) == 2.5
    assert approvals.percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_a_line_chart_leaves_gaps_for_missing_values_and_rounds_its_axis():
    chart = dashboard.line_chart(
        id="c",
        title="t",
        description="d",
        x_labels=["a", "b", "c", "d"],
        series=[("m", "series-median", [1.0, None, 3.0, 7.3])],
        y_label="days",
    )
    (line,) = chart.lines
    assert len(line.segments) == 1 and line.segments[0].count(",") == 2  # c-d only
    assert len(line.points) == 3
    assert chart.y_ticks[-1][1] == "10" and chart.y_ticks[0][1] == "0"
    assert chart.table_rows[1] == ["b", ""]
    assert dashboard.nice_ceiling(7.3) == 10 and dashboard.nice_ceiling(42) == 50
    # Counts get whole steps: 0, 3, 6, 9, 12 rather than 0, 2.5, 5, 7.5, 10.
    assert dashboard.axis_top(9, whole=True) == 12 and dashboard.axis_top(2, whole=True) == 4


def test_the_dashboard_page_draws_its_charts_as_svg_without_script(client, officer, world):
    approve(world.mine.exporter, "A-1", 40, 2)
    client.force_login(officer)
    html = client.get("/").content.decode()
    assert html.count('<svg class="chart-svg"') == 2
    assert "<polyline" in html and "<script>" not in html
    assert "GZ-APP-1" in html and "GZ-SHP-1" in html  # the overdue list


def test_a_limited_users_dashboard_shows_nothing_of_another_exporter(client, limited, world):
    approve(world.theirs.exporter, "BT-DONE", 40, 2)
    client.force_login(limited)
    html = client.get("/").content.decode()
    assert "BT-" not in html and "Baotou" not in html
    assert "approval-mofcom" not in html  # its only approval is another exporter's


def test_the_rows_drawn_by_fragments_are_escaped_as_the_page_around_them(client, officer, world):
    """The work queue, the overdue list and the at-risk list are drawn by Jinja2 fragments
    (`{% fragment %}`): a name with markup in it prints as Django prints it, in each."""
    from django.core.cache import cache

    from licenses.models import Exporter

    open_flag(
        shipment=world.mine.shipment, exporter=world.mine.exporter, kind="at_risk", raised_at=ago(1)
    )
    Exporter.objects.filter(pk=world.mine.exporter.pk).update(name="Ganzhou <b>&\"' Ltd")
    cache.clear()
    client.force_login(officer)
    html = client.get("/").content.decode()
    escaped = "Ganzhou &lt;b&gt;&amp;&quot;&#x27; Ltd"
    work = html[html.index('id="work-queue"') : html.index('id="counts-h"')]
    overdue = html[html.index('id="overdue-h"') : html.index('id="risk-h"')]
    at_risk = html[html.index('id="risk-h"') : html.index('id="auth-h"')]
    assert f'title="{escaped}">{escaped}</span>' in work
    assert f"<td>{escaped}</td>" in overdue and f"<td>{escaped}</td>" in at_risk
    assert "<b>" not in html


def test_a_fragment_refuses_a_value_it_was_not_given():
    """A fragment's names must be given: a missing one is an error, not an empty cell."""
    import jinja2
    from django.template import Context, Template

    page = Template('{% load web_tags %}{% fragment "monitoring/_overdue_rows.html" %}')
    with pytest.raises(jinja2.UndefinedError, match="'rows' is undefined"):
        page.render(Context({}))
