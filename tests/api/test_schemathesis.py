"""Schemathesis against the live schema, inside the suite: every operation, signed in as an
officer with a token, a bounded number of generated requests each (valid and invalid). No
answer may be a 5xx, and every answer must conform to the schema: a documented status code,
content type and body.

Generated ids rarely name a real object, so half the time a path id or a body reference is
swapped for one of the seeded objects' (the rest of the request stays generated), which
drives requests deep into the services. Raise `SCHEMATHESIS_MAX_EXAMPLES` for a longer hunt.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from licenses import events, services
from licenses.models import FastTrackDecision
from monitoring.models import Flag
from shipments import services as shipping
from tests.factories import ApplicationFactory, ConsigneeFactory, authority, item
from tests.helpers import NOW, at

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(db, officer, ganzhou):
    """Objects of every kind, in several states, for the generated requests to hit."""
    kw = {"now": NOW, "actor": officer}
    consignee = ConsigneeFactory(exporter=ganzhou)
    draft = ApplicationFactory(exporter=ganzhou, reference="ST-DRAFT")
    submitted = ApplicationFactory(exporter=ganzhou, reference="ST-SUB", license_type="general")
    services.application_submit(application=submitted, at=at("2026-09-01"), **kw)
    approved = ApplicationFactory(exporter=ganzhou, reference="ST-APP")
    services.application_submit(application=approved, at=at("2026-09-01"), **kw)
    services.application_approve(
        application=approved,
        at=at("2026-09-20"),
        license_number="L-1",
        valid_until=dt.date(2027, 9, 1),
        **kw,
    )
    shipment = shipping.shipment_create(
        exporter=ganzhou,
        reference="ST-SHP",
        item=item("1C902"),
        quantity=Decimal("10"),
        value=Decimal("100"),
        currency="USD",
        destination="DE",
        consignee=consignee,
        planned_ship_date=dt.date(2026, 12, 20),
        application=approved,
        **kw,
    )
    # (the window checks that run with each move may have raised it already)
    flag, _created = Flag.objects.get_or_create(
        application=submitted,
        kind="overdue",
        cleared_at=None,
        defaults={"exporter": ganzhou, "raised_at": NOW},
    )
    decision = FastTrackDecision.objects.create(
        authority=authority("MOFCOM"),
        announced_on=dt.date(2026, 11, 1),
        source="Ministerial talks",
        window_days=20,
        effective_from=dt.date(2026, 11, 1),
    )
    event = events.created(application=draft, now=NOW, actor=officer, status="draft")
    return {
        "exporter": [ganzhou.pk],
        "consignee": [consignee.pk],
        "application": [draft.pk, submitted.pk, approved.pk],
        "shipment": [shipment.pk],
        "item": [item("1C902").pk, item("1C903").pk],
        "flag": [flag.pk],
        "decision": [decision.pk],
        "event": [event.pk],
        "authority": ["MOFCOM", "ECJU"],
    }


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the WSGI application in this thread, on the test's transaction;
    like Django's test client, keep the end of a request from closing that connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

RESOURCE_OF_PATH = {
    "authorities": "authority",
    "controlled-items": "item",
    "exporters": "exporter",
    "consignees": "consignee",
    "applications": "application",
    "shipments": "shipment",
    "fast-track-decisions": "decision",
    "flags": "flag",
    "events": "event",
    "webhooks": "webhook",
}


def aim_at_real_objects(case, seeded, data) -> None:
    """Swap generated ids for seeded ones, each with an even chance."""
    resource = RESOURCE_OF_PATH.get(case.path.split("/")[3])
    for name in list(case.path_parameters or {}):
        choices = seeded.get("delivery" if name == "delivery_id" else resource or "")
        if choices and data.draw(st.booleans(), label=f"real {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(choices))
    if isinstance(case.body, dict):
        for key in ("exporter", "consignee", "application", "item", "authority"):
            if key in case.body and data.draw(st.booleans(), label=f"real {key}"):
                case.body[key] = data.draw(st.sampled_from(seeded[key]))
        for key, resource in (
            ("items", "item"),
            ("exporters", "exporter"),
            ("applications", "application"),
        ):
            if key in case.body and data.draw(st.booleans(), label=f"real {key}"):
                case.body[key] = [data.draw(st.sampled_from(seeded[resource]))]


HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def call_and_check(case, data, seeded, user) -> None:
    aim_at_real_objects(case, seeded, data)
    response = case.call(headers={"Authorization": f"Token {token_of(user)}"})
    case.validate_response(response, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@schema.given(data=st.data())
@HYPOTHESIS
def test_every_operation_answers_as_its_schema_says(case, data, seeded, officer):
    call_and_check(case, data, seeded, officer)


# Writes an officer may not make (403 above), made by the roles that may.
reference_data = schema.include(
    path_regex=r"^/api/v1/(authorities|controlled-items)/", method=["POST", "PUT", "PATCH"]
)


@pytest.mark.slow
@reference_data.parametrize()
@reference_data.given(data=st.data())
@HYPOTHESIS
def test_reference_data_writes_answer_as_the_schema_says_to_an_administrator(
    case, data, seeded, administrator
):
    call_and_check(case, data, seeded, administrator)


decisions = schema.include(path_regex=r"^/api/v1/fast-track-decisions/", method=["POST", "PATCH"])


webhook_operations = schema.include(path_regex=r"^/api/v1/webhooks/")


@pytest.fixture
def seeded_webhook(seeded, manager):
    """A webhook of the manager's, with a delivery."""
    from monitoring import webhooks

    hook = webhooks.webhook_create(
        owner=manager, url="https://erp.example.com/hooks", secret="0123456789abcdef", now=NOW
    )
    app = ApplicationFactory(exporter_id=seeded["exporter"][0], reference="ST-HOOK")
    services.application_submit(application=app, at=at("2026-09-01"), now=NOW, actor=manager)
    delivery_ids = [str(pk) for pk in hook.deliveries.values_list("pk", flat=True)]
    assert delivery_ids
    return {**seeded, "webhook": [hook.pk], "delivery": delivery_ids}


@pytest.mark.slow
@webhook_operations.parametrize()
@webhook_operations.given(data=st.data())
@HYPOTHESIS
def test_webhook_operations_answer_as_the_schema_says_to_a_manager(
    case, data, seeded_webhook, manager
):
    call_and_check(case, data, seeded_webhook, manager)


@pytest.mark.slow
@decisions.parametrize()
@decisions.given(data=st.data())
@HYPOTHESIS
def test_decision_writes_answer_as_the_schema_says_to_a_manager(case, data, seeded, manager):
    pytest.importorskip("licenses.fasttrack", reason="licenses.fasttrack is not merged yet")
    call_and_check(case, data, seeded, manager)
