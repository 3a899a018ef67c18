"""Lists: `{"next", "previous", "results"}`, keyset pages over fixed orderings (nulls
included), `page_size` 1-100, search and the filters the contract names."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest

from licenses import events
from licenses.models import LicenseApplication
from monitoring.models import Flag
from tests.factories import ApplicationFactory, ConsigneeFactory, ShipmentFactory, authority
from tests.helpers import LONDON, NOW, SHANGHAI

pytestmark = pytest.mark.django_db


def walk(client, url: str) -> tuple[list[int], list[str]]:
    """Every id, following `next` links; and the links followed."""
    ids, links = [], []
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
        if url:
            links.append(url)
    return ids, links


def walk_back(client, url: str) -> list[int]:
    ids: list[int] = []
    while url:
        body = client.get(url).json()
        ids = [row["id"] for row in body["results"]] + ids
        url = body["previous"]
    return ids


@pytest.fixture
def applications(ganzhou):
    """Seven applications, four with due dates (two equal), three without."""
    due = [
        None,
        dt.datetime(2026, 12, 3, tzinfo=SHANGHAI),
        None,
        dt.datetime(2026, 12, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 3, tzinfo=SHANGHAI),
        None,
        dt.datetime(2026, 11, 30, tzinfo=SHANGHAI),
    ]
    apps = []
    for i, due_at in enumerate(due):
        app = ApplicationFactory(exporter=ganzhou, reference=f"R-{(i * 3) % 7}")
        LicenseApplication.objects.filter(pk=app.pk).update(due_at=due_at)
        apps.append(LicenseApplication.objects.get(pk=app.pk))
    return apps


def expected_order(apps, key: str) -> list[int]:
    name, descending = key.lstrip("-"), key.startswith("-")
    big = dt.datetime.max.replace(tzinfo=dt.UTC)

    def sort_key(app):
        value = getattr(app, name)
        if name == "due_at" and value is None:
            value = big  # nulls are the greatest value
        return (value, app.pk)

    return [a.pk for a in sorted(apps, key=sort_key, reverse=descending)]


@pytest.mark.parametrize("ordering", ["-id", "id", "due_at", "-due_at", "reference", "-reference"])
def test_pages_follow_the_ordering_without_gaps_or_repeats_both_ways(
    api, officer, applications, ordering
):
    client = api(officer)
    ids, links = walk(client, f"/api/v1/applications/?page_size=2&ordering={ordering}")
    assert ids == expected_order(applications, ordering)
    assert len(links) == 3
    last_page = client.get(links[-1]).json()
    assert last_page["next"] is None
    assert walk_back(client, links[-1]) == ids


def test_the_first_page_has_no_previous_and_the_default_size_is_fifty(api, officer, ganzhou):
    for _ in range(51):
        ConsigneeFactory(exporter=ganzhou)
    body = api(officer).get("/api/v1/consignees/").json()
    assert body["previous"] is None
    assert len(body["results"]) == 50
    assert "cursor=" in body["next"]


def test_rows_added_meanwhile_neither_repeat_nor_vanish(api, officer, applications, ganzhou):
    client = api(officer)
    first = client.get("/api/v1/applications/?page_size=3&ordering=id").json()
    newcomer = ApplicationFactory(exporter=ganzhou)
    rest, _ = walk(client, first["next"])
    assert [r["id"] for r in first["results"]] + rest == sorted(
        [a.pk for a in applications] + [newcomer.pk]
    )


@pytest.mark.parametrize(
    "query,field",
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("ordering=status", "ordering"),
        ("cursor=garbage", "cursor"),
        ("cursor=eyJvIjoiaWQiLCJ2IjpbMV19", "cursor"),  # made for another ordering
        ("status=pending", "status"),
        ("exporter=abc", "exporter"),
        ("due_before=soon", "due_before"),
        ("due_after=2026-12-01T10:00:00", "due_after"),  # no offset: ambiguous
        ("flag=stuck", "flag"),
    ],
)
def test_bad_list_parameters_answer_400_naming_them(api, officer, query, field):
    response = api(officer).get(f"/api/v1/applications/?{query}")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_page_size_takes_one_to_a_hundred(api, officer, applications):
    client = api(officer)
    assert len(client.get("/api/v1/applications/?page_size=1").json()["results"]) == 1
    assert len(client.get("/api/v1/applications/?page_size=100").json()["results"]) == 7


def ids(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_applications_filter_by_state_exporter_authority_destination_and_type(
    api, officer, ganzhou, baotou
):
    a = ApplicationFactory(exporter=ganzhou, destination="DE")
    b = ApplicationFactory(exporter=baotou, destination="JP", license_type="general")
    c = ApplicationFactory(exporter=baotou, authority=authority("ECJU"), destination="DE")
    LicenseApplication.objects.filter(pk=b.pk).update(status="submitted")
    LicenseApplication.objects.filter(pk=c.pk).update(status="approved")
    client = api(officer)
    url = "/api/v1/applications/"
    assert ids(client, f"{url}?status=submitted") == {b.pk}
    assert ids(client, f"{url}?status=submitted&status=approved") == {b.pk, c.pk}
    assert ids(client, f"{url}?exporter={baotou.pk}") == {b.pk, c.pk}
    assert ids(client, f"{url}?authority=ECJU") == {c.pk}
    assert ids(client, f"{url}?destination=DE") == {a.pk, c.pk}
    assert ids(client, f"{url}?license_type=general") == {b.pk}
    assert ids(client, f"{url}?exporter={10**20}") == set()


def test_applications_search_references_and_names(api, officer, ganzhou, baotou):
    a = ApplicationFactory(exporter=ganzhou, reference="GZ-77", authority_reference="MC-1")
    b = ApplicationFactory(exporter=baotou, reference="BT-01")
    client = api(officer)
    assert ids(client, "/api/v1/applications/?search=gz-7") == {a.pk}
    assert ids(client, "/api/v1/applications/?search=MC-1") == {a.pk}
    assert ids(client, "/api/v1/applications/?search=baotou") == {b.pk}


def test_applications_filter_by_open_flag_kind(api, officer, ganzhou):
    overdue = ApplicationFactory(exporter=ganzhou)
    cleared = ApplicationFactory(exporter=ganzhou)
    Flag.objects.create(application=overdue, exporter=ganzhou, kind="overdue", raised_at=NOW)
    Flag.objects.create(
        application=cleared, exporter=ganzhou, kind="overdue", raised_at=NOW, cleared_at=NOW
    )
    client = api(officer)
    assert ids(client, "/api/v1/applications/?flag=overdue") == {overdue.pk}
    assert client.get(f"/api/v1/applications/{overdue.pk}/").json()["flags"] == ["overdue"]
    assert client.get(f"/api/v1/applications/{cleared.pk}/").json()["flags"] == []


def test_due_dates_filter_by_the_authoritys_local_due_date(api, officer, ganzhou):
    # Due on 3 December in Beijing, and on 3 December in London: different instants.
    beijing = ApplicationFactory(exporter=ganzhou)
    london = ApplicationFactory(exporter=ganzhou, authority=authority("ECJU"))
    LicenseApplication.objects.filter(pk=beijing.pk).update(
        due_at=dt.datetime(2026, 12, 4, tzinfo=SHANGHAI)
    )
    LicenseApplication.objects.filter(pk=london.pk).update(
        due_at=dt.datetime(2026, 12, 4, tzinfo=LONDON)
    )
    client = api(officer)
    url = "/api/v1/applications/"
    assert ids(client, f"{url}?due_before=2026-12-03") == {beijing.pk, london.pk}
    assert ids(client, f"{url}?due_before=2026-12-02") == set()
    assert ids(client, f"{url}?due_after=2026-12-03") == {beijing.pk, london.pk}
    assert ids(client, f"{url}?due_after=2026-12-04") == set()
    # A date-time compares with the instant itself.
    assert ids(client, f"{url}?due_before=2026-12-03T20:00:00Z") == {beijing.pk}
    assert ids(client, f"{url}?due_after=2026-12-03T20:00:00%2B00:00") == {london.pk}


def test_shipments_filter_by_ship_dates_state_destination_and_flags(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    early = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 1))
    late = ShipmentFactory(
        exporter=ganzhou, planned_ship_date=dt.date(2026, 12, 31), application=app
    )
    jp = ShipmentFactory(exporter=ganzhou, destination="JP", planned_ship_date=dt.date(2027, 1, 5))
    Flag.objects.create(shipment=early, exporter=ganzhou, kind="at_risk", raised_at=NOW)
    Flag.objects.create(application=app, exporter=ganzhou, kind="overdue", raised_at=NOW)
    client = api(officer)
    url = "/api/v1/shipments/"
    assert ids(client, f"{url}?ship_from=2026-12-01&ship_to=2026-12-31") == {early.pk, late.pk}
    assert ids(client, f"{url}?ship_from=2026-12-02") == {late.pk, jp.pk}
    assert ids(client, f"{url}?ship_to=2026-12-01") == {early.pk}
    assert ids(client, f"{url}?destination=JP") == {jp.pk}
    assert ids(client, f"{url}?flag=at_risk") == {early.pk}
    assert ids(client, f"{url}?flag=overdue") == {late.pk}  # its application's flag
    assert ids(client, f"{url}?status=planned&exporter={ganzhou.pk}") == {early.pk, late.pk, jp.pk}
    assert ids(client, f"{url}?search={late.reference}") == {late.pk}
    assert client.get(f"{url}{late.pk}/").json()["flags"] == ["overdue"]
    assert client.get(f"{url}{early.pk}/").json()["flags"] == ["at_risk"]


def test_flags_filter_by_subject_kind_and_openness(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    shipment = ShipmentFactory(exporter=ganzhou)
    open_flag = Flag.objects.create(
        application=app, exporter=ganzhou, kind="due_soon", raised_at=NOW
    )
    cleared = Flag.objects.create(
        shipment=shipment, exporter=ganzhou, kind="file_by", raised_at=NOW, cleared_at=NOW
    )
    client = api(officer)
    assert ids(client, f"/api/v1/flags/?application={app.pk}") == {open_flag.pk}
    assert ids(client, f"/api/v1/flags/?shipment={shipment.pk}") == {cleared.pk}
    assert ids(client, "/api/v1/flags/?kind=file_by") == {cleared.pk}
    assert ids(client, "/api/v1/flags/?open=true") == {open_flag.pk}
    assert ids(client, "/api/v1/flags/?open=false") == {cleared.pk}
    assert ids(client, f"/api/v1/flags/?search={app.reference}") == {open_flag.pk}
    row = client.get(f"/api/v1/flags/{cleared.pk}/").json()
    assert row["application"] is None and row["shipment"] == shipment.pk
    assert row["open"] is False


def test_events_filter_by_subject_and_kind(api, officer, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    shipment = ShipmentFactory(exporter=ganzhou)
    on_app = events.created(application=app, now=NOW, actor=officer, status="draft")
    on_shipment = events.created(shipment=shipment, now=NOW, actor=None, status="planned")
    client = api(officer)
    # (The window checks may add flag events of their own to the shipment.)
    assert ids(client, f"/api/v1/events/?application={app.pk}") == {on_app.pk}
    assert on_shipment.pk in ids(client, f"/api/v1/events/?shipment={shipment.pk}")
    assert ids(client, f"/api/v1/events/?shipment={shipment.pk}&kind=created") == {on_shipment.pk}
    assert ids(client, "/api/v1/events/?kind=created") == {on_app.pk, on_shipment.pk}
    assert ids(client, "/api/v1/events/?kind=correction") == set()
    assert ids(client, f"/api/v1/events/?kind=created&after_id={on_app.pk}") == {on_shipment.pk}
    assert on_shipment.pk in ids(client, f"/api/v1/events/?search={shipment.reference}")
    row = client.get(f"/api/v1/events/{on_app.pk}/").json()
    assert row["actor"] == "olga_officer"
    assert client.get(f"/api/v1/events/{on_shipment.pk}/").json()["actor"] is None


def test_next_links_keep_the_filters(api, officer, ganzhou):
    for _ in range(3):
        ApplicationFactory(exporter=ganzhou, destination="JP")
    ApplicationFactory(exporter=ganzhou, destination="DE")
    body = api(officer).get("/api/v1/applications/?destination=JP&page_size=2").json()
    query = parse_qs(urlparse(body["next"]).query)
    assert query["destination"] == ["JP"] and query["page_size"] == ["2"]
