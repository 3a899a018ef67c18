"""One selector layer decides what a user may see."""

from __future__ import annotations

import pytest

from licenses import selectors
from shipments import selectors as shipment_selectors

from ..factories import ApplicationFactory, ConsigneeFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_exporters_data(ganzhou, baotou):
    return {
        "mine": {
            "application": ApplicationFactory(exporter=ganzhou),
            "shipment": ShipmentFactory(exporter=ganzhou),
            "consignee": ConsigneeFactory(exporter=ganzhou),
        },
        "theirs": {
            "application": ApplicationFactory(exporter=baotou),
            "shipment": ShipmentFactory(exporter=baotou),
            "consignee": ConsigneeFactory(exporter=baotou),
        },
    }


def test_a_limited_user_gets_nothing_of_another_exporter(limited, ganzhou, two_exporters_data):
    assert list(selectors.exporter_list(user=limited)) == [ganzhou]
    assert set(selectors.application_list(user=limited)) == {
        two_exporters_data["mine"]["application"]
    }
    assert set(shipment_selectors.shipment_list(user=limited)) == {
        two_exporters_data["mine"]["shipment"]
    }
    consignees = set(shipment_selectors.consignee_list(user=limited))
    assert two_exporters_data["theirs"]["consignee"] not in consignees
    assert all(c.exporter_id == ganzhou.id for c in consignees)


def test_an_unlimited_officer_sees_every_exporter(officer, two_exporters_data):
    assert selectors.exporter_list(user=officer).count() == 2
    assert selectors.application_list(user=officer).count() == 2


def test_a_limited_user_with_no_exporters_sees_nothing(limited, two_exporters_data):
    limited.profile.exporters.clear()
    limited = type(limited).objects.get(pk=limited.pk)
    assert not selectors.exporter_list(user=limited).exists()
    assert not shipment_selectors.shipment_list(user=limited).exists()


def test_an_inactive_or_anonymous_user_sees_nothing(officer, two_exporters_data):
    from django.contrib.auth.models import AnonymousUser

    officer.is_active = False
    assert not selectors.application_list(user=officer).exists()
    assert not selectors.application_list(user=AnonymousUser()).exists()
    assert not selectors.authority_list(user=AnonymousUser()).exists()


def test_reference_data_is_shared(limited):
    assert selectors.authority_list(user=limited).count() == 3
    assert selectors.item_list(user=limited).count() >= 4
