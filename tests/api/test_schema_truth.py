"""The schema tells the truth: requests schemathesis generates from it with *positive* data
only (what the schema calls valid) are accepted, at least 95% of them, for every operation.

How it runs, per operation (a test each, so xdist spreads them):

- the server's clock stands still at NOW (the schema bounds a move's `at` by the current
  year, so it is generated once per process under that clock);
- signed in as an administrator, whom every role permission allows;
- a world of seeded objects in every state a move starts from, its moves dated early in
  2000, so that a generated `at` (from 2000 to the current year, as the schema says) is
  rarely before the previous move;
- each example runs in a savepoint rolled back after it, with the cache emptied: every
  example meets the same world (a reference generated twice is no duplicate, a revoked
  token is back, the login throttle starts again);
- what a JSON schema cannot say is filled in as a client would: a path id or a body's
  reference names a seeded object (for a move, one in which the move is legal), a login
  uses real credentials, and the fields that must agree with another object or field (a
  shipment's exporter, destination, currency and unit with its application and item, an
  audit period's `from` before its `to`) are made to agree. Every other value is as
  generated.

Accepted means a 2xx answer. Nothing else counts: a 400 is the schema allowing what the API
refuses, and a 404 or 409 cannot happen by accident here since ids name seeded objects in
a state where the move is legal.
"""

from __future__ import annotations

import functools
import itertools
import struct
import zlib
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
import time_machine
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from tests.factories import item
from tests.helpers import NOW

EXAMPLES = 20
THRESHOLD = 0.95
BIG_QUANTITY, BIG_VALUE = "9" * 13 + ".999", "9" * 14 + ".99"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def load_schema() -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    return schema


# The operations, as the schema lists them now (at collection: any clock will do).
OPERATIONS = sorted(
    (result.ok().method.upper(), result.ok().path) for result in load_schema().get_all_operations()
)


@functools.cache
def frozen_schema() -> Any:
    """The schema as served under the test clock (its `at` pattern names the year)."""
    with time_machine.travel(NOW, tick=False):
        return load_schema()


