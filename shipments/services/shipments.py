"""Creating and editing shipments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput, full_clean
from core.words import day_words
from licenses import events, signals
from licenses.clock import local_date
from licenses.models import LicenseApplication

from ..models import FOLLOWING_STATUSES, Shipment, status_phrase
from .drawdown import _release, _reserve
from .requirements import requirement
from .states import SS, following_status


def _reevaluate(
    shipment: Shipment,
    *,
    now: dt.datetime,
    applications: Iterable[int | None] = (),
    file_by: bool = False,
) -> None:
    """Announce a written shipment (`licenses.signals.changed`), inside the service's
    transaction: its flags, and those of the applications it is (or was) assigned to
    (`expiring` counts the shipments still to ship under a license), are re-evaluated with the
    service's `now`; when `file_by`, its file-by deadline is recomputed first (its inputs were
    written) and read again when the instance is next asked for it."""
    signals.changed.send(
        sender=Shipment,
        now=now,
        application_ids=sorted({shipment.application_id, *applications} - {None}),
        **({"file_by_ids": [shipment.pk]} if file_by else {"shipment_ids": [shipment.pk]}),
    )
    if file_by:
        shipment.forget_deadline()


EDITABLE_STATUSES = set(FOLLOWING_STATUSES) | {SS.ON_HOLD}
# What decides whether a shipment needs a license (with the measures).
REQUIREMENT_INPUTS = {"item", "item_id", "destination", "planned_ship_date"}


def _evaluate_requirement(shipment: Shipment, *, now: dt.datetime) -> None:
    """Whether the shipment (about to be saved) needs a license on its planned ship date and
    today: the rule `evaluate_requirements` applies set-based, for this one shipment."""
    shipment.license_required, shipment.license_required_today = requirement(
        item=shipment.item,
        destination=shipment.destination,
        ship_date=shipment.planned_ship_date,
        now=now,
    )


def _check_ship_date_ahead(shipment: Shipment, *, now: dt.datetime) -> None:
    """A new shipment is planned for today or later: "today" is the date at `now` in the time
        zone of its item's authority. An edit checks a changed date the same way, never an unchanged
    one (a shipment planned for yesterday may still be edited otherwise)."""
    day = shipment.planned_ship_date
    if day is None or shipment.item_id is None:
        return
    today = local_date(now, shipment.item.authority.tz)
    if day < today:
        raise InvalidInput(
            _("A new shipment cannot be planned for a day in the past (%(day)s).")
            % {"day": day_words(day)},
            fields={
                "planned_ship_date": _(
                    "%(day)s is in the past: plan the shipment for today (%(today)s) or later."
                )
                % {"day": day_words(day), "today": day_words(today)}
            },
        )


def shipment_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Shipment:
    """A new shipment; assigned to an application it reserves on a general license and follows
    the application's state."""
    shipment = Shipment(**fields)
    full_clean(shipment)
    _check_ship_date_ahead(shipment, now=now)
    with transaction.atomic():
        application = None
        if shipment.application_id:
            application = LicenseApplication.objects.select_for_update().get(
                pk=shipment.application_id
            )
        _evaluate_requirement(shipment, now=now)
        shipment.status = following_status(application, shipment.license_required)
        shipment.save()
        events.created(shipment=shipment, now=now, actor=actor, status=shipment.status)
        if application is not None:
            _reserve(shipment, application, now=now, actor=actor)
        _reevaluate(shipment, now=now, file_by=True)
    return shipment


def shipment_update(*, shipment: Shipment, now: dt.datetime, actor: Any, **fields: Any) -> Shipment:
    """Edit a shipment before it ships. Moving it to another application (or changing its
    quantity or value) releases the old reservation and takes a new one, atomically."""
    changed = {k: v for k, v in fields.items() if getattr(shipment, k) != v}
    if "application" in changed:
        changed["application_id"] = changed.pop("application")
        changed["application_id"] = (
            changed["application_id"].pk if changed["application_id"] else None
        )
        if changed["application_id"] == shipment.application_id:
            del changed["application_id"]
    if not changed:
        return shipment
    if shipment.status not in EDITABLE_STATUSES:
        raise IllegalMove(
            _("The shipment is %(state)s: it can no longer be edited.")
            % {"state": status_phrase(shipment.status)}
        )
    old_app_id = shipment.application_id
    old_quantity, old_value = shipment.quantity, shipment.value
    with transaction.atomic():
        ids = sorted({i for i in (old_app_id, changed.get("application_id", old_app_id)) if i})
        locked = {
            a.pk: a
            for a in LicenseApplication.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        }
        current = Shipment.objects.select_for_update().get(pk=shipment.pk)
        if current.status != shipment.status or current.application_id != old_app_id:
            raise ConcurrentUpdate(_("The shipment was changed by someone else meanwhile."))
        for name, value in changed.items():
            setattr(shipment, name, value)
        if "item" in changed or "item_id" in changed:
            shipment.unit = shipment.item.unit
        full_clean(shipment)
        if "planned_ship_date" in changed:
            _check_ship_date_ahead(shipment, now=now)
        new_app_id = shipment.application_id
        amounts_changed = old_quantity != shipment.quantity or old_value != shipment.value
        if old_app_id and (old_app_id != new_app_id or amounts_changed):
            _release(shipment, locked[old_app_id], old_quantity, old_value, now=now, actor=actor)
        if REQUIREMENT_INPUTS & changed.keys():
            _evaluate_requirement(shipment, now=now)
        if shipment.status in FOLLOWING_STATUSES:
            shipment.status = following_status(
                locked.get(new_app_id) if new_app_id else None, shipment.license_required
            )
        shipment.save()
        if new_app_id and (old_app_id != new_app_id or amounts_changed):
            _reserve(shipment, locked[new_app_id], now=now, actor=actor)
        if old_app_id != new_app_id:
            events.assigned(
                shipment=shipment,
                from_application_id=old_app_id,
                to_application_id=new_app_id,
                from_status=current.status,
                to_status=shipment.status,
                now=now,
                actor=actor,
            )
        edited = {k: str(v) for k, v in changed.items() if k != "application_id"}
        if edited:
            events.edited(shipment=shipment, edited=edited, now=now, actor=actor)
        _reevaluate(shipment, now=now, applications=[old_app_id], file_by=True)
    return shipment
