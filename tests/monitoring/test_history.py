"""The dashboard's observed figures per authority: median, 90th percentile, the share decided
within the window, the approval rate and the survival chart's figures, from the user's own
applications only."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses import services
from licenses.services.forecasts import forecasts_refresh
from monitoring.history import authority_history

from ..licenses.test_forecast_service import bis_application, decided_history, moment

pytestmark = pytest.mark.django_db


def test_observed_figures_and_the_survival_table(ganzhou, baotou, bis_item, officer, limited):
    # Ganzhou: decisions after 10..29 days (twenty), then one rejected after 100 days
    # (beyond BIS's 90-day window). Baotou: one pending application, seen only by the officer.
    decided_history(ganzhou, bis_item)
    late = bis_application(ganzhou, bis_item, submitted=dt.date(2026, 1, 5))
    when = moment(dt.date(2026, 1, 5) + dt.timedelta(days=100))
    services.application_reject(application=late, at=when, now=when, actor=None, reason="No.")
    bis_application(baotou, bis_item, submitted=dt.date(2026, 5, 1))
    forecasts_refresh(now=moment(dt.date(2026, 6, 1)))

    [mine] = authority_history(user=limited)
    # 21 decisions, nothing censored: S(10 + k) = (20 - k) / 21 for k < 20, S(100) = 0.
    assert (mine.code, mine.decided, mine.censored) == ("BIS", 21, 0)
    assert mine.median == 20  # S(20) = 10/21 is the first <= 1/2
    assert mine.p90 == 28  # S(28) = 2/21 is the first <= 1/10
    assert mine.within_window == pytest.approx(20 / 21)
    assert mine.approval_rate == pytest.approx(20 / 21)
    table = dict(mine.chart.table_rows)
    assert table["0"] == "100"
    assert mine.chart.table_head[1] == "still undecided (%)"

    [everyone] = authority_history(user=officer)
    assert (everyone.decided, everyone.censored) == (21, 1)  # Baotou's pending one too


def test_the_dashboard_shows_the_figures(client, ganzhou, bis_item, officer):
    decided_history(ganzhou, bis_item)
    client.force_login(officer)
    page = client.get("/").content.decode()
    assert "What each authority actually takes" in page
    assert 'id="survival-bis"' in page
