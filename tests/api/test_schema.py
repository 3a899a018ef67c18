"""The OpenAPI schema describes every endpoint, request, response and error; the docs page
needs no internet."""

from __future__ import annotations

import functools
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CONTRACT = {
    "Authority": [
        "code",
        "name",
        "country",
        "time_zone",
        "window_days",
        "window_unit",
        "clock_starts",
        "acceptance_window_days",
        "reply_window_days",
        "reply_window_unit",
        "amendment_window_days",
    ],
    "ControlledItem": ["id", "authority", "code", "description", "unit"],
    "Exporter": ["id", "name", "registration_number", "country", "contact_emails"],
    "Consignee": ["id", "exporter", "name", "country", "end_use"],
    "Application": [
        "id",
        "exporter",
        "authority",
        "license_type",
        "items",
        "destination",
        "reference",
        "authority_reference",
        "quantity",
        "value",
        "currency",
        "status",
        "submitted_at",
        "due_at",
        "decided_at",
        "license_number",
        "valid_until",
        "approved_quantity",
        "approved_value",
        "flags",
        "pause_reason",
        "reply_due_at",
    ],
    "Shipment": [
        "id",
        "exporter",
        "reference",
        "item",
        "quantity",
        "unit",
        "value",
        "currency",
        "destination",
        "consignee",
        "planned_ship_date",
        "application",
        "status",
        "flags",
    ],
    "FastTrackDecision": [
        "id",
        "authority",
        "announced_on",
        "source",
        "window_days",
        "effective_from",
        "effective_until",
        "destinations",
        "items",
        "exporters",
        "applications",
        "note",
        "revoked_at",
        "affected_count",
    ],
    "Flag": ["id", "application", "shipment", "kind", "raised_at", "cleared_at", "notified_at"],
    "Event": [
        "id",
        "application",
        "shipment",
        "kind",
        "from_status",
        "to_status",
        "occurred_at",
        "recorded_at",
        "actor",
        "note",
        "data",
        "corrects",
    ],
}
MOVES = {
    "applications": [
        "submit",
        "accept",
        "request-info",
        "provide-info",
        "approve",
        "reject",
        "withdraw",
        "correct",
        "suspend",
        "reinstate",
        "revoke",
        "surrender",
        "amend",
        "approve-amendment",
        "refuse-amendment",
        "refer",
        "return",
        "resubmit",
    ],
    "shipments": ["ship", "deliver", "hold", "release", "cancel", "correct"],
    "fast-track-decisions": ["revoke"],
}
LISTS = [
    "authorities",
    "controlled-items",
    "exporters",
    "consignees",
    "applications",
    "shipments",
    "fast-track-decisions",
    "flags",
    "events",
]


@functools.cache
def served_schema() -> dict:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.fixture
def schema():
    return served_schema()


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_every_resource_field_of_the_contract_is_described(schema):
    components = schema["components"]["schemas"]
    for name, fields in CONTRACT.items():
        assert set(fields) <= set(components[name]["properties"]), name


def test_every_move_is_an_action_taking_at_and_note(schema):
    for resource, moves in MOVES.items():
        key = "{code}" if resource == "authorities" else "{id}"
        for move in moves:
            operation = schema["paths"][f"/api/v1/{resource}/{key}/{move}/"]["post"]
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            request = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert "note" in request["properties"]
            if move != "revoke":
                assert "at" in request["properties"]
            assert set(operation["responses"]) >= {"200", "400", "401", "403", "404", "409"}


def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "429", "500", "503"} <= set(responses), (method, path)
            if method in ("post", "put", "patch"):
                assert "413" in responses, (method, path)
            if path != "/api/v1/auth/token/" or method == "delete":
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            for code, response in responses.items():
                if code >= "400":
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail", "fields"}


def test_every_list_is_paginated_and_takes_the_contracts_parameters(schema):
    for resource in LISTS:
        operation = schema["paths"][f"/api/v1/{resource}/"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"cursor", "page_size", "ordering"} <= names, resource
        page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
        assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"next", "previous", "results"}
    filters = {
        "applications": {
            "status",
            "exporter",
            "authority",
            "destination",
            "flag",
            "due_before",
            "due_after",
            "search",
        },
        "shipments": {
            "status",
            "exporter",
            "authority",
            "destination",
            "flag",
            "ship_from",
            "ship_to",
            "search",
        },
        "flags": {"application", "shipment", "kind", "open"},
        "events": {"application", "shipment", "kind"},
    }
    for resource, expected in filters.items():
        operation = schema["paths"][f"/api/v1/{resource}/"]["get"]
        assert expected <= {p["name"] for p in operation["parameters"]}, resource


def test_request_bodies_admit_no_unknown_fields(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            assert component["additionalProperties"] is False, name


def test_token_authentication_is_described(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["in"] == "header"
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_docs_page_loads_only_local_assets_that_exist():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith(("/static/", "/api/")), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    script = APIClient().get("/api/docs/?script=")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_the_forecast_is_described_as_the_contract_says(schema):
    components = schema["components"]["schemas"]
    field = components["Application"]["properties"]["forecast"]
    ref = next(part["$ref"] for part in field.get("allOf", [field]) if "$ref" in part).rsplit(
        "/", 1
    )[1]
    assert field.get("nullable") is True
    assert field.get("readOnly") is True
    forecast = components[ref]["properties"]
    assert set(forecast) == {"p50", "p90", "level", "decided", "censored"}
    assert forecast["p50"]["format"] == "date" and forecast["p50"]["nullable"] is True
    assert forecast["p90"]["format"] == "date" and forecast["p90"]["nullable"] is True
    level = forecast["level"]
    enum = level.get("enum") or components[level["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == {"destination", "item", "authority"}
    assert forecast["decided"]["minimum"] == 0
    operation = schema["paths"]["/api/v1/applications/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"forecast_before", "forecast_after"} <= names
    flag = next(
        p for p in schema["paths"]["/api/v1/shipments/"]["get"]["parameters"] if p["name"] == "flag"
    )
    assert "likely_late" in flag["schema"]["enum"]
