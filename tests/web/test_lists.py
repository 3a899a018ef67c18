"""Lists filter, search, sort (whitelisted columns only) and paginate; a limited user's lists
and counts hold nothing of another exporter; the hot lists keep a flat number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from licenses import services
from monitoring.models import Flag

from ..factories import ApplicationFactory, ExporterFactory, ShipmentFactory
from .conftest import ago, build_side, open_flag

pytestmark = pytest.mark.django_db


def refs(response) -> list[str]:
    return [getattr(o, "reference", None) or o.name for o in response.context["rows"]]


@pytest.fixture
def signed_in(client, officer, world):
    client.force_login(officer)
    return client


def test_shipments_filter_by_each_criterion(signed_in, world):
    c = signed_in
    gz, bt = world.mine.exporter, world.theirs.exporter
    assert refs(c.get(f"/shipments/?exporter={gz.pk}")) == ["GZ-SHP-1"]
    assert refs(c.get("/shipments/?destination=jp")) == ["BT-SHP-1"]
    assert refs(c.get("/shipments/?status=awaiting_license&sort=reference")) == [
        "BT-SHP-1",
        "GZ-SHP-1",
    ]
    assert refs(c.get("/shipments/?status=cleared")) == []
    assert refs(c.get("/shipments/?authority=MOFCOM&sort=reference")) == ["BT-SHP-1", "GZ-SHP-1"]
    assert refs(c.get("/shipments/?authority=BIS")) == []
    open_flag(shipment=world.theirs.shipment, exporter=bt, kind="at_risk", raised_at=ago(1))
    assert refs(c.get("/shipments/?flag=at_risk")) == ["BT-SHP-1"]
    Flag.objects.filter(application=world.theirs.application).update(cleared_at=ago(0))
    assert refs(c.get("/shipments/?flag=overdue")) == ["GZ-SHP-1"]  # via its application
    soon = (timezone.now() + dt.timedelta(days=5)).date()
    assert len(refs(c.get(f"/shipments/?ship_from={soon}&ship_to={soon}"))) == 2
    assert refs(c.get(f"/shipments/?ship_from={soon + dt.timedelta(days=1)}")) == []


def test_the_due_date_range_is_read_in_the_users_days(signed_in, world):
    due = world.mine.application.due_at
    day = timezone.localtime(due).date()
    assert "GZ-APP-1" in refs(signed_in.get(f"/applications/?due_after={day}&due_before={day}"))
    after = day + dt.timedelta(days=1)
    assert "GZ-APP-1" not in refs(signed_in.get(f"/applications/?due_after={after}"))
    assert "GZ-SHP-1" in refs(signed_in.get(f"/shipments/?due_before={day}"))


def test_free_text_search_looks_at_references_and_names(signed_in, world):
    c = signed_in
    assert refs(c.get("/shipments/?q=gz-shp")) == ["GZ-SHP-1"]
    assert refs(c.get("/shipments/?q=Baotou")) == ["BT-SHP-1"]
    assert refs(c.get("/shipments/?q=BT Magnet")) == ["BT-SHP-1"]  # consignee name
    assert refs(c.get("/applications/?q=gz-app")) == ["GZ-APP-1"]
    assert refs(c.get("/exporters/?q=ganzhou")) == [world.mine.exporter.name]
    assert refs(c.get("/consignees/?q=BT")) == ["BT Magnet Works GmbH"]


def test_applications_filter_by_status_authority_type_and_flag(signed_in, world):
    c = signed_in
    draft = ApplicationFactory(exporter=world.mine.exporter, reference="GZ-DRAFT")
    assert refs(c.get("/applications/?status=draft")) == ["GZ-DRAFT"]
    assert set(refs(c.get("/applications/?status=pending"))) == {"GZ-APP-1", "BT-APP-1"}
    assert set(refs(c.get("/applications/?authority=MOFCOM"))) == {
        "GZ-APP-1",
        "BT-APP-1",
        "GZ-DRAFT",
    }
    assert refs(c.get("/applications/?license_type=general")) == []
    assert set(refs(c.get("/applications/?flag=overdue"))) == {"GZ-APP-1", "BT-APP-1"}
    assert draft


def test_only_whitelisted_columns_sort_and_headers_say_how(signed_in, world):
    c = signed_in
    assert refs(c.get("/shipments/?sort=reference")) == ["BT-SHP-1", "GZ-SHP-1"]
    assert refs(c.get("/shipments/?sort=-reference")) == ["GZ-SHP-1", "BT-SHP-1"]
    response = c.get("/shipments/?sort=exporter__password")  # not a column: the default
    assert response.status_code == 200 and response.context["sort"] == "ship_date"
    html = c.get("/shipments/?sort=-reference&destination=DE").content.decode()
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=reference&amp;destination=DE"' in html  # keeps the filters, flips


def test_lists_paginate_and_keep_their_filters(signed_in, world, monkeypatch):
    from shipments.views import ShipmentList

    monkeypatch.setattr(ShipmentList, "paginate_by", 1)
    first = signed_in.get("/shipments/?sort=reference&status=awaiting_license")
    assert refs(first) == ["BT-SHP-1"]
    html = first.content.decode()
    assert "?sort=reference&amp;status=awaiting_license&amp;page=2" in html
    assert refs(signed_in.get("/shipments/?sort=reference&status=awaiting_license&page=2")) == [
        "GZ-SHP-1"
    ]
    assert refs(signed_in.get("/shipments/?sort=reference&page=99")) == ["GZ-SHP-1"]  # the last


def test_an_invalid_filter_shows_its_error_and_is_not_applied(signed_in, world):
    response = signed_in.get("/shipments/?ship_from=yesterday&destination=DE")
    assert refs(response) == ["GZ-SHP-1"]  # the other filters still apply
    assert response.context["filter"].form.errors["ship_from"] == ["Enter a valid date."]
    assert response.context["ignored_filters"] == ["Ship date from (“yesterday”)"]


def test_a_limited_user_sees_only_its_exporters_rows_and_counts(client, limited, world):
    client.force_login(limited)
    for url, expected in (
        ("/shipments/", ["GZ-SHP-1"]),
        ("/applications/", ["GZ-APP-1"]),
        ("/exporters/", [world.mine.exporter.name]),
        ("/consignees/", ["GZ Magnet Works GmbH"]),
    ):
        response = client.get(url)
        assert refs(response) == expected, url
        assert "Baotou" not in response.content.decode() and "BT-" not in response.content.decode()
        assert "1 row" in response.content.decode()
    form = client.get("/shipments/").context["filter"].form
    assert list(form.fields["exporter"].queryset) == [world.mine.exporter]


def test_a_limited_user_does_not_see_other_exporters_in_fast_track_scopes(
    client, limited, world, officer
):
    from licenses.models import FastTrackDecision

    decision = FastTrackDecision.objects.create(
        authority=world.mine.application.authority,
        announced_on=timezone.localdate(),
        source="Ministerial trade talks",
        window_days=20,
        effective_from=timezone.localdate(),
        affected_count=7,
    )
    decision.exporters.set([world.mine.exporter, world.theirs.exporter])
    client.force_login(limited)
    html = client.get("/fast-track/").content.decode()
    assert world.mine.exporter.name in html and "Baotou" not in html
    assert "7 applications" not in html  # the stored count spans every exporter
    client.force_login(officer)
    assert "7 applications moved" in client.get("/fast-track/").content.decode()


def many(exporter, n: int) -> None:
    for i in range(n):
        app = ApplicationFactory(exporter=exporter, reference=f"Q-APP-{i}")
        services.application_submit(application=app, at=ago(60), now=timezone.now(), actor=None)
        ShipmentFactory(exporter=exporter, reference=f"Q-SHP-{i}", application=app)
        open_flag(application=app, exporter=exporter, kind="overdue", raised_at=ago(2))


@pytest.mark.parametrize("url", ["/shipments/", "/applications/", "/"])
def test_the_hot_pages_take_as_many_queries_for_many_rows_as_for_one(
    client, officer, url, django_assert_max_num_queries
):
    exporter = ExporterFactory()
    build_side(exporter, "ONE")
    client.force_login(officer)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    many(exporter, 30)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_list_rows_drawn_by_fragments_say_what_the_templates_said(signed_in, world):
    """The two lists' rows are drawn by Jinja2 fragments (`fragments/`): their cell names and
    the likely decision's "9 in 10 by" come translated from the page's template, a name with
    markup in it is escaped as Django escapes it, and the status and flag chips show."""
    from licenses.models import Exporter, LicenseApplication

    c = signed_in
    Exporter.objects.filter(pk=world.mine.exporter.pk).update(name="Ganzhou <b>&\"' Ltd")
    LicenseApplication.objects.filter(pk=world.mine.application.pk).update(
        forecast_p50=dt.date(2027, 1, 15), forecast_p90=dt.date(2027, 1, 20)
    )
    escaped = "Ganzhou &lt;b&gt;&amp;&quot;&#x27; Ltd"
    apps = c.get(f"/applications/?exporter={world.mine.exporter.pk}").content.decode()
    assert f'<span class="clip" tabindex="0" title="{escaped}">{escaped}</span>' in apps
    assert '<span title="9 in 10 by 2027-01-20">2027-01-15</span>' in apps
    assert 'data-label="Items">1C902</td>' in apps and '<span class="flag flag-overdue">' in apps
    ships = c.get(f"/shipments/?exporter={world.mine.exporter.pk}").content.decode()
    assert f'<span class="clip" tabindex="0" title="{escaped}">{escaped}</span>' in ships
    assert 'data-label="Ship date" class="date">' in ships and "<b>" not in apps + ships
    c.cookies["django_language"] = "zh-hans"
    apps = c.get("/applications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span title="九成把握不晚于 2027-01-20">2027-01-15</span>' in apps
    assert 'data-label="物项">1C902</td>' in apps
    ships = c.get("/shipments/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-label="发运日期" class="date">' in ships
