"""The dashboard's numbers and charts, for one user: everything is read through the selectors,
so a user limited to some exporters sees counts, lists and charts of those exporters only.

Charts are drawn on the server as SVG (no script, no CDN): `line_chart` turns series of numbers
into coordinates and the template draws them, with the same numbers in a table beside each
chart for screen readers and for anyone who prefers figures.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import F, Max, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import statements
from core.lookups import Ids
from core.web import pk_url
from licenses import selectors as license_selectors
from licenses import tallies
from licenses.models import CLOCKED_STATUSES, Event, Status
from licenses.timeline import local_day_ending
from shipments import selectors as shipment_selectors
from shipments.models import ShipmentStatus

from . import approvals, flag_tallies, selectors
from .models import APPLICATION_FLAGS, FlagKind
from .workqueue import work_queue

WAITING = (ShipmentStatus.PLANNED, ShipmentStatus.AWAITING_LICENSE, ShipmentStatus.ON_HOLD)
OPEN = (*WAITING, ShipmentStatus.CLEARED)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Tally:
    code: str
    label: str
    count: int
    url: str


def _url(name: str, **params: str) -> str:
    return reverse(name) + ("?" + urlencode(params) if params else "")


def status_counts(*, user: Any, summed: tallies.Sums | None = None) -> dict[str, list[Tally]]:
    """Applications and shipments by state, in the order of their life: from the status
    tallies (`licenses.tallies`) of the exporters the user may see (or their sums, read
    already)."""
    counted = tallies.counts(license_selectors.visible_exporter_ids(user), summed=summed)
    apps, ships = counted[tallies.APPLICATION], counted[tallies.SHIPMENT]
    return {
        "applications": [
            Tally(code, str(label), apps.get(code, 0), _url("application-list", status=code))
            for code, label in Status.choices
        ],
        "shipments": [
            Tally(code, str(label), ships.get(code, 0), _url("shipment-list", status=code))
            for code, label in ShipmentStatus.choices
        ],
    }


def flag_counts(*, user: Any, opened: flag_tallies.Open | None = None) -> list[Tally]:
    """Open flags by kind (from the flag tallies, or their read already); each links to the
    list it concerns."""
    if opened is None:
        opened = flag_tallies.read(license_selectors.visible_exporter_ids(user))
    counts = opened.counts()
    return [
        Tally(
            code,
            str(label),
            counts.get(code, 0),
            _url("application-list" if code in APPLICATION_FLAGS else "shipment-list", flag=code),
        )
        for code, label in FlagKind.choices
    ]


@dataclass(frozen=True)
class Waiting:
    """A shipment waiting on an overdue application: what its row shows."""

    pk: int
    reference: str
    planned_ship_date: dt.date


@dataclass(frozen=True)
class OverdueRow:
    """An overdue application as the dashboard lists it (read as values, not as a model: a
    row costs the objects built for it)."""

    pk: int
    reference: str
    status: str
    exporter_name: str
    authority_code: str
    due_date: dt.date | None
    days_past_due: int
    shipments: list[Waiting]

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)

    @property
    def url(self) -> str:
        return pk_url("application-detail", self.pk)

    @property
    def waiting(self) -> list[tuple[str, str, str]]:
        """(link, reference, ship date) of each waiting shipment."""
        return [
            (pk_url("shipment-detail", s.pk), s.reference, s.planned_ship_date.isoformat())
            for s in self.shipments
        ]


def overdue_applications(
    *,
    user: Any,
    now: dt.datetime,
    limit: int = 25,
    authorities: license_selectors.Authorities | None = None,
) -> list[OverdueRow]:
    """Pending applications and requested amendments past their due date, longest overdue
    first, with the shipments that wait on them (the authorities are read unless given)."""
    known = license_selectors.authorities(user=user) if authorities is None else authorities
    scope = license_selectors.visible_exporter_ids(user)
    # each compiled once per process and scope (`core.statements`)
    overdue = statements.rows(
        ("dashboard.overdue", scope, limit),
        lambda moment: (
            license_selectors.application_list(user=user)
            .select_related(None)
            .filter(status__in=CLOCKED_STATUSES, due_at__lt=moment)
            .order_by("due_at", "id")
            .values_list("pk", "reference", "status", "due_at", "exporter__name", "authority_id")[
                :limit
            ]
        ),
        now,
    )
    waiting: dict[int, list[Waiting]] = defaultdict(list)
    for pk, reference, ships, application_id in statements.rows(
        ("dashboard.waiting", scope),
        lambda ids: (
            shipment_selectors.shipment_list(user=user)
            .select_related(None)
            .filter(status__in=OPEN, application_id__any=ids)
            .order_by("planned_ship_date")
            .values_list("pk", "reference", "planned_ship_date", "application_id")
        ),
        Ids(row[0] for row in overdue),
    ):
        waiting[application_id].append(Waiting(pk, reference, ships))
    rows = []
    for pk, reference, status, due_at, exporter, authority_id in overdue:
        authority = known.by_id[authority_id]
        rows.append(
            OverdueRow(
                pk=pk,
                reference=reference,
                status=status,
                exporter_name=exporter,
                authority_code=authority.code,
                due_date=local_day_ending(due_at, authority),
                days_past_due=_days_past(now, due_at),
                shipments=waiting[pk],
            )
        )
    return rows


def _days_past(now: dt.datetime, due_at: dt.datetime | None) -> int:
    """Whole days since the moment an application became overdue."""
    return max(0, (now - due_at) // DAY) if due_at else 0


def overdue_by_authority(*, user: Any, opened: flag_tallies.Open | None = None) -> dict[int, int]:
    """Pending applications and requested amendments past their due date, counted by
    authority: their open `overdue` flags, summed from the flag tallies (`monitoring.
    flag_tallies`) of the exporters the user may see. The scan raises the flag when the due
    date passes and clears it when the application moves on or its due date moves, so the
    counts are those of the last scan (a minute at most), as the work queue's and the open
    flags' counts are; the overdue list beside them reads the applications themselves."""
    if opened is None:
        opened = flag_tallies.read(license_selectors.visible_exporter_ids(user))
    return opened.by_authority(FlagKind.OVERDUE)


