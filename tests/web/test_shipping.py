"""The Ship form records what left; the shipment page shows it; a general license's page shows
its balance and ledger, in English and in Chinese."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone

from licenses.models import LicenseApplication
from shipments import services as shipping
from shipments.models import Shipment

from ..helpers import NOW, at
from ..shipments.test_shipments import approved_general, new_shipment

pytestmark = pytest.mark.django_db


def local(moment: dt.datetime) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M")


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def cleared():
    app = approved_general(quantity="1000", value="10000")
    return app, new_shipment(app, "S-1", quantity="500", value="5000")


def test_the_ship_form_offers_the_planned_quantity(client, officer, cleared):
    _app, shipment = cleared
    client.force_login(officer)
    page = client.get(f"/shipments/{shipment.pk}/ship/").content.decode()
    assert 'name="shipped_quantity"' in page and 'value="500.000"' in page
    assert 'name="transport_document"' in page and 'name="customs_declaration"' in page
    detail = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert 'id="ship-shipped_quantity"' in detail  # the inline form on the page too


def test_shipping_from_the_form_records_what_left_and_the_page_shows_it(client, officer, cleared):
    app, shipment = cleared
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/ship/",
        {
            "at": local(timezone.now()),
            "shipped_quantity": "480",
            "transport_document": "MSKU7654321",
            "customs_declaration": "26CN4401999",
        },
        follow=True,
    )
    assert flash(response) == ["Ship recorded: S-1 is now shipped."]
    page = response.content.decode()
    assert 'id="shipped-quantity">480 kg' in page and "planned 500 kg" in page
    assert "MSKU7654321" in page and "26CN4401999" in page
    assert "Shipped quantity: 480 kg" in page  # the timeline
    app.refresh_from_db()
    assert (app.drawn_quantity, app.drawn_value) == (Decimal("480"), Decimal("4800"))


def test_an_overdraw_from_the_form_is_shown_on_the_field_and_changes_nothing(
    client, officer, cleared
):
    app, shipment = cleared
    client.force_login(officer)
    response = client.post(
        f"/shipments/{shipment.pk}/ship/",
        {"at": local(timezone.now()), "shipped_quantity": "1500.5"},
    )
    assert flash(response) == []  # the refusal is shown once, on its field
    form = response.context["form"]
    assert "500" in form.errors["shipped_quantity"][0]
    assert Shipment.objects.get(pk=shipment.pk).status == "cleared"
    response = client.post(
        f"/shipments/{shipment.pk}/ship/",
        {"at": local(timezone.now()), "shipped_quantity": "1.0005"},
    )
    assert response.context["form"].errors["shipped_quantity"] == ["At most 3 decimals."]
    assert LicenseApplication.objects.get(pk=app.pk).drawn_quantity == Decimal("500")


def test_the_application_page_shows_the_balance_and_the_ledger(client, viewer, cleared):
    app, shipment = cleared
    new_shipment(app, "S-2", quantity="100", value="1000")
    shipping.shipment_ship(
        shipment=shipment, at=at("2026-09-10"), now=NOW, actor=None, shipped_quantity=Decimal("450")
    )
    client.force_login(viewer)
    page = client.get(f"/applications/{app.pk}/").content.decode()
    assert "Balance and ledger" in page
    assert 'id="remaining-quantity"><strong>450</strong>' in page
    assert "4,500.00 USD" in page
    ledger = page[page.index('class="compact ledger"') :]
    ledger = ledger[: ledger.index("</table>")]
    assert ledger.count('<tr class="ledger-') == 3
    assert 'class="ledger-shipped"' in ledger and ">450 kg<" in ledger


def test_the_balance_and_ledger_read_in_chinese(client, officer, cleared):
    app, shipment = cleared
    shipping.shipment_ship(
        shipment=shipment,
        at=at("2026-09-10"),
        now=NOW,
        actor=None,
        transport_document="BL-1",
        customs_declaration="MRN-1",
    )
    client.force_login(officer)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get(f"/applications/{app.pk}/").content.decode()
    assert "余额与台账" in page and "剩余数量" in page and "已占用" in page
    page = client.get(f"/shipments/{shipment.pk}/").content.decode()
    assert "运输单据" in page and "报关单号" in page and "实际发运数量" in page


def test_an_individual_license_page_has_no_ledger(client, officer, world):
    client.force_login(officer)
    page = client.get(f"/applications/{world.mine.application.pk}/").content.decode()
    assert "Balance and ledger" not in page


def test_the_csv_export_holds_what_shipping_recorded(client, officer, cleared):
    import csv
    import io

    _app, shipment = cleared
    shipping.shipment_ship(
        shipment=shipment,
        at=at("2026-09-10"),
        now=NOW,
        actor=None,
        shipped_quantity=Decimal("480"),
        transport_document="BL-1",
        customs_declaration="MRN-1",
    )
    client.force_login(officer)
    response = client.get("/shipments/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["reference"] == "S-1")
    assert (row["shipped_quantity"], row["transport_document"], row["customs_declaration"]) == (
        "480.000",
        "BL-1",
        "MRN-1",
    )
    assert row["shipped_at"].startswith("2026-09-10")
