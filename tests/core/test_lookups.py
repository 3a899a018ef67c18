"""`field__any`: one array parameter on PostgreSQL, whatever the number of ids."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses.models import Exporter
from shipments.models import Shipment

from ..factories import ExporterFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def test_any_selects_the_listed_rows_with_one_parameter():
    exporters = [ExporterFactory() for _ in range(3)]
    wanted = [exporters[0].pk, exporters[2].pk]
    with CaptureQueriesContext(connection) as queries:
        found = set(Exporter.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == set(wanted)
    assert "= ANY(" in queries[0]["sql"]
    assert Exporter.objects.filter(pk__any=[]).count() == 0
    many = list(range(1, 5001))
    _sql, params = Exporter.objects.filter(pk__any=many).query.sql_with_params()
    assert params == ("{" + ",".join(map(str, many)) + "}",)  # one array literal


def test_any_works_on_foreign_keys(ganzhou):
    mine = ShipmentFactory(exporter=ganzhou)
    ShipmentFactory()
    assert list(Shipment.objects.filter(exporter_id__any=[ganzhou.pk])) == [mine]
    assert list(Shipment.objects.filter(exporter__any=[ganzhou.pk])) == [mine]