@dataclass(frozen=True)
class AtRiskRow:
    """A shipment at risk as the dashboard lists it (read as values)."""

    pk: int
    reference: str
    exporter_name: str
    destination: str
    planned_ship_date: dt.date
    application_id: int | None
    application_reference: str | None
    due_date: dt.date | None
    days_late: int | None

    @property
    def url(self) -> str:
        return pk_url("shipment-detail", self.pk)

    @property
    def application_url(self) -> str:
        return pk_url("application-detail", self.application_id) if self.application_id else ""


def at_risk_shipments(
    *,
    user: Any,
    now: dt.datetime,
    limit: int = 25,
    authorities: license_selectors.Authorities | None = None,
) -> list[AtRiskRow]:
    """The shipments at risk (an open `at_risk` flag: not yet cleared, their license due after
    their planned ship date), the latest first: days late = due date - ship date.

    The scan keeps the flags and their lateness (`Flag.late`) whenever a due date or a ship
    date changes, so the first `limit` are read from the index of open `at_risk` flags by
    lateness, however many are at risk (the authorities are read unless given)."""
    known = license_selectors.authorities(user=user) if authorities is None else authorities
    scope = license_selectors.visible_exporter_ids(user)

    def open_flags() -> QuerySet:
        return (
            selectors.flag_list(user=user)
            .filter(kind=FlagKind.AT_RISK, cleared_at__isnull=True)
            # what the list shows, nothing else
            .values_list(
                "shipment_id",
                "shipment__reference",
                "shipment__exporter__name",
                "shipment__destination",
                "shipment__planned_ship_date",
                "shipment__application_id",
                "shipment__application__reference",
                "shipment__application__due_at",
                "shipment__application__authority_id",
            )
        )

    # each built and compiled once per process and scope (`core.statements`)
    flags = statements.rows(
        ("dashboard.at_risk", scope, limit),
        lambda: (
            open_flags()
            .filter(late__isnull=False)
            .order_by(
                # NULLS FIRST (a ship date is never empty): an order the shipments' index by ship
                # date does not give, so the database sorts the ties of the few flags read instead
                # of walking the whole book by ship date
                "-late",
                F("shipment__planned_ship_date").asc(nulls_first=True),
                "shipment_id",
            )[:limit]
        ),
    )
    if len(flags) < limit:  # then those whose due date is unknown (paused), by ship date
        more = limit - len(flags)
        flags += statements.rows(
            ("dashboard.at_risk_unknown", scope, more),
            lambda: (
                open_flags()
                .filter(late__isnull=True)
                .order_by("deciding_date", "shipment_id")[:more]
            ),
        )
    out = []
    for pk, reference, exporter, destination, ships, app_id, app_ref, due_at, authority in flags:
        due = local_day_ending(due_at, known.by_id[authority]) if app_id else None
        out.append(
            AtRiskRow(
                pk=pk,
                reference=reference,
                exporter_name=exporter,
                destination=destination,
                planned_ship_date=ships,
                application_id=app_id,
                application_reference=app_ref,
                due_date=due,
                days_late=(due - ships).days if due else None,
            )
        )
    return out


