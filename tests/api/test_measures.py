"""The measures resource: its fields, filters, writes through the services, and who may."""

from __future__ import annotations

import datetime as dt

import pytest

from licenses import services
from licenses.models import Measure, MeasureChange
from tests.factories import authority, item

pytestmark = pytest.mark.django_db

URL = "/api/v1/measures/"
NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)
FIELDS = {
    "id",
    "authority",
    "reference",
    "title",
    "kind",
    "announced_on",
    "effective_from",
    "effective_until",
    "suspensions",
    "items",
    "destinations",
    "source",
    "note",
    "status",
}


def payload(**overrides):
    data = {
        "authority": "MOFCOM",
        "reference": "TEST 2026 No. 9",
        "title": "Test controls",
        "kind": "control",
        "announced_on": "2026-01-02",
        "effective_from": "2026-02-01",
        "effective_until": None,
        "suspensions": [{"from": "2026-03-01", "until": "2026-03-31", "reference": "No. 10"}],
        "items": [item("1C902").pk],
        "destinations": ["US", "JP"],
        "source": "https://example.com/9",
        "note": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def measure(db):
    return services.measure_create(
        authority=authority("MOFCOM"),
        reference="TEST 2026 No. 1",
        title="Test measure",
        kind="control",
        announced_on=dt.date(2026, 1, 1),
        effective_from=dt.date(2026, 1, 1),
        items=[item("1C903")],
        actor=None,
        now=NOW,
    )


def test_it_shows_a_seeded_measure_with_its_fields(api, viewer):
    body = api(viewer).get(URL, {"search": "2025 No. 57"}).json()
    (row,) = body["results"]
    assert set(row) == FIELDS
    assert row["authority"] == "MOFCOM"
    assert row["reference"] == "MOFCOM/GAC 2025 No. 57"
    assert row["suspensions"] == [
        {"from": "2025-11-07", "until": "2026-11-10", "reference": "MOFCOM 2025 No. 70"}
    ]
    assert item("1C909").pk in row["items"]
    assert row["effective_until"] is None
    assert row["status"] in {"in_force", "suspended"}


def test_a_manager_creates_a_measure_and_its_history_row(api, manager):
    response = api(manager).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["suspensions"] == payload()["suspensions"]
    assert body["destinations"] == ["US", "JP"]
    change = MeasureChange.objects.get(measure_id=body["id"])
    assert (change.action, change.actor) == ("created", manager)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"effective_until": "2026-01-01"}, "effective_until"),
        ({"destinations": ["usa"]}, "destinations"),
        ({"suspensions": [{"from": "2026-03-01", "until": "2026-02-01"}]}, "suspensions"),
        ({"suspensions": [{"from": "2026-03-01", "to": "2026-04-01"}]}, "suspensions"),
        ({"kind": "embargo"}, "kind"),
        ({"colour": "red"}, "colour"),
        ({"items": [999999]}, "items"),
    ],
)
def test_invalid_input_answers_400_naming_the_field(api, manager, overrides, field):
    response = api(manager).post(URL, payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_duplicate_reference_answers_400(api, manager, measure):
    response = api(manager).post(URL, payload(reference="TEST 2026 No. 1"), format="json")
    assert response.status_code == 400
    assert "reference" in response.json()["fields"]


def test_patch_edits_through_the_service_and_keeps_the_change(api, manager, measure):
    response = api(manager).patch(
        f"{URL}{measure.pk}/",
        {"effective_until": "2026-06-30", "suspensions": [{"from": "2026-02-01"}], "note": "n"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["effective_until"] == "2026-06-30"
    assert body["suspensions"] == [{"from": "2026-02-01", "until": None, "reference": ""}]
    assert body["note"] == "n"
    change = measure.changes.get(action="edited")
    assert change.actor == manager
    assert change.changes["effective_until"] == [None, "2026-06-30"]


def test_put_replaces_the_measure(api, manager, measure):
    response = api(manager).put(
        f"{URL}{measure.pk}/", payload(reference="TEST 2026 No. 1", suspensions=[]), format="json"
    )
    assert response.status_code == 200, response.json()
    measure.refresh_from_db()
    assert measure.title == "Test controls"
    assert list(measure.items.values_list("code", flat=True)) == ["1C902"]


def test_a_read_only_status_sent_is_ignored(api, manager, measure):
    response = api(manager).patch(f"{URL}{measure.pk}/", {"status": "ended"}, format="json")
    assert response.status_code == 200
    assert measure.changes.count() == 1


def test_delete_is_not_allowed(api, administrator, measure):
    assert api(administrator).delete(f"{URL}{measure.pk}/").status_code == 405
    assert Measure.objects.filter(pk=measure.pk).exists()


def test_filter_by_item(api, viewer, measure):
    rows = api(viewer).get(URL, {"item": item("1C903").pk, "page_size": 100}).json()["results"]
    assert {r["reference"] for r in rows} == {"TEST 2026 No. 1", "MOFCOM/GAC 2025 No. 18"}


def test_filter_by_status_uses_the_authoritys_date(api, viewer):
    def refs(status):
        rows = api(viewer).get(URL, {"status": status, "page_size": 100}).json()["results"]
        return {r["reference"] for r in rows}

    for reference, start, until in [
        ("TEST SCHEDULED", "2099-01-01", None),
        ("TEST ENDED", "2020-01-01", "2020-12-31"),
    ]:
        services.measure_create(
            authority=authority("MOFCOM"),
            reference=reference,
            title=reference,
            kind="control",
            announced_on=dt.date(2019, 1, 1),
            effective_from=dt.date.fromisoformat(start),
            effective_until=dt.date.fromisoformat(until) if until else None,
            suspensions=[{"from": "2000-01-01", "until": "2000-01-02"}],
            actor=None,
            now=NOW,
        )
    services.measure_create(
        authority=authority("MOFCOM"),
        reference="TEST SUSPENDED",
        title="s",
        kind="control",
        announced_on=dt.date(2019, 1, 1),
        effective_from=dt.date(2020, 1, 1),
        suspensions=[{"from": "2020-01-02", "until": None}],
        actor=None,
        now=NOW,
    )
    assert "TEST SCHEDULED" in refs("scheduled")
    assert "TEST ENDED" in refs("ended")
    assert "MOFCOM/GAC 2023 No. 23" in refs("ended")
    assert "TEST SUSPENDED" in refs("suspended")
    in_force = refs("in_force")
    assert "MOFCOM/GAC 2025 No. 18" in in_force
    assert not {"TEST SCHEDULED", "TEST ENDED", "TEST SUSPENDED"} & in_force
    # Each measure is in exactly one status.
    every = api(viewer).get(URL, {"page_size": 100}).json()["results"]
    by_status = {s: refs(s) for s in ("scheduled", "in_force", "suspended", "ended")}
    for row in every:
        assert [s for s, found in by_status.items() if row["reference"] in found] == [row["status"]]
    assert api(viewer).get(URL, {"status": "asleep"}).status_code == 400


def test_filter_by_authority_and_search(api, viewer, measure):
    rows = api(viewer).get(URL, {"authority": "BIS"}).json()["results"]
    assert rows == []
    rows = api(viewer).get(URL, {"search": "Test measure"}).json()["results"]
    assert [r["id"] for r in rows] == [measure.pk]


def test_ordering(api, viewer):
    rows = api(viewer).get(URL, {"ordering": "effective_from", "page_size": 3}).json()["results"]
    assert rows[0]["reference"] == "MOFCOM/GAC 2023 No. 23"


# --- who may ---------------------------------------------------------------------------------

ROLES = ("anonymous", "viewer", "officer", "manager", "administrator", "limited_manager")
EXPECTED = {
    # role: (list, detail, create, update)
    "anonymous": (401, 401, 401, 401),
    "viewer": (200, 200, 403, 403),
    "officer": (200, 200, 403, 403),
    "manager": (200, 200, 201, 200),
    "administrator": (200, 200, 201, 200),
    "limited_manager": (200, 200, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_role_matrix(api, request, role, measure):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    client = api(user)
    got = (
        client.get(URL).status_code,
        client.get(f"{URL}{measure.pk}/").status_code,
        client.post(URL, payload(), format="json").status_code,
        client.patch(f"{URL}{measure.pk}/", {"title": "Edited"}, format="json").status_code,
    )
    assert got == EXPECTED[role]


def test_the_list_takes_the_same_few_queries_for_few_or_many_measures(
    api, viewer, django_assert_max_num_queries
):
    client = api(viewer)
    client.get(URL)  # the token and the permissions, once
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, {"page_size": 100, "status": "in_force"}).json()["results"])
    for n in range(30):
        services.measure_create(
            authority=authority("MOFCOM"),
            reference=f"TEST BULK {n}",
            title="bulk",
            kind="control",
            announced_on=dt.date(2026, 1, 1),
            effective_from=dt.date(2026, 1, 1),
            items=[item("1C902"), item("1C903")],
            suspensions=[{"from": "2026-02-01", "until": "2026-02-02"}],
            actor=None,
            now=NOW,
        )
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, {"page_size": 100}).json()["results"]) > 40
