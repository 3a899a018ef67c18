"""The measure changes ahead, for the daily digest: what starts, ends, is suspended or applies
again within `ScanSettings.measure_horizon_days`, and how many planned shipments of each
exporter the reader watches (and may see) each change touches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from core.lookups import ids_in
from licenses.models import Exporter, Measure, MeasureSuspension
from shipments.models import Shipment
from shipments.services.requirements import IN_SCOPE

from .models import ScanSettings

ONE_DAY = dt.timedelta(days=1)

# What happens on the day of a change.
CHANGE_LABELS = {
    "starts": _("starts to apply"),
    "ends": _("no longer applies"),
    "suspension_starts": _("is suspended"),
    "suspension_ends": _("applies again (suspension ends)"),
}


@dataclass
class MeasureChangeAhead:
    measure: Measure
    change: str  # a key of CHANGE_LABELS
    day: dt.date  # the first day the change is in effect
    until: dt.date | None  # the last ship date it touches (None: open-ended)
    exporters: list[tuple[Exporter, int]] = field(default_factory=list)  # planned shipments

    @property
    def label(self) -> Any:
        return CHANGE_LABELS[self.change]

    @property
    def reference(self) -> str:
        return self.measure.reference


def horizon_days() -> int:
    found = ScanSettings.objects.filter(pk=1).values_list("measure_horizon_days", flat=True)
    return found[0] if found else ScanSettings._meta.get_field("measure_horizon_days").default


def measure_changes_ahead(
    *, today: dt.date, exporter_ids: set[int] | None, days: int | None = None
) -> list[MeasureChangeAhead]:
    """The changes of measures from `today` to `days` (default: the settings') ahead, in
    order, each with the number of planned shipments (before shipping, of its items and
    destinations, shipping on a day the change decides) of each exporter in `exporter_ids`
    (None: every exporter) that it touches."""
    days = horizon_days() if days is None else days
    last = today + dt.timedelta(days=days)
    window = (today, last)

    def inside(day: dt.date | None) -> bool:
        return day is not None and window[0] <= day <= window[1]

    found: list[MeasureChangeAhead] = []
    touching = Measure.objects.filter(
        Q(effective_from__range=window)
        | Q(effective_until__range=(today - ONE_DAY, last - ONE_DAY))
        | Q(suspensions__starts_on__range=window)
        | Q(suspensions__ends_on__range=(today - ONE_DAY, last - ONE_DAY))
    ).distinct()
    measures = list(touching.prefetch_related("items", "suspensions").order_by("pk"))
    for m in measures:
        if inside(m.effective_from):
            found.append(MeasureChangeAhead(m, "starts", m.effective_from, m.effective_until))
        if m.effective_until is not None and inside(m.effective_until + ONE_DAY):
            found.append(MeasureChangeAhead(m, "ends", m.effective_until + ONE_DAY, None))
        suspension: MeasureSuspension
        for suspension in m.suspensions.all():
            if inside(suspension.starts_on):
                found.append(
                    MeasureChangeAhead(
                        m, "suspension_starts", suspension.starts_on, suspension.ends_on
                    )
                )
            if suspension.ends_on is not None and inside(suspension.ends_on + ONE_DAY):
                found.append(
                    MeasureChangeAhead(
                        m, "suspension_ends", suspension.ends_on + ONE_DAY, m.effective_until
                    )
                )
    found.sort(key=lambda c: (c.day, c.reference, c.change))
    exporters: set[int] = set()
    counted: list[tuple[MeasureChangeAhead, list[tuple[int, int]]]] = []
    for change in found:
        counts = _touched(change, exporter_ids)
        counted.append((change, counts))
        exporters.update(pk for pk, _n in counts)
    names = Exporter.objects.in_bulk(sorted(exporters))
    for change, counts in counted:
        change.exporters = sorted(
            ((names[pk], n) for pk, n in counts if pk in names), key=lambda e: e[0].name
        )
    return found


def _touched(change: MeasureChangeAhead, exporter_ids: set[int] | None) -> list[tuple[int, int]]:
    """(exporter id, number of its planned shipments the change touches)."""
    items = [item.pk for item in change.measure.items.all()]
    if not items or (exporter_ids is not None and not exporter_ids):
        return []
    shipments = Shipment.objects.filter(
        ids_in("item_id", items), status__in=IN_SCOPE, planned_ship_date__gte=change.day
    )
    if change.until is not None:
        shipments = shipments.filter(planned_ship_date__lte=change.until)
    if change.measure.destinations:
        shipments = shipments.filter(destination__in=change.measure.destinations)
    if exporter_ids is not None:
        shipments = shipments.filter(ids_in("exporter_id", exporter_ids))
    return list(
        shipments.order_by()
        .values("exporter_id")
        .annotate(n=Count("pk"))
        .values_list("exporter_id", "n")
    )