@pytest.fixture
def _keep_the_test_connection(world):
    """Requests go through the WSGI application in this thread, on the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Seeder:
    """Builds the world through the API itself, as an integrator would."""

    def __init__(self, user) -> None:
        self.client = APIClient()
        self.client.force_authenticate(user)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(path, body or {}, format="json")
        assert response.status_code in (200, 201), (path, response.status_code, response.json())
        return response.json()

    def at(self) -> str:
        """Every seeded move on the first day the API takes, 1 January 2000 (the same day as
        the move before is never earlier), so that a generated `at` is rarely before it."""
        return "2000-01-01"

    def move(self, resource: str, pk: int, name: str, **body: Any) -> dict[str, Any]:
        return self.post(f"/api/v1/{resource}/{pk}/{name}/", {"at": self.at(), **body})


def build_world(user) -> dict[str, Any]:
    s = Seeder(user)
    exporter = s.post(
        "/api/v1/exporters/",
        {"name": "Seeded Exporter", "registration_number": "SEED-1", "country": "CN"},
    )["id"]
    consignee = s.post(
        "/api/v1/consignees/",
        {"exporter": exporter, "name": "Seeded Consignee", "country": "DE", "end_use": "Magnets"},
    )["id"]
    samarium = item("1C902").pk
    refs = iter(range(1, 1000))

    def application(license_type: str = "individual", authority: str = "MOFCOM") -> int:
        return s.post(
            "/api/v1/applications/",
            {
                "exporter": exporter,
                "authority": authority,
                "license_type": license_type,
                "items": [samarium],
                "destination": "DE",
                "reference": f"SEED-A{next(refs)}",
                "authority_reference": f"SEED-CASE-{next(refs)}",
                "quantity": BIG_QUANTITY,
                "value": BIG_VALUE,
                "currency": "USD",
            },
        )["id"]

    def approved(license_type: str = "individual") -> int:
        pk = application(license_type)
        s.move("applications", pk, "submit")
        s.move("applications", pk, "accept")
        s.move(
            "applications",
            pk,
            "approve",
            license_number=f"LIC-{pk}",
            valid_until="2099-12-31",
            approved_quantity=BIG_QUANTITY,
            approved_value=BIG_VALUE,
        )
        return pk

    applications = [application()]  # draft
    submitted = application()
    s.move("applications", submitted, "submit")
    applications.append(submitted)
    # Accepted, then paused: individual licenses, whose approval asks for no quantity and
    # value (a general license's does, which depends on the object, not the request).
    for _ in range(2):
        pk = application()
        s.move("applications", pk, "submit")
        s.move("applications", pk, "accept")
        applications.append(pk)
    s.move("applications", applications[-1], "request-info")
    referred = application()
    s.move("applications", referred, "submit")
    s.move("applications", referred, "refer", reason=refer_reason())
    applications.append(referred)
    returned = application()
    s.move("applications", returned, "submit")
    s.move("applications", returned, "return")
    applications.append(returned)
    for name in ("", "suspend", "amend"):
        pk = approved("general")
        if name == "amend":
            s.move("applications", pk, "amend", quantity="2000.000", note="More")
        elif name:
            s.move("applications", pk, name)
        applications.append(pk)
    # General, approved for as much as a quantity and a value can say: any shipment fits.
    cleared = approved("general")
    applications.append(cleared)

    def shipment(application: int | None) -> int:
        return s.post(
            "/api/v1/shipments/",
            {
                "exporter": exporter,
                "reference": f"SEED-S{next(refs)}",
                "item": samarium,
                "quantity": "10.000",
                "value": "1000.00",
                "currency": "USD",
                "destination": "DE",
                "consignee": consignee,
                "planned_ship_date": "2027-06-01",
                "application": application,
            },
        )["id"]

    shipments = [shipment(None), shipment(cleared)]
    held = shipment(None)
    s.move("shipments", held, "hold")
    shipped = shipment(cleared)
    s.move("shipments", shipped, "ship")
    shipments += [held, shipped]
    decision = s.post(
        "/api/v1/fast-track-decisions/",
        {
            "authority": "MOFCOM",
            "announced_on": "2000-02-01",
            "source": "Seeded",
            "window_days": 20,
            "effective_from": "2000-02-01",
        },
    )["id"]
    measure = s.post(
        "/api/v1/measures/",
        {
            "authority": "MOFCOM",
            "reference": "SEED-M1",
            "title": "Seeded",
            "kind": "control",
            "announced_on": "2000-02-01",
            "effective_from": "2000-02-01",
        },
    )["id"]
    document = s.client.post(
        f"/api/v1/applications/{submitted}/documents/",
        {"kind": "contract", "file": text_file()},
        format="multipart",
    )
    assert document.status_code == 201, document.json()
    from licenses.models import Event
    from monitoring.models import Flag

    flag, _ = Flag.objects.get_or_create(
        application_id=submitted,
        kind="overdue",
        cleared_at=None,
        defaults={"exporter_id": exporter, "raised_at": NOW},
    )
    import uuid

    from monitoring.models import Webhook, WebhookDelivery

    webhook = Webhook.objects.create(
        owner=user, url="https://erp.example.com/hooks", secret="s" * 32, created_at=NOW
    )
    delivery = WebhookDelivery.objects.create(
        id=uuid.uuid4(),
        webhook=webhook,
        type="flag.raised",
        event=Event.objects.order_by("pk").first(),
        occurred_at=NOW,
        created_at=NOW,
        state=WebhookDelivery.State.FAILED,
    )
    return {
        "webhook": [webhook.pk],
        "delivery": [str(delivery.pk)],
        "exporter": [exporter],
        "consignee": [consignee],
        "application": applications,
        "body application": [cleared],
        "shipment": shipments,
        "item": [samarium],
        "decision": [decision],
        "measure": [measure],
        "document": [document.json()["id"]],
        "document application": submitted,
        "flag": [flag.pk],
        "event": list(Event.objects.values_list("pk", flat=True)[:5]),
        "authority": ["MOFCOM"],
    }


def refer_reason() -> str:
    from licenses.models import ReferralReason

    return ReferralReason.values[0]


def text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("contract.txt", b"The contract.", content_type="text/plain")


RESOURCE_OF_PATH = {
    "authorities": "authority",
    "controlled-items": "item",
    "exporters": "exporter",
    "consignees": "consignee",
    "applications": "application",
    "shipments": "shipment",
    "fast-track-decisions": "decision",
    "measures": "measure",
    "flags": "flag",
    "events": "event",
    "webhooks": "webhook",
}


@pytest.fixture
def world(administrator):
    with time_machine.travel(NOW, tick=False):
        world = build_world(administrator)
    client = APIClient()
    client.force_authenticate(administrator)
    # A cursor comes from a list's `next` link, never from a generator.
    world["cursors"] = {}
    for method, path in OPERATIONS:
        if method == "GET" and path.endswith("/") and not path.endswith("}/"):
            url = path.replace("{application_pk}", str(world["document application"]))
            next_page = client.get(url, {"page_size": 1}).json().get("next")
            if next_page:
                link = parse_qs(urlsplit(next_page).query)
                world["cursors"][path] = (link["cursor"][0], link.get("ordering", [None])[0])
    world["legal moves"] = {
        (resource, pk): client.get(f"/api/v1/{resource}/{pk}/").json()["legal_moves"]
        for resource in ("applications", "shipments")
        for pk in world[RESOURCE_OF_PATH[resource]]
    }
    return world


# The edits' targets: an application before submission (its license type is fixed after),
# a shipment before it ships (then it can no longer be edited).
EDITABLE = {"application": 0, "shipment": 0}
# Fields that name a period: the first is never after the second.
PERIODS = [("from", "to"), ("effective_from", "effective_until"), ("from", "until")]


def in_order(values: Any) -> None:
    if isinstance(values, dict):
        for first, last in PERIODS:
            a, b = values.get(first), values.get(last)
            if isinstance(a, str) and isinstance(b, str) and a > b:
                values[first], values[last] = b, a


def png() -> bytes:
    """A one-pixel PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = png()
