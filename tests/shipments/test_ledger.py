"""A general license's balance and ledger: every reservation, release and shipment against it,
in order, with the running balance (licenses/ledger.py, read from the drawdown events)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from licenses import services
from licenses.ledger import ledger, remaining
from shipments import services as shipping

from ..factories import ApplicationFactory
from ..helpers import NOW, at
from .test_shipments import approved_general, general, new_shipment

pytestmark = pytest.mark.django_db

D = Decimal


def rows(app):
    app.refresh_from_db()
    return [
        (e.kind, str(e.shipment), e.quantity, e.value, e.balance_quantity, e.balance_value)
        for e in ledger(app)
    ]


def test_the_ledger_lists_reserve_ship_cancel_and_revoke_with_the_running_balance():
    app = approved_general(quantity="1000", value="10000")
    first = new_shipment(app, "S-1", quantity="300", value="3000")
    second = new_shipment(app, "S-2", quantity="200", value="2000")
    shipping.shipment_ship(
        shipment=first, at=at("2026-09-10"), now=NOW, actor=None, shipped_quantity=D("250")
    )
    shipping.shipment_cancel(shipment=second, at=at("2026-09-11"), now=NOW, actor=None)
    new_shipment(app, "S-3", quantity="100", value="1000")
    services.application_revoke(application=app, at=at("2026-09-12"), now=NOW, actor=None)
    assert rows(app) == [
        ("reserved", "S-1", D("300"), D("3000"), D("700"), D("7000")),
        ("reserved", "S-2", D("200"), D("2000"), D("500"), D("5000")),
        ("shipped", "S-1", D("250"), D("2500"), D("550"), D("5500")),
        ("released", "S-2", D("200"), D("2000"), D("750"), D("7500")),
        ("reserved", "S-3", D("100"), D("1000"), D("650"), D("6500")),
        ("released", "S-3", D("100"), D("1000"), D("750"), D("7500")),
    ]
    assert remaining(app) == (D("750"), D("7500"))  # the last balance is what is left


def test_a_bigger_shipment_and_its_undo_in_the_ledger():
    app = approved_general(quantity="1000", value="10000")
    shipment = new_shipment(app, "S-1", quantity="400", value="4000")
    shipping.shipment_ship(
        shipment=shipment, at=at("2026-09-10"), now=NOW, actor=None, shipped_quantity=D("450")
    )
    shipping.shipment_correct(shipment=shipment, now=NOW, actor=None, note="Typo", undo=True)
    assert rows(app) == [
        ("reserved", "S-1", D("400"), D("4000"), D("600"), D("6000")),
        ("shipped", "S-1", D("450"), D("4500"), D("550"), D("5500")),
        ("ship_undone", "S-1", D("450"), D("4500"), D("600"), D("6000")),
    ]


def test_before_approval_the_ledger_has_entries_but_no_balance():
    app = general()
    new_shipment(app, "S-1", quantity="300", value="3000")
    assert remaining(app) == (None, None)
    assert rows(app) == [("reserved", "S-1", D("300"), D("3000"), None, None)]


def test_an_individual_license_has_no_balance_and_no_ledger():
    app = ApplicationFactory(license_type="individual")
    new_shipment(app)
    assert remaining(app) == (None, None)
    assert ledger(app) == []


def test_the_ledger_reads_in_one_query_whatever_its_length(django_assert_num_queries):
    app = approved_general(quantity="1000", value="10000")
    new_shipment(app, "S-1", quantity="10", value="100")
    with django_assert_num_queries(1):
        assert len(ledger(app)) == 1
    for n in range(2, 12):
        new_shipment(app, f"S-{n}", quantity="10", value="100")
    with django_assert_num_queries(1):
        entries = ledger(app)
        assert [str(e.shipment) for e in entries][-1] == "S-11"
    assert entries[-1].balance_quantity == D("890")
