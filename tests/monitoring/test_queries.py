"""Re-evaluating flags runs inside every move: its cost does not grow with the number of
shipments an application covers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring import scan

from ..factories import ApplicationFactory, ShipmentFactory
from .builders import accept, moment, shipment, submit

pytestmark = pytest.mark.django_db


def general_application_with(exporter, shipments: int):
    app = ApplicationFactory(exporter=exporter, license_type="general")
    submit(app, "2026-09-20")
    accept(app, "2026-09-24")
    for _ in range(shipments):
        shipment(exporter, ship="2026-12-20", application=app, recorded=moment("2026-09-25"))
    return app


def queries_to_evaluate(app) -> int:
    with CaptureQueriesContext(connection) as captured:
        scan.evaluate(now=moment("2026-10-01"), application_ids=[app.pk])
    return len(captured.captured_queries)


@pytest.mark.parametrize("shipments", [1, 30])
def test_evaluating_an_application_with_nothing_to_change_takes_seven_queries(exporter, shipments):
    app = general_application_with(exporter, shipments)
    scan.evaluate(now=moment("2026-10-01"), application_ids=[app.pk])
    assert queries_to_evaluate(app) == 7


def test_raising_a_flag_on_many_shipments_costs_the_same_as_on_one(exporter):
    costs = []
    for count in (1, 30):
        app = general_application_with(exporter, 0)
        # Written in bulk (no service): nothing has evaluated them yet. All ship before the
        # application is due: each is at risk.
        ShipmentFactory.create_batch(
            count,
            exporter=exporter,
            application=app,
            status="awaiting_license",
            planned_ship_date=dt.date(2026, 12, 1),
        )
        with CaptureQueriesContext(connection) as captured:
            result = scan.evaluate(now=moment("2026-10-01"), application_ids=[app.pk])
        assert len(result.kinds["at_risk"].raised) == count
        costs.append(len(captured.captured_queries))
    assert costs[0] == costs[1]
