"""The schema is usable as it is published: a Python client generated from the live schema
by openapi-python-client (offline, in a temporary directory) drives a shipment's whole life
against a live server, through the generated functions and models only."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import time_machine
from django.contrib.auth.models import Group

from licenses import roles
from tests.factories import UserFactory, item
from tests.helpers import NOW

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "correct horse battery staple"
# The generator's settings the README gives: no formatter run afterwards, and enums as
# literal strings (time zone names such as GMT0 and GMT-0 would clash as Python names).
CONFIG = "post_hooks: []\nliteral_enums: true\n"


def generate_client(base_url: str, where: Path):
    schema = where / "schema.yaml"
    schema.write_bytes(httpx.get(f"{base_url}/api/schema/").raise_for_status().content)
    config = where / "config.yaml"
    config.write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [str(generator), "generate", "--path", str(schema), "--meta", "none"]
    command += ["--config", str(config), "--output-path", str(where / "tracker_client")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module("tracker_client")
    finally:
        sys.path.remove(str(where))


def test_a_client_generated_from_the_schema_drives_a_shipment_through_its_life(
    live_server, tmp_path
):
    user = UserFactory(username="erp_robot")
    user.groups.add(Group.objects.get(name=roles.OFFICER))
    samarium = item("1C902").pk
    with time_machine.travel(NOW, tick=True):
        tc = generate_client(live_server.url, tmp_path)
        m = importlib.import_module("tracker_client.models")

        def op(tag: str, name: str):
            return importlib.import_module(f"tracker_client.api.{tag}.{name}")

        anonymous = tc.Client(base_url=live_server.url, raise_on_unexpected_status=True)
        token = op("auth", "auth_token_create").sync(
            client=anonymous, body=m.CredentialsRequest(username="erp_robot", password=PASSWORD)
        )
        assert isinstance(token, m.Token), token
        client = tc.AuthenticatedClient(base_url=live_server.url, token=token.token, prefix="Token")

        exporter = op("exporters", "exporters_create").sync(
            client=client,
            body=m.ExporterRequest(
                name="Ganzhou Rare Earth Trading Co., Ltd.",
                registration_number="91360700MA35XXXX",
                country="CN",
                contact_emails=["compliance@ganzhou.example"],
            ),
        )
        assert isinstance(exporter, m.Exporter), exporter
        consignee = op("consignees", "consignees_create").sync(
            client=client,
            body=m.ConsigneeRequest(
                exporter=exporter.id, name="Magnetwerk GmbH", country="DE", end_use="Magnets"
            ),
        )
        assert isinstance(consignee, m.Consignee), consignee
        application = op("applications", "applications_create").sync(
            client=client,
            body=m.ApplicationRequest(
                exporter=exporter.id,
                authority="MOFCOM",
                license_type="individual",
                items=[samarium],
                destination="DE",
                reference="ERP-A-1",
                authority_reference="MOFCOM-2026-001",
                quantity="500.000",
                value="120000.00",
                currency="USD",
            ),
        )
        assert isinstance(application, m.Application), application
        assert application.status == "draft"
        shipment = op("shipments", "shipments_create").sync(
            client=client,
            body=m.ShipmentRequest(
                exporter=exporter.id,
                reference="ERP-S-1",
                item=samarium,
                quantity="500.000",
                value="120000.00",
                currency="USD",
                destination="DE",
                consignee=consignee.id,
                planned_ship_date=dt.date(2026, 12, 20),
                application=application.id,
            ),
        )
        assert isinstance(shipment, m.Shipment), shipment
        assert shipment.status == "planned"

        pk = str(application.id)
        moved = op("applications", "applications_submit_create").sync(
            pk, client=client, body=m.MoveRequest(at=dt.date(2026, 11, 2))
        )
        assert moved.status == "submitted", moved
        moved = op("applications", "applications_accept_create").sync(
            pk, client=client, body=m.AcceptRequest(at=dt.date(2026, 11, 3))
        )
        assert moved.status == "accepted", moved
        moved = op("applications", "applications_approve_create").sync(
            pk,
            client=client,
            body=m.ApproveRequest(
                at=dt.date(2026, 11, 20),
                license_number="MOFCOM-L-2026-001",
                valid_until=dt.date(2027, 11, 19),
            ),
        )
        assert isinstance(moved, m.Application) and moved.status == "approved", moved
        assert moved.license_number == "MOFCOM-L-2026-001"

        sid = str(shipment.id)
        cleared = op("shipments", "shipments_retrieve").sync(sid, client=client)
        assert cleared.status == "cleared", cleared
        shipped = op("shipments", "shipments_ship_create").sync(
            sid,
            client=client,
            body=m.ShipRequest(at=dt.date(2026, 11, 27), transport_document="BL-1"),
        )
        assert shipped.status == "shipped", shipped
        delivered = op("shipments", "shipments_deliver_create").sync(
            sid, client=client, body=m.MoveRequest(note="Signed for in Hamburg")
        )
        assert delivered.status == "delivered", delivered

        page = op("events", "events_list").sync(client=client, shipment=shipment.id)
        moves = [(e.from_status, e.to_status) for e in page.results if e.kind == "status_changed"]
        assert ("cleared", "shipped") in moves and ("shipped", "delivered") in moves, moves
        page = op("events", "events_list").sync(client=client, application=application.id)
        kinds = {(e.from_status, e.to_status) for e in page.results}
        assert {("draft", "submitted"), ("submitted", "accepted"), ("accepted", "approved")} <= (
            kinds
        )
        assert all(e.actor == "erp_robot" for e in page.results if e.to_status == "approved")