@dataclass(frozen=True)
class AuthorityRow:
    code: str
    name: str
    pending: int
    overdue: int
    url: str


def pending_by_authority(
    *,
    user: Any,
    overdue: dict[int, int] | None = None,
    summed: tallies.Sums | None = None,
    authorities: license_selectors.Authorities | None = None,
) -> list[AuthorityRow]:
    """Pending applications by authority (from the status tallies, or their sums read
    already), and how many of them are overdue (`overdue_by_authority`, unless it was read
    already); the authorities are read unless given."""
    totals = tallies.pending_by_authority(
        license_selectors.visible_exporter_ids(user), summed=summed
    )
    if overdue is None:
        overdue = overdue_by_authority(user=user)
    return [
        AuthorityRow(
            a.code,
            a.name,
            totals[a.pk],
            overdue.get(a.pk, 0),
            _url("application-list", authority=a.code, status="pending"),
        )
        for a in (license_selectors.authorities(user=user) if authorities is None else authorities)
        if totals.get(a.pk)
    ]


# --- statistics -------------------------------------------------------------------------------


# The days the chart of open flags shows.
FLAG_CHART_DAYS = 90


def _day_ends(now: dt.datetime, days: int) -> tuple[list[dt.date], list[dt.datetime]]:
    """The last `days` days in the user's time zone, and the end of each (today's is now)."""
    tz = timezone.get_current_timezone()
    today = timezone.localtime(now).date()
    day_list = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    ends = [min(now, dt.datetime.combine(d + DAY, dt.time.min, tzinfo=tz)) for d in day_list]
    return day_list, ends


def read_flag_tallies(*, user: Any, now: dt.datetime) -> flag_tallies.Open:
    """The flag tallies the dashboard reads (open flags by kind and authority, and the changes
    since the chart's first day), in one query."""
    _days, ends = _day_ends(now, FLAG_CHART_DAYS)
    return flag_tallies.read(license_selectors.visible_exporter_ids(user), since=ends[0])


def open_flags_over_time(
    *,
    user: Any,
    now: dt.datetime,
    days: int = FLAG_CHART_DAYS,
    opened: flag_tallies.Open | None = None,
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """How many flags of each kind were open at the end of each of the last `days` days (in
    the user's time zone): from the flag tallies (or their read already, from the first of
    those days on), the open count less the changes of the hours since each day ended."""
    day_list, ends = _day_ends(now, days)
    if opened is None:
        opened = flag_tallies.read(license_selectors.visible_exporter_ids(user), since=ends[0])
    counted = opened.at(ends, now=now)
    return day_list, {kind: counted.get(kind, [0] * len(ends)) for kind in FlagKind.values}


# --- charts -----------------------------------------------------------------------------------


@dataclass
class Point:
    x: float
    y: float
    value: float
    period: str  # its label on the x axis
    figure: str  # the value as the chart prints it

    @property
    def label(self) -> str:
        return f"{self.period}: {self.figure}"


@dataclass
class Line:
    name: str
    css: str
    segments: list[str] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)

    @property
    def circles(self) -> SafeString:
        """The points as SVG markers, each with its figure as a tooltip (built here, not in a
        template loop: a dashboard draws hundreds of them). Coordinates are plain numbers;
        the texts are escaped."""
        name = escape(self.name)
        return mark_safe(  # every text in it is escaped
            "".join(
                f'<circle cx="{p.x}" cy="{p.y}" r="3.5"><title>{name} · {escape(p.label)}'
                "</title></circle>"
                for p in self.points
            )
        )


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    lines: list[Line]
    markers: bool
    table_head: list[str]
    table_rows: list[list[str]]
    y_label: str

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)

    # The chart's own words (`fragments/includes/chart.html` holds none).
    @property
    def empty_text(self) -> str:
        return _("No data for this period yet.")

    @property
    def figures_text(self) -> str:
        return _("Show the figures")

    @property
    def table_body(self) -> SafeString:
        """The figures table's rows, the period first and "—" for a gap (built here, not in a
        template loop: the open-flags chart alone has 90 rows of 10 cells)."""
        cells: dict[str, str] = {}  # each distinct figure escaped once (they repeat)

        def cell(figure: str) -> str:
            if figure not in cells:
                cells[figure] = f"<td>{escape(figure or '—')}</td>"
            return cells[figure]

        return mark_safe(  # every cell in it is escaped
            "".join(
                f'<tr><th scope="row">{escape(first)}</th>'
                + "".join(cell(figure) for figure in rest)
                + "</tr>"
                for first, *rest in self.table_rows
            )
        )


