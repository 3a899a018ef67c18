"""The back-office's Ship move records what left through the same service, and shows its
refusals on the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from shipments.models import Shipment

from ..helpers import NOW
from ..shipments.test_shipments import approved_general, new_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def ship_url(shipment) -> str:
    return reverse("admin:shipments_shipment_move", args=[shipment.pk, "ship"])


def test_the_admin_ship_move_records_the_quantity_and_documents(client, officer):
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, quantity="500", value="5000")
    client.force_login(officer)
    form = client.get(ship_url(shipment)).content.decode()
    assert 'name="shipped_quantity"' in form and 'name="customs_declaration"' in form
    response = client.post(
        ship_url(shipment),
        {"shipped_quantity": "520", "transport_document": "AWB-1", "customs_declaration": "M-1"},
    )
    assert response.status_code == 302
    stored = Shipment.objects.get(pk=shipment.pk)
    assert stored.status == "shipped" and stored.shipped_quantity == Decimal("520")
    assert (stored.transport_document, stored.customs_declaration) == ("AWB-1", "M-1")
    app.refresh_from_db()
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("520"), Decimal("5200"))
    change = client.get(reverse("admin:shipments_shipment_change", args=[shipment.pk]))
    assert "AWB-1" in change.content.decode()


def test_the_admin_ship_move_defaults_to_the_planned_quantity(client, officer):
    app = approved_general()
    shipment = new_shipment(app, quantity="500", value="5000")
    client.force_login(officer)
    assert client.post(ship_url(shipment), {}).status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).shipped_quantity == Decimal("500")


def test_an_admin_overdraw_is_shown_on_the_field_and_changes_nothing(client, officer):
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, quantity="500", value="5000")
    client.force_login(officer)
    response = client.post(ship_url(shipment), {"shipped_quantity": "1200"})
    assert response.status_code == 200
    assert "500" in response.context["form"].errors["shipped_quantity"][0]
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"
