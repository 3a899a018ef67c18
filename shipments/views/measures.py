"""The measures registry's pages: the list (with what changes in the next 30 days) and a
measure's page (its suspensions, its history and the open shipments it touches). They live
here, not in `licenses`, because a measure's page lists shipments; measures are edited in the
back-office, through the same services."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.web import ListPage, Page, show_date
from licenses import measures, selectors
from licenses.forms import MeasureFilter
from licenses.models import Measure, MeasureStatus

from .. import selectors as shipment_selectors
from ..models import ShipmentStatus

# How far ahead the list looks for changes, in days (the digest's horizon is its own setting).
HORIZON_DAYS = 30
# Shipments shown on a measure's page (the count says how many there are).
SHIPMENT_LIMIT = 50
CLOSED = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED)

STATUS_LABELS = dict(MeasureStatus.choices)


def status_chip(status: str) -> dict[str, str]:
    return {"code": status, "label": str(STATUS_LABELS.get(status, status))}


def change_label(old: str, new: str) -> str:
    """What a change of status means, in words."""
    if new == MeasureStatus.ENDED:
        return _("ends (its last day was the day before)")
    if old == MeasureStatus.SUSPENDED and new == MeasureStatus.IN_FORCE:
        return _("its suspension ends: applies again")
    if new == MeasureStatus.SUSPENDED and old == MeasureStatus.SCHEDULED:
        return _("takes effect, but suspended")
    if new == MeasureStatus.SUSPENDED:
        return _("suspended")
    if new == MeasureStatus.IN_FORCE:
        return _("comes into force")
    return str(STATUS_LABELS.get(new, new))


@dataclass(frozen=True)
class Coming:
    day: dt.date
    measure: Measure
    what: str
    status: dict[str, str]


def coming_changes(rows: list[Measure], now: dt.datetime) -> list[Coming]:
    """The changes of status of `rows` from today to `HORIZON_DAYS` days ahead (each on its
    authority's date), in date order."""
    result = []
    for m in rows:
        suspensions = list(m.suspensions.all())
        first = measures.today(m.authority, now)
        last = first + dt.timedelta(days=HORIZON_DAYS)
        for day, new in measures.transitions(m, suspensions, first, last):
            old = measures.status_on(m, suspensions, day - measures.ONE_DAY)
            result.append(Coming(day, m, change_label(old, new), status_chip(new)))
    return sorted(result, key=lambda c: (c.day, c.measure.reference))


def may_edit_measures(user: Any) -> bool:
    """Managers and administrators not limited to some exporters (a measure binds all)."""
    return (
        user.is_staff
        and user.has_perm("licenses.change_measure")
        and selectors.visible_exporter_ids(user) is None
    )


class MeasureList(ListPage):
    permission_required = "licenses.view_measure"
    template_name = "shipments/measure_list.html"
    filterset_class = MeasureFilter
    sorts = {
        "reference": ("reference",),
        "authority": ("authority__code", "reference"),
        "effective_from": ("effective_from", "reference"),
        "announced_on": ("announced_on", "reference"),
    }
    default_sort = "-effective_from"

    def base_queryset(self) -> QuerySet:
        return selectors.measure_list(user=self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = timezone.now()
        filterset, qs, sort = self.filtered()
        page = Paginator(qs, self.paginate_by).get_page(request.GET.get("page"))
        every = list(selectors.measure_list(user=request.user))
        context = {
            "filter": filterset,
            "page_obj": page,
            "rows": measure_rows(page.object_list, now),
            "sort": sort,
            "filtered": bool(filterset.is_bound),
            "coming": coming_changes(every, now),
            "horizon": HORIZON_DAYS,
            "may_edit": may_edit_measures(request.user),
        }
        return render(request, self.template_name, context)


def measure_rows(page_rows: Any, now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for m in page_rows:
        suspensions = list(m.suspensions.all())
        status = measures.status_on(m, suspensions, measures.today(m.authority, now))
        rows.append({"measure": m, "status": status_chip(status), "suspensions": suspensions})
    return rows


def touched_shipments(measure: Measure, user: Any) -> QuerySet:
    """The open shipments of the measure's items (to its destinations, or any) that `user`
    may see, soonest first."""
    qs = shipment_selectors.shipment_list(user=user).filter(item__in=measure.items.all())
    if measure.destinations:
        qs = qs.filter(destination__in=measure.destinations)
    return qs.exclude(status__in=CLOSED).order_by("planned_ship_date", "pk")


def shown_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "; ".join(
            f"{s.get('from')} - {s.get('until') or '…'}"
            + (f" ({s['reference']})" if s.get("reference") else "")
            for s in value
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


FIELD_LABELS = {
    "authority": gettext_lazy("Authority"),
    "reference": gettext_lazy("Reference"),
    "title": gettext_lazy("Title"),
    "kind": gettext_lazy("Kind"),
    "announced_on": gettext_lazy("Announced"),
    "effective_from": gettext_lazy("Effective from"),
    "effective_until": gettext_lazy("Effective until"),
    "suspensions": gettext_lazy("Suspensions"),
    "items": gettext_lazy("Items"),
    "destinations": gettext_lazy("Destinations"),
    "source": gettext_lazy("Source"),
    "note": gettext_lazy("Note"),
}


class MeasureDetail(Page):
    permission_required = "licenses.view_measure"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        now = timezone.now()
        measure = get_object_or_404(selectors.measure_list(user=request.user), pk=pk)
        suspensions = list(measure.suspensions.all())
        today = measures.today(measure.authority, now)
        status = measures.status_on(measure, suspensions, today)
        history = []
        for change in measure.changes.select_related("actor"):
            lines = []
            if change.action != "created":
                for name, pair in (change.changes or {}).items():
                    old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                    lines.append(
                        {
                            "field": FIELD_LABELS.get(name, name),
                            "old": shown_value(old),
                            "new": shown_value(new),
                        }
                    )
            history.append({"change": change, "lines": lines})
        shipments = touched_shipments(measure, request.user)
        count = shipments.count()
        return render(
            request,
            "shipments/measure_detail.html",
            {
                "measure": measure,
                "status": status_chip(status),
                "today": today,
                "items": list(measure.items.all()),
                "suspensions": [
                    {
                        "suspension": s,
                        "current": s.starts_on <= today
                        and (s.ends_on is None or today <= s.ends_on),
                    }
                    for s in suspensions
                ],
                "periods": [
                    {"from": show_date(start), "until": show_date(end) if end else None}
                    for start, end in measures.periods(measure, suspensions)
                ],
                "coming": coming_changes([measure], now),
                "horizon": HORIZON_DAYS,
                "history": history,
                "shipments": list(shipments[:SHIPMENT_LIMIT]),
                "shipment_count": count,
                "shipment_limit": SHIPMENT_LIMIT,
                "may_edit": may_edit_measures(request.user),
                "limited": selectors.visible_exporter_ids(request.user) is not None,
            },
        )
