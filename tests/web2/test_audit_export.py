"""The audit export from the exporter's page and from the API: officers, managers and
administrators of the exporters they may see; another exporter's answers 404; the file is
the same either way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import yaml
from rest_framework.test import APIClient

from licenses.models import Event

pytestmark = pytest.mark.django_db

# The world's moves were recorded on 18 November 2026 (WEB_NOW).
QUERY = {"from": "2026-11-01", "to": "2026-11-30"}


def content(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


def page(world) -> str:
    return f"/exporters/{world.mine.exporter.pk}/audit/"


def endpoint(world, side: str = "mine") -> str:
    return f"/api/v1/exporters/{getattr(world, side).exporter.pk}/audit/"


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("officer", 200), ("manager", 200), ("limited", 200), ("viewer", 403), ("outsider", 404)],
)
def test_the_audit_page_answers_each_role_as_its_permission_and_limits_say(
    role, status, request, client, world
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(page(world)).status_code == status
    assert client.get(page(world), {**QUERY, "format": "csv"}).status_code == status


def test_the_exporter_page_links_to_the_export_for_those_who_may_take_it(
    client, world, officer, viewer
):
    link = f'href="{page(world)}"'
    client.force_login(officer)
    assert link in client.get(f"/exporters/{world.mine.exporter.pk}/").content.decode()
    client.force_login(viewer)
    assert link not in client.get(f"/exporters/{world.mine.exporter.pk}/").content.decode()


def test_the_page_downloads_the_exporters_events_as_csv(client, world, limited):
    client.force_login(limited)
    response = client.get(page(world), {**QUERY, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    exporter = world.mine.exporter.pk
    assert (
        f'filename="audit-exporter-{exporter}-2026-11-01-2026-11-30.csv"'
        in (response["Content-Disposition"])
    )
    rows = list(csv.DictReader(io.StringIO(content(response))))
    events = {int(r["id"]) for r in rows if r["record"] == "event"}
    mine = world.mine
    assert events == set(
        Event.objects.filter(application=mine.application).values_list("pk", flat=True)
    ) | set(Event.objects.filter(shipment=mine.shipment).values_list("pk", flat=True))
    theirs = Event.objects.filter(application=world.theirs.application).values_list("pk", flat=True)
    assert not events & set(theirs)
    assert [r["record"] for r in rows][-3:] == ["head", "head", "digest"]


def test_a_period_that_ends_before_it_starts_is_shown_on_the_form(client, world, officer):
    client.force_login(officer)
    response = client.get(page(world), {"from": "2026-11-30", "to": "2026-11-01", "format": "json"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"to": ["The last day is before the first."]}
    assert "The last day is before the first." in response.content.decode()


def test_the_empty_form_offers_this_month_so_far(client, world, officer):
    client.force_login(officer)
    form = client.get(page(world)).context["form"]
    assert form.initial == {"from": dt.date(2026, 11, 1), "to": dt.date(2026, 11, 18)}


# --- the API -----------------------------------------------------------------------------------


def test_the_api_answers_the_export_as_json_by_default(api, world, officer, client):
    response = api(officer).get(endpoint(world), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    exported = json.loads(content(response))
    assert exported["exporter"]["id"] == world.mine.exporter.pk
    assert {e["subject_type"] for e in exported["events"]} == {"application", "shipment"}
    assert len(exported["heads"]) == 2 and len(exported["digest"]) == 64
    # The same file as the page's.
    client.force_login(officer)
    same = client.get(page(world), {**QUERY, "format": "json"})
    assert json.loads(content(same)) == exported


@pytest.mark.parametrize(
    ("params", "headers"), [({"format": "csv"}, {}), ({}, {"HTTP_ACCEPT": "text/csv"})]
)
def test_the_api_answers_csv_when_asked(api, world, officer, params, headers):
    response = api(officer).get(endpoint(world), {**QUERY, **params}, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content(response).startswith("record,exporter,period_from,period_to,subject_type")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-11-30"}, "from"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "yesterday", "to": "2026-11-01"}, "from"),
        ({**QUERY, "format": "xml"}, "format"),
        ({"to": "2026-11-30", "format": "csv"}, "from"),
    ],
)
def test_bad_queries_answer_400_naming_the_parameter(api, world, officer, query, field):
    response = api(officer).get(endpoint(world), query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]


def test_another_exporters_export_is_not_found_and_viewers_may_not_take_one(
    api, world, limited, viewer
):
    response = api(limited).get(endpoint(world, "theirs"), {**QUERY, "format": "csv"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api(viewer).get(endpoint(world), QUERY).status_code == 403
    assert api().get(endpoint(world), QUERY).status_code == 401


def test_the_export_is_in_the_schema_with_its_parameters_and_both_formats(db):
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/exporters/{id}/audit/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["from"]["required"] and parameters["from"]["schema"]["format"] == "date"
    assert parameters["to"]["required"]
    assert parameters["format"]["schema"]["enum"] == ["csv", "json"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {"400", "401", "403", "404"} <= set(operation["responses"])
    export = schema["components"]["schemas"]["AuditExport"]["properties"]
    assert {"events", "heads", "digest", "from", "to"} <= set(export)
