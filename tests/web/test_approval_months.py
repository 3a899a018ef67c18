"""The approval-time charts' months gone by, stored by the forecast pass (`ApprovalMonth`) so
that the dashboard sorts only the current month's approvals: what is stored agrees with the
applications, is what the dashboard shows, follows a decision dated back at once, and is left
aside wherever it cannot answer (a month not counted, several exporters, another zone).

Run at the web tests' pinned clock (18 November 2026): the moves' own forecast pass (inline
at this small authority) writes the months."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from monitoring import approvals
from monitoring.models import AlertPreference, ApprovalMonth

from .conftest import approve

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the months are stored on PostgreSQL only"
    ),
]

NOVEMBER, OCTOBER, SEPTEMBER, AUGUST = (dt.date(2026, m, 1) for m in (11, 10, 9, 8))


def history(world) -> None:
    """Approvals in November (the current month), October, September and August, for both
    exporters, with different waits."""
    for side, extra in ((world.mine, 0), (world.theirs, 7)):
        prefix = side.exporter.pk
        for n, (waited, decided) in enumerate([(10, 1), (25, 2), (12, 30), (40, 31), (33, 60)]):
            approve(side.exporter, f"A-{prefix}-{n}", decided + waited + extra, decided)
        approve(side.exporter, f"A-{prefix}-old", 100 + 50 + extra, 100)


def figures(user, now=None) -> dict[str, list[tuple]]:
    stats = approvals.approval_times(user=user, now=now or timezone.now())
    return {
        code: [(s.month, s.count, s.median, s.p90) for s in months]
        for code, months in stats.items()
    }


def computed(user) -> dict[str, list[tuple]]:
    """The same figures with nothing stored: all from the applications."""
    kept = list(ApprovalMonth.objects.all())
    ApprovalMonth.objects.all().delete()
    try:
        return figures(user)
    finally:
        ApprovalMonth.objects.bulk_create(kept)


def month_of(user, month: dt.date) -> tuple:
    return next(row for row in figures(user)["MOFCOM"] if row[0] == month)


def test_the_stored_months_agree_with_the_applications(officer, limited, world):
    history(world)
    stored = ApprovalMonth.objects.filter(time_zone="UTC", exporter__isnull=True)
    # Every month gone by of the window, approvals or none; never the current month.
    mofcom = stored.filter(authority__code="MOFCOM")
    assert mofcom.count() == approvals.MONTHS - 1
    assert not stored.filter(month=NOVEMBER).exists()
    assert mofcom.get(month=OCTOBER).n == 4 and mofcom.get(month=AUGUST).n == 2
    assert ApprovalMonth.objects.filter(exporter=world.mine.exporter, month=OCTOBER).get().n == 2
    for user in (officer, limited):
        assert figures(user) == computed(user)
    october = month_of(limited, OCTOBER)
    assert october[1:] == (2, pytest.approx(26), pytest.approx(37.2))  # waits of 12 and 40


def test_the_dashboard_shows_the_stored_month(officer, limited, world):
    history(world)
    ApprovalMonth.objects.filter(exporter__isnull=True, month=SEPTEMBER).update(median=999)
    ApprovalMonth.objects.filter(exporter=world.mine.exporter, month=SEPTEMBER).update(median=998)
    assert month_of(officer, SEPTEMBER)[2] == 999
    assert month_of(limited, SEPTEMBER)[2] == 998
    # The current month is always counted from the applications.
    assert month_of(officer, NOVEMBER)[1] == 4


def test_a_month_not_counted_for_every_authority_is_counted_from_the_applications(officer, world):
    history(world)
    ApprovalMonth.objects.filter(exporter__isnull=True, month=SEPTEMBER).update(median=999)
    # October was not counted for MOFCOM (as if the month ended after its last pass): from
    # October on, the months come from the applications; September still from the store.
    ApprovalMonth.objects.filter(authority__code="MOFCOM", month=OCTOBER).delete()
    assert month_of(officer, OCTOBER) == next(
        row for row in computed(officer)["MOFCOM"] if row[0] == OCTOBER
    )
    assert month_of(officer, SEPTEMBER)[2] == 999


def test_a_month_that_ended_after_the_last_pass_is_counted_from_the_applications(officer, world):
    history(world)
    # A month on, with no pass since: November is gone by but not stored.
    later = timezone.now() + dt.timedelta(days=30)
    november = next(row for row in figures(officer, later)["MOFCOM"] if row[0] == NOVEMBER)
    assert november[1] == 4 and november[2] is not None


def test_a_user_of_several_exporters_gets_months_counted_from_the_applications(
    officer, limited, world
):
    history(world)
    ApprovalMonth.objects.all().update(median=999)
    assert month_of(officer, OCTOBER)[2] == 999  # who sees every exporter reads the store
    limited.profile.exporters.add(world.theirs.exporter)
    limited.__dict__.pop("_visible_exporter_ids", None)  # the answer is kept for a request
    # Percentiles of two exporters cannot be combined: from the applications.
    assert month_of(limited, OCTOBER)[2] != 999
    assert figures(limited) == computed(officer)


def test_a_decision_dated_back_into_a_month_gone_by_shows_at_once(officer, world):
    history(world)
    before = month_of(officer, SEPTEMBER)
    approve(world.mine.exporter, "A-LATE", 80, 62)  # recorded today, approved in September
    after = month_of(officer, SEPTEMBER)
    assert after[1] == before[1] + 1
    assert figures(officer) == computed(officer)


def test_the_months_are_stored_for_the_time_zones_users_chose(officer, world):
    AlertPreference.objects.create(user=officer, time_zone="Pacific/Kiritimati")  # UTC+14
    history(world)
    zones = set(ApprovalMonth.objects.values_list("time_zone", flat=True))
    assert zones == {"UTC", "Pacific/Kiritimati"}
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):
        ApprovalMonth.objects.filter(time_zone="UTC").update(median=999)
        assert figures(officer) == computed(officer)
    # A zone nobody chose is counted from the applications.
    with timezone.override(zoneinfo.ZoneInfo("America/Anchorage")):
        assert figures(officer) == computed(officer)


def test_the_zone_of_users_who_chose_none_is_stored_whatever_the_sites(officer):
    # Users who chose no zone see the dashboard in UTC (the middleware's default), not in the
    # site's TIME_ZONE: both are stored.
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        assert approvals.zones() == ["Asia/Shanghai", "UTC"]
    AlertPreference.objects.create(user=officer, time_zone="Europe/Berlin")
    assert approvals.zones() == ["Europe/Berlin", "UTC"]
