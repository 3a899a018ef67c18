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


def _officer() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bench-officer")


def sessions(n: int) -> list[str]:
    """`n` signed-in sessions of the officer, one per load-test client (as `n` sign-ins would
    leave them, without paying for `n` password hashes)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    user = _officer()
    keys = []
    for _ in range(n):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "config.auth.UserBackend"  # as a sign-in records it
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key or "")
    return keys


def end_sessions(keys: list[str]) -> int:
    """Sign the load test's clients out again (their sessions are deleted)."""
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key__in=keys).delete()[0]


def load_info(*, sample: int = 100, seed: int = 2026) -> dict[str, Any]:
    """What the load test's clients need: the officer's token, shipments and applications to
    open (a sample of ids drawn with a fixed seed), an exporter to filter by, and the fields of
    the shipments they create (copied from an existing shipment with a consignee: its
    exporter, item, consignee, destination and currency)."""
    import random

    from django.db.models import Max, Min

    from licenses.models import LicenseApplication
    from shipments.models import Shipment

    rng = random.Random(seed)

    def ids(model: Any) -> list[int]:
        bounds = model.objects.aggregate(low=Min("id"), high=Max("id"))
        if bounds["low"] is None:
            return []
        span = range(bounds["low"], bounds["high"] + 1)
        wanted = rng.sample(span, min(len(span), sample * 3))
        found = set(model.objects.filter(id__in=wanted).values_list("id", flat=True))
        return [i for i in wanted if i in found][:sample]

    model = Shipment.objects.filter(consignee__isnull=False).order_by("id").first()
    if model is None:
        raise RuntimeError("no shipment with a consignee to copy")
    return {
        "token": OFFICER_TOKEN,
        "shipments": ids(Shipment),
        "applications": ids(LicenseApplication),
        "exporter": model.exporter_id,
        "template": {
            "exporter": model.exporter_id,
            "item": model.item_id,
            "consignee": model.consignee_id,
            "destination": model.destination,
            "currency": model.currency,
            "quantity": "1.000",
            "value": "100.00",
        },
    }


def load_cleanup(run: str) -> tuple[int, int]:
    """Cancel every shipment the load test's run `run` created and left uncancelled (a run
    stopped midway, or a creation whose answer timed out), through the service, as the
    officer; returns how many it cancelled and how many the run created in all."""
    from django.db import transaction
    from django.utils import timezone

    from shipments import services
    from shipments.models import Shipment, ShipmentStatus

    officer = _officer()
    created = Shipment.objects.filter(reference__startswith=f"LOAD-{run}-")
    count = 0
    for shipment in created.exclude(status=ShipmentStatus.CANCELLED):
        with transaction.atomic():
            services.shipment_cancel(shipment=shipment, now=timezone.now(), actor=officer)
        count += 1
    return count, created.count()
