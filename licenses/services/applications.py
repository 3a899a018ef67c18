"""Creating and editing applications, and the drawdown totals kept on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.errors import InvalidInput, full_clean

from .. import events, signals
from ..clock import recompute
from ..models import (
    ControlledItem,
    LicenseApplication,
    Status,
)
from .checks import _check_authority_reference, _check_items
from .due_dates import save_due_dates
from .moves import _jsonable


def application_create(
    *, now: dt.datetime, actor: Any, items: Sequence[ControlledItem], **fields: Any
) -> LicenseApplication:
    """A new application starts as a draft."""
    with transaction.atomic():
        application = LicenseApplication(**fields)
        _check_items(application.authority_id, items)
        if application.authority_reference:
            _check_authority_reference(application, application.authority_reference)
        full_clean(application, exclude=["items"])
        application.save()
        application.items.set(items)
        events.created(application=application, now=now, actor=actor, status=application.status)
        save_due_dates(recompute([application], now=now), at=now, now=now, actor=actor)
    return application


# Fields an officer may still change once an application is submitted.
EDITABLE_AFTER_DRAFT = {"authority_reference", "quantity", "value"}


def application_update(
    *,
    application: LicenseApplication,
    now: dt.datetime,
    actor: Any,
    items: Sequence[ControlledItem] | None = None,
    **fields: Any,
) -> LicenseApplication:
    """Edit an application's facts. After submission only the case number, quantity and value
    may change (what the authority decides on is fixed once filed); the window and due date
    follow any change that touches them."""
    changed = {k: v for k, v in fields.items() if getattr(application, k) != v}
    items_changed = items is not None and {i.pk for i in items} != set(
        application.items.values_list("pk", flat=True)
    )
    if application.status != Status.DRAFT:
        locked = set(changed) - EDITABLE_AFTER_DRAFT
        if items_changed:
            locked.add("items")
        if locked:
            raise InvalidInput(
                _("Once submitted, an application's %(fields)s cannot change.")
                % {"fields": ", ".join(sorted(locked))},
                fields={f: _("Fixed once the application is submitted.") for f in locked},
            )
    with transaction.atomic():
        before = {k: getattr(application, k) for k in changed}
        for name, value in changed.items():
            setattr(application, name, value)
        if items is not None or "authority" in changed:
            # The items must be on the list of the authority the application now names.
            _check_items(
                application.authority_id,
                items if items is not None else list(application.items.all()),
            )
        if "authority_reference" in changed and application.authority_reference:
            _check_authority_reference(application, application.authority_reference)
        full_clean(application, exclude=["items"])
        application.save()
        if items_changed and items is not None:
            application.items.set(items)
        if changed or items_changed:
            edited = {
                k: [_jsonable(before[k]), _jsonable(getattr(application, k))] for k in changed
            }
            if items_changed:
                edited["items"] = [i.pk for i in items or []]
            events.edited(application=application, edited=edited, now=now, actor=actor)
            save_due_dates(recompute([application], now=now), at=now, now=now, actor=actor)
        if application.status == Status.DRAFT and "license_type" in changed:
            # A draft's license type is an input of its shipments' file-by deadlines.
            signals.changed.send(sender=LicenseApplication, now=now, draft_ids=[application.pk])
    return application


def drawdown_update(*, application_id: int, quantity: Decimal, value: Decimal) -> None:
    """Adjust the reserved totals of a general license (the caller holds the row lock)."""
    LicenseApplication.objects.filter(pk=application_id).update(
        drawn_quantity=F("drawn_quantity") + quantity, drawn_value=F("drawn_value") + value
    )
