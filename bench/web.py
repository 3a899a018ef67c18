"""The API list the benchmark measures, and how many SQL queries one request costs."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.build import OFFICER_TOKEN

FILTER = "status=awaiting_license&page_size=50"
API_PATH = f"/api/v1/shipments/?{FILTER}"
PLAIN_PATH = f"/bench/plain/shipments/?{FILTER}"


def queries(path: str) -> tuple[int, int, int]:
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {OFFICER_TOKEN}")
    client.get(path)  # warm
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return len(captured.captured_queries), len(response.json()["results"]), len(response.content)


def api_info() -> dict[str, Any]:
    api_queries, api_rows, api_bytes = queries(API_PATH)
    plain_queries, plain_rows, plain_bytes = queries(PLAIN_PATH)
    return {
        "token": OFFICER_TOKEN,
        "path": API_PATH,
        "plain_path": PLAIN_PATH,
        "queries": api_queries,
        "plain_queries": plain_queries,
        "rows": [api_rows, plain_rows],
        "bytes": [api_bytes, plain_bytes],
    }
