"""Checks that moves and edits share: the authority's case number and the items of an
application."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from core.errors import InvalidInput

from ..models import (
    ControlledItem,
    LicenseApplication,
)


def _check_authority_reference(application: LicenseApplication, reference: str) -> None:
    clash = LicenseApplication.objects.filter(
        authority_id=application.authority_id, authority_reference=reference
    ).exclude(pk=application.pk)
    if reference and clash.exists():
        raise InvalidInput(
            _("Another application already has this case number at this authority."),
            fields={"authority_reference": _("Already used at this authority.")},
        )


def _check_items(authority_id: int, items: Sequence[ControlledItem]) -> None:
    if any(item.authority_id != authority_id for item in items):
        raise InvalidInput(
            _("Every item must be on the authority's control list."),
            fields={"items": _("An item belongs to another authority's list.")},
        )
    units = {item.unit for item in items}
    if len(units) > 1:
        raise InvalidInput(
            _("All items of one application must be counted in the same unit."),
            fields={"items": _("Items in different units.")},
        )