IMPORTED = itertools.count(1)


def import_csv(n: int, rows: int) -> bytes:
    """A CSV file for the shipments import: `rows` rows of the seeded exporter, item and
    consignee, each with a reference of its own."""
    from shipments.imports import COLUMNS

    lines = [",".join(COLUMNS)]
    for i in range(rows):
        fields = {
            "reference": f"SEED-IMPORT-{n}-{i}",
            "exporter_registration_number": "SEED-1",
            "authority": "MOFCOM",
            "item_code": "1C902",
            "quantity": "10.000",
            "value": "1000.00",
            "currency": "USD",
            "destination": "DE",
            "consignee": "Seeded Consignee",
            "planned_ship_date": "2027-06-01",
            "application_reference": "",
        }
        lines.append(",".join(fields[c] for c in COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def disjoint(suspensions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Suspensions of a measure never overlap: kept in order, each after the one before."""
    kept: list[dict[str, Any]] = []
    for suspension in sorted(suspensions, key=lambda s: s.get("from") or ""):
        in_order(suspension)
        last = kept[-1].get("until") if kept else ""
        if kept and (last is None or suspension["from"] <= last):
            continue
        kept.append(suspension)
    return kept


def aim(case: Any, world: dict[str, Any], data: Any, user) -> None:
    """Fill in what the schema cannot know: which objects exist, and the fields that must
    agree with them."""
    parts = case.path.strip("/").split("/")  # api, v1, resource, {id}, action...
    resource = parts[2]
    kind = RESOURCE_OF_PATH.get(resource)
    params = case.path_parameters or {}
    action = parts[4] if len(parts) > 4 and not parts[4].startswith("{") else None
    if "application_pk" in params:
        params["application_pk"] = world["document application"]
        if "id" in params:
            params["id"] = world["document"][0]
    elif kind and params:
        candidates = world[kind]
        if action == "ledger":
            candidates = world["body application"]
        elif action == "file-application":
            # (not a move: any planned shipment without an application)
            candidates = candidates[:1]
        elif action == "correct":
            # The latest move is corrected: any object that has made one.
            # (not the license a shipment left under: its approval cannot move past that)
            candidates = candidates[1:-1] if kind == "application" else candidates[2:]
        elif action and action != "audit":
            moves = world["legal moves"]
            candidates = [pk for pk in candidates if action in moves.get((resource, pk), [action])]
            assert candidates, f"no seeded {kind} in which {action} is legal"
        elif case.method in ("PUT", "PATCH") and kind in EDITABLE:
            candidates = [candidates[EDITABLE[kind]]]
        key = "code" if "code" in params else "id"
        params[key] = data.draw(st.sampled_from(candidates), label=key)
        if "delivery_id" in params:
            params["delivery_id"] = world["delivery"][0]
    headers = case.headers
    if headers is not None and "If-Match" in headers and kind and params:
        # A client sends the ETag it read, not one a generator made up.
        key = "code" if "code" in params else "id"
        client = APIClient()
        client.force_authenticate(user)
        read = client.get(f"/api/v1/{resource}/{params[key]}/")
        headers["If-Match"] = read.headers["ETag"]
        # (Django's test client connects these again when it is done)
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
    query = case.query
    if isinstance(query, dict):
        if "cursor" in query:
            # (a list of one page has no cursor to give: then the first page)
            # (and it carries its ordering, which the request keeps)
            cursor = world["cursors"].get(case.path)
            if cursor is None:
                del query["cursor"]
            else:
                query["cursor"], query["ordering"] = cursor
                if query["ordering"] is None:
                    del query["ordering"]
        in_order(query)
    body = case.body
    if isinstance(body, dict):
        for key in ("exporter", "consignee", "application", "item", "authority"):
            if body.get(key) is not None:
                choices = world["body application" if key == "application" else key]
                body[key] = data.draw(st.sampled_from(choices), label=key)
        for key, kind in (
            ("items", "item"),
            ("exporters", "exporter"),
            ("applications", "application"),
        ):
            if body.get(key):
                body[key] = [data.draw(st.sampled_from(world[kind]), label=key)]
        if resource == "shipments" and body.get("application") is not None:
            # A shipment agrees with its application (and its unit with its item).
            agree = {"exporter": world["exporter"][0], "destination": "DE", "currency": "USD"}
            for key, value in {**agree, "item": world["item"][0]}.items():
                if key in body:
                    body[key] = value
        if "unit" in body and resource == "shipments":
            body["unit"] = "kg"
        if "username" in body:
            body["username"], body["password"] = user.username, PASSWORD
        if "file" in body and case.path == "/api/v1/shipments/import/":
            # Nor can it say what a CSV file holds: rows naming the seeded objects, each
            # with a reference of its own.
            body["file"] = import_csv(next(IMPORTED), data.draw(st.integers(1, 2), label="rows"))
        elif "file" in body:
            # A schema says a file is bytes; what kind of file (PDF, PNG, text...) it cannot.
            # (PNG bytes: schemathesis names the part after what its bytes are, file.png)
            body["file"] = PNG
        if body.get("calendar_subdivision"):
            # One of its calendar country's subdivisions, or none.
            body["calendar_subdivision"] = ""
        in_order(body)
        if body.get("suspensions"):
            body["suspensions"] = disjoint(body["suspensions"])


def call(case: Any, user) -> Any:
    token = Token.objects.get_or_create(user=user)[0].key
    return case.call(headers={"Authorization": f"Token {token}"})


def measure(operation: Any, world: dict[str, Any], user) -> tuple[int, int, str]:
    """Accepted and generated requests of one operation, and what its refusals said."""
    outcomes: Counter[int] = Counter()
    samples: dict[int, str] = {}

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data):
        cache.clear()
        with transaction.atomic():
            aim(case, world, data, user)
            response = call(case, user)
            transaction.set_rollback(True)
        outcomes[response.status_code] += 1
        if not 200 <= response.status_code < 300:
            samples.setdefault(
                response.status_code,
                f"{case.query or ''} {case.body!r}"[:300] + f" -> {response.text[:300]}",
            )

    run()
    total = sum(outcomes.values())
    accepted = sum(n for code, n in outcomes.items() if 200 <= code < 300)
    return accepted, total, f"{dict(outcomes)} {samples}"


def batches(size: int = 8) -> dict[str, list[tuple[str, str]]]:
    """The operations by resource (/api/v1/<resource>/...), at most `size` in a batch: a
    test per batch builds the world once for all of them, and xdist spreads the batches."""
    by_resource: dict[str, list[tuple[str, str]]] = {}
    for method, path in OPERATIONS:
        by_resource.setdefault(path.split("/")[3], []).append((method, path))
    named = {}
    for resource, operations in sorted(by_resource.items()):
        for start in range(0, len(operations), size):
            named[f"{resource}-{start // size + 1}"] = operations[start : start + size]
    return named


BATCHES = batches()


@pytest.mark.parametrize("batch", list(BATCHES))
@pytest.mark.usefixtures("_keep_the_test_connection")
def test_data_generated_from_the_schema_is_accepted(batch, world, administrator):
    """Every operation of the batch; the failure lists every operation's acceptance."""
    schema = frozen_schema()
    table, short = [], []
    with time_machine.travel(NOW, tick=False):
        for method, path in BATCHES[batch]:
            accepted, total, answers = measure(schema[path][method], world, administrator)
            table.append(f"{accepted:3}/{total:<3} {method} {path}  {answers}")
            if not total or accepted / total < THRESHOLD:
                short.append(f"{method} {path}")
    assert not short, "under 95% accepted: " + ", ".join(short) + "\n" + "\n".join(table)
