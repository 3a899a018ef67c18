"""Logging and editing measures: the one write path of the measures registry.

Every create or update that changes something writes one `MeasureChange` row (who, which
fields old → new as the API shows them, when) and, when an input of "does this shipment need
a license" changed (kind, period, suspensions, items, destinations), announces it with
`signals.measure_changed` inside the transaction, naming the items before and after.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.countries import is_country
from core.errors import InvalidInput, full_clean

from .. import signals
from ..models import (
    Authority,
    ControlledItem,
    Measure,
    MeasureChange,
    MeasureKind,
    MeasureSuspension,
)

ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")

# The fields a measure's history and the API show, in order.
FIELDS = (
    "authority",
    "reference",
    "title",
    "kind",
    "announced_on",
    "effective_from",
    "effective_until",
    "suspensions",
    "items",
    "destinations",
    "source",
    "note",
)
PLAIN_FIELDS: tuple[str, ...] = ("reference", "title", "kind", "announced_on")
PLAIN_FIELDS += ("effective_from", "effective_until", "source", "note")
# Inputs of whether a shipment needs a license: a change to one of them is announced.
SCOPE_FIELDS = {"kind", "effective_from", "effective_until", "suspensions", "items", "destinations"}


def _day(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        errors[field] = _("Give a date, not a date and time.")
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = _("Give a date as YYYY-MM-DD.")
        return None


def suspension_data(suspensions: Iterable[MeasureSuspension]) -> list[dict[str, Any]]:
    """Suspensions as the API shows them, in order."""
    return [
        {
            "from": s.starts_on.isoformat(),
            "until": s.ends_on.isoformat() if s.ends_on else None,
            "reference": s.reference,
        }
        for s in sorted(suspensions, key=lambda s: (s.starts_on, s.ends_on or dt.date.max))
    ]


def representation(
    measure: Measure, suspensions: Iterable[MeasureSuspension], item_ids: Iterable[int]
) -> dict[str, Any]:
    """The measure's fields as the API shows them (its history records these)."""

    def show(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    data: dict[str, Any] = {name: show(getattr(measure, name)) for name in PLAIN_FIELDS}
    data["authority"] = measure.authority.code
    data["suspensions"] = suspension_data(suspensions)
    data["items"] = sorted(item_ids)
    data["destinations"] = list(measure.destinations or [])
    return {name: data[name] for name in FIELDS}


def _check_suspensions(value: Any, errors: dict[str, str]) -> list[MeasureSuspension]:
    """Suspensions from `{"from", "until", "reference"}` mappings (or unsaved suspensions):
    each with a first day, its last day not before it, none overlapping another."""
    if value is None:
        value = []
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        errors["suspensions"] = _("Give a list of suspensions.")
        return []
    result: list[MeasureSuspension] = []
    for entry in value:
        if isinstance(entry, MeasureSuspension):
            result.append(entry)
            continue
        if not isinstance(entry, Mapping):
            errors["suspensions"] = _('Each suspension has a "from", an "until" and a "reference".')
            return []
        unknown = set(entry) - {"from", "until", "reference"}
        if unknown:
            errors["suspensions"] = _("Unknown field in a suspension: %(fields)s.") % {
                "fields": ", ".join(sorted(unknown))
            }
            return []
        local: dict[str, str] = {}
        starts_on = _day(entry.get("from"), "suspensions", local)
        ends_on = _day(entry.get("until"), "suspensions", local)
        if local:
            errors.update(local)
            return []
        if starts_on is None:
            errors["suspensions"] = _("Give the first day of each suspension.")
            return []
        result.append(
            MeasureSuspension(
                starts_on=starts_on,
                ends_on=ends_on,
                reference=str(entry.get("reference") or "").strip()[:200],
            )
        )
    result.sort(key=lambda s: s.starts_on)
    for s in result:
        if s.ends_on is not None and s.ends_on < s.starts_on:
            errors["suspensions"] = _("A suspension cannot end before it starts.")
            return []
    for before, after in itertools.pairwise(result):
        if before.ends_on is None or after.starts_on <= before.ends_on:
            errors["suspensions"] = _("Suspensions cannot overlap: %(a)s and %(b)s.") % {
                "a": before.starts_on.isoformat(),
                "b": after.starts_on.isoformat(),
            }
            return []
    return result


def _check_destinations(value: Any, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    result: list[str] = []
    for code in value:
        if not is_country(code):
            errors["destinations"] = _(
                "%(value)s is not an upper-case ISO 3166 country code (e.g. US)."
            ) % {"value": code}
            return []
        if code not in result:
            result.append(code)
    return result


def _check_items(authority: Authority | None, value: Any, errors: dict[str, str]) -> list[int]:
    ids: list[int] = []
    for entry in value or ():
        pk = entry.pk if isinstance(entry, ControlledItem) else entry
        if isinstance(pk, bool) or not isinstance(pk, int):
            errors["items"] = _("Give controlled items by their ids.")
            return []
        if pk not in ids:
            ids.append(pk)
    if not ids:
        return []
    found = dict(ControlledItem.objects.filter(pk__in=ids).values_list("pk", "authority_id"))
    if len(found) != len(ids):
        errors["items"] = _("Unknown controlled item.")
    elif authority is not None and any(a != authority.pk for a in found.values()):
        errors["items"] = _("Every item must be on %(authority)s's control list.") % {
            "authority": authority.code
        }
    return sorted(ids)


def _validate(
    measure: Measure, raw_suspensions: Any, raw_items: Any, raw_destinations: Any
) -> tuple[list[MeasureSuspension], list[int]]:
    """Check the whole measure; raise `InvalidInput` naming every bad field at once."""
    errors: dict[str, str] = {}
    for name in ("announced_on", "effective_from", "effective_until"):
        value = getattr(measure, name)
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            setattr(measure, name, _day(value, name, errors))
    suspensions = _check_suspensions(raw_suspensions, errors)
    authority = measure.authority if measure.authority_id else None
    item_ids = _check_items(authority, raw_items, errors)
    measure.destinations = _check_destinations(raw_destinations, errors)
    if (
        measure.effective_from is not None
        and measure.effective_until is not None
        and measure.effective_until < measure.effective_from
    ):
        errors["effective_until"] = _("The last day cannot be before the first day.")
    if authority is not None and measure.reference:
        clash = Measure.objects.filter(authority=authority, reference=measure.reference)
        if clash.exclude(pk=measure.pk).exists():
            errors["reference"] = _("Another measure of this authority has this reference.")
    try:
        full_clean(measure, exclude=["items", *errors], validate_constraints=False)
    except InvalidInput as exc:
        errors.update(exc.fields)
        if not exc.fields:
            errors.setdefault("__all__", exc.message)
    if errors:
        if len(errors) == 1:
            name, text = next(iter(errors.items()))
            message = f"{name}: {text}"
        else:
            message = _("The measure is not valid: %(fields)s.") % {
                "fields": ", ".join(sorted(errors))
            }
        raise InvalidInput(message, fields=errors)
    return suspensions, item_ids


def _store_suspensions(measure: Measure, suspensions: list[MeasureSuspension]) -> None:
    measure.suspensions.all().delete()
    for s in suspensions:
        s.pk = None
        s.measure = measure
    MeasureSuspension.objects.bulk_create(suspensions)


def _announce(measure: Measure, item_ids: Iterable[int], now: dt.datetime) -> None:
    signals.measure_changed.send(
        sender=Measure, authority_id=measure.authority_id, item_ids=sorted(set(item_ids)), now=now
    )


def measure_create(
    *,
    authority: Authority,
    reference: str,
    title: str,
    announced_on: dt.date,
    effective_from: dt.date,
    kind: str = MeasureKind.CONTROL,
    effective_until: dt.date | None = None,
    suspensions: Iterable[Any] = (),
    items: Iterable[Any] = (),
    destinations: Iterable[str] = (),
    source: str = "",
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> Measure:
    """Log a measure (the caller checks the actor may): validated, stored with its
    suspensions and items, recorded as `created` and announced."""
    measure = Measure(
        authority=authority,
        reference=(reference or "").strip(),
        title=(title or "").strip(),
        kind=kind,
        announced_on=announced_on,
        effective_from=effective_from,
        effective_until=effective_until,
        source=(source or "").strip(),
        note=note or "",
    )
    checked, item_ids = _validate(measure, suspensions, items, destinations)
    with transaction.atomic():
        measure.save()
        _store_suspensions(measure, checked)
        measure.items.set(item_ids)
        after = representation(measure, checked, item_ids)
        change = MeasureChange.objects.create(
            measure=measure,
            changed_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            action="created",
            changes={name: [None, value] for name, value in after.items()},
        )
        signals.measure_recorded.send(sender=Measure, change=change, now=now)
        _announce(measure, item_ids, now)
    return measure


def measure_update(
    *, measure: Measure, actor: Any, now: dt.datetime, change_note: str = "", **changes: Any
) -> Measure:
    """Edit a measure: any of its fields, `suspensions` (a list of `{"from", "until",
    "reference"}` replacing them all), `items` and `destinations`. Its authority stays. Writes
    nothing when nothing changes; `change_note` explains the change in its history (the
    measure's own `note` is one of its fields)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            fields={name: _("Unknown field.") for name in unknown},
        )
    with transaction.atomic():
        measure = Measure.objects.select_for_update().select_related("authority").get(pk=measure.pk)
        old_suspensions = list(measure.suspensions.all())
        old_items = sorted(measure.items.values_list("pk", flat=True))
        before = representation(measure, old_suspensions, old_items)
        if "authority" in changes:
            value = changes.pop("authority")
            code = value.code if isinstance(value, Authority) else value
            if code != measure.authority.code:
                raise InvalidInput(
                    _("A measure's authority cannot change: log a new measure."),
                    fields={"authority": _("Fixed once the measure is logged.")},
                )
        for name in PLAIN_FIELDS:
            if name in changes:
                value = changes[name]
                if isinstance(value, str) and name in ("reference", "title", "source"):
                    value = value.strip()
                setattr(measure, name, value)
        checked, item_ids = _validate(
            measure,
            changes.get("suspensions", old_suspensions),
            changes.get("items", old_items),
            changes.get("destinations", measure.destinations),
        )
        after = representation(measure, checked, item_ids)
        diff = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
        if not diff:
            return measure
        measure.save()
        if "suspensions" in diff:
            _store_suspensions(measure, checked)
        if "items" in diff:
            measure.items.set(item_ids)
        change = MeasureChange.objects.create(
            measure=measure,
            changed_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            action="edited",
            changes=diff,
            note=change_note or "",
        )
        signals.measure_recorded.send(sender=Measure, change=change, now=now)
        if SCOPE_FIELDS & set(diff):
            _announce(measure, set(old_items) | set(item_ids), now)
    return measure