def nice_ceiling(value: float) -> float:
    """A round number at or above `value` for the top of an axis (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def axis_top(value: float, *, whole: bool) -> float:
    """The top of a y axis with four equal steps; counts (`whole`) get whole-number steps."""
    if not whole:
        return nice_ceiling(value)
    for exponent in range(15):
        for multiple in (1, 1.5, 2, 2.5, 3, 5):
            step = multiple * 10**exponent
            if float(step).is_integer() and step * 4 >= value:
                return step * 4
    return nice_ceiling(value)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def line_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    y_label: str,
    width: int = 640,
    height: int = 240,
    max_x_ticks: int = 8,
) -> Chart:
    """Coordinates for a line chart: one line per series (name, CSS class, values; None is a
    gap), x evenly spaced, y from 0 to a round maximum."""
    left, right, top, bottom = 48, width - 12, 24, height - 36
    n = max(len(x_labels), 1)
    values = [v for _n, _c, vs in series for v in vs if v is not None]
    whole = all(float(v).is_integer() for v in values)
    y_max = axis_top(max(values) if values else 1, whole=whole)

    def x_at(i: int) -> float:
        return left + (right - left) * (i / (n - 1) if n > 1 else 0.5)

    def y_at(v: float) -> float:
        return bottom - (bottom - top) * (v / y_max)

    # Each period's x, and each distinct value's y and figure, once (the open-flags chart has
    # 90 periods of nine series, and few distinct counts).
    xs = [round(x_at(i), 1) for i in range(len(x_labels))]
    ys: dict[float, float] = {}
    figures: dict[float | None, str] = {None: ""}
    for value in values:
        if value not in ys:
            ys[value], figures[value] = round(y_at(value), 1), _fmt(value)
    lines = []
    for name, css, vs in series:
        line = Line(name=name, css=css)
        current: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                if len(current) > 1:
                    line.segments.append(" ".join(current))
                current = []
                continue
            x, y = xs[i], ys[v]
            current.append(f"{x},{y}")
            line.points.append(Point(x, y, v, x_labels[i], figures[v]))
        if len(current) > 1:
            line.segments.append(" ".join(current))
        lines.append(line)
    step = max(1, math.ceil(n / max_x_ticks))
    x_ticks = [(xs[i], label) for i, label in enumerate(x_labels) if i % step == 0]
    y_ticks = [(round(y_at(y_max * k / 4), 1), _fmt(y_max * k / 4)) for k in range(5)]
    table_rows = [
        [label, *[figures[vs[i]] for _n, _c, vs in series]] for i, label in enumerate(x_labels)
    ]
    return Chart(
        id=id,
        title=title,
        description=description,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        lines=lines,
        markers=n <= 31,
        table_head=[_("Period"), *[name for name, _c, _v in series]],
        table_rows=table_rows,
        y_label=y_label,
    )


def approval_time_charts(
    *,
    user: Any,
    now: dt.datetime,
    months: int = approvals.MONTHS,
    authorities: license_selectors.Authorities | None = None,
) -> list[Chart]:
    charts = []
    timed = approvals.approval_times(user=user, now=now, months=months, authorities=authorities)
    for code, stats in timed.items():
        labels = [s.month.strftime("%Y-%m") for s in stats]
        charts.append(
            line_chart(
                id=f"approval-{code.lower()}",
                title=_("%(authority)s: days from submission to approval") % {"authority": code},
                description=_("Median and 90th percentile by month of approval, last %(n)s months.")
                % {"n": months},
                x_labels=labels,
                series=[
                    (_("median"), "series-median", [s.median for s in stats]),
                    (_("90th percentile"), "series-p90", [s.p90 for s in stats]),
                ],
                y_label=_("days"),
            )
        )
    return charts


def open_flags_chart(
    *,
    user: Any,
    now: dt.datetime,
    days: int = FLAG_CHART_DAYS,
    opened: flag_tallies.Open | None = None,
) -> Chart:
    day_list, series = open_flags_over_time(user=user, now=now, days=days, opened=opened)
    return line_chart(
        id="open-flags",
        title=_("Open flags over time"),
        description=_("Flags open at the end of each day, by kind, last %(n)s days.") % {"n": days},
        x_labels=[d.isoformat() for d in day_list],
        series=[
            (str(label), f"series-{code.replace('_', '-')}", series[code])
            for code, label in FlagKind.choices
        ],
        y_label=_("open flags"),
    )


# How long a rendered dashboard is reused while nothing changes (see `cached_dashboard`).
CACHE_SECONDS = 60
# The dashboard's body (everything under the page's header): the same for every request of
# one user, language, time zone and moment, so it is what the cache keeps.
BODY_TEMPLATE = "monitoring/_dashboard.html"


def data_version() -> int:
    """Changes whenever anything the dashboard shows changes: every state change, due date,
    flag raised or cleared, shipment created or edited, drawdown and correction is recorded as
    an event (append-only), so the latest event id moves with each of them."""
    return Event.objects.aggregate(latest=Max("id"))["latest"] or 0


def cached_dashboard(*, user: Any, now: dt.datetime) -> SafeString:
    """The dashboard's body (`dashboard`, drawn by `BODY_TEMPLATE`), reused until the data
    change (a new event), the minute turns (what depends on `now`: overdue counts, days past
    due) or a minute has passed (names of exporters and authorities, which are edited without
    an event). The key also holds who asks, what they may see, their language and time zone.
    What is kept is the drawn HTML, one string, not the objects it was drawn from: storing
    and reading it costs little, and a page reloaded while nothing changed costs one indexed
    query and no drawing."""
    visible = license_selectors.visible_exporter_ids(user)
    key = ":".join(
        [
            "dashboard",
            str(user.pk),
            "all" if visible is None else str(hash(visible)),
            get_language() or "",
            timezone.get_current_timezone_name(),
            str(data_version()),
            now.strftime("%Y%m%d%H%M"),
        ]
    )
    body = cache.get(key)
    if body is None:
        body = render_to_string(BODY_TEMPLATE, dashboard(user=user, now=now))
        cache.set(key, body, CACHE_SECONDS)
    return mark_safe(body)  # drawn by our template, which escapes what it prints


def dashboard(*, user: Any, now: dt.datetime) -> dict[str, Any]:
    """Everything the dashboard shows, for this user."""
    from .history import authority_history  # it draws its charts with this module

    known = license_selectors.authorities(user=user)  # named by many of its parts
    opened = read_flag_tallies(user=user, now=now)  # one read for counts, overdue and chart
    overdue = overdue_by_authority(user=user, opened=opened)  # for the total and the table
    # the status tallies, read once for the counts by state and the pending by authority
    summed = tallies.sums(license_selectors.visible_exporter_ids(user))
    return {
        "queue": work_queue(user=user, now=now, authorities=known),
        "counts": status_counts(user=user, summed=summed),
        "flag_counts": flag_counts(user=user, opened=opened),
        "overdue": overdue_applications(user=user, now=now, authorities=known),
        "overdue_total": sum(overdue.values()),
        "at_risk": at_risk_shipments(user=user, now=now, authorities=known),
        "by_authority": pending_by_authority(
            user=user, overdue=overdue, summed=summed, authorities=known
        ),
        "approval_charts": approval_time_charts(user=user, now=now, authorities=known),
        "flags_chart": open_flags_chart(user=user, now=now, opened=opened),
        "history": authority_history(user=user, authorities=known),
    }
