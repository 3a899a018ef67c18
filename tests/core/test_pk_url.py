"""`core.web.pk_url`: a row's link without resolving its route each time, the same link
`reverse` gives, under any script prefix."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from core.web import pk_url


@pytest.mark.parametrize("name", ["shipment-detail", "application-detail"])
@pytest.mark.parametrize("pk", [1, 7, 10, 123456789])
def test_it_is_the_link_reverse_gives(name, pk):
    assert pk_url(name, pk) == reverse(name, args=[pk])


def test_it_follows_the_script_prefix():
    set_script_prefix("/tracker/")
    try:
        assert (
            pk_url("shipment-detail", 42)
            == "/tracker/shipments/42/"
            == reverse("shipment-detail", args=[42])
        )
    finally:
        set_script_prefix("/")
    assert pk_url("shipment-detail", 42) == "/shipments/42/"


def test_a_route_that_does_not_take_one_key_is_refused():
    with pytest.raises(NoReverseMatch):
        pk_url("application-move", 3)  # it takes the move's name too
    with pytest.raises(NoReverseMatch):
        pk_url("shipment-list", 3)  # it takes nothing
