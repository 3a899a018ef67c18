"""What each authority actually takes, beside what it promises: the dashboard's observed
figures, estimated (Kaplan-Meier, `licenses.forecasts`) from the applications the user may
see, with pending ones censored.

Each application's duration is stored by the forecast pass (`history_units`: units from day 0
to its decision, its departure or the day of the pass, paused days left out), which also counts
them by duration into the history tallies; the page reads those counts, so nothing counts
applications or days again here.

Per authority: the median and the 90th percentile of the time to a decision, the share decided
within the authority's review window (1 - S(window)), the approval rate among decisions, and a
survival chart (the share still undecided after t units) with its figures table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from core import statements
from core.lookups import ids_in
from licenses import selectors as license_selectors
from licenses.forecasts import kaplan_meier_counts, quantile
from licenses.models import HistoryTally

from .dashboard import Chart, line_chart

CHART_POINTS = 12


@dataclass
class AuthorityHistory:
    code: str
    window_days: int
    unit: str  # its label, e.g. "working days"
    decided: int
    censored: int
    median: int | None
    p90: int | None
    within_window: float | None  # a share, 0..1
    approval_rate: float | None
    chart: Chart


def survival_points(*, until: int, points: int = CHART_POINTS) -> list[int]:
    """The elapsed units the chart shows: 0 to `until` in even steps."""
    step = max(1, -(-until // points))
    return list(range(0, until + 1, step))


def authority_history(
    *, user: Any, authorities: license_selectors.Authorities | None = None
) -> list[AuthorityHistory]:
    """The observed figures of every authority with history among the user's applications:
    from the history tallies the forecast pass writes (`licenses.models.HistoryTally`), those
    of all exporters for a user who sees them all, else summed over the user's exporters (the
    authorities are read unless given)."""
    visible = license_selectors.visible_exporter_ids(user)

    def counted() -> QuerySet:
        tallies = HistoryTally.objects.order_by()
        tallies = (
            tallies.filter(exporter__isnull=True)
            if visible is None
            else tallies.filter(ids_in("exporter_id", visible))
        )
        return tallies.values_list("authority_id", "units", "decided").annotate(
            count=Sum("n"), refused=Sum("rejected")
        )

    rows = statements.rows(("history", visible), counted)  # compiled once per process and scope
    groups: dict[int, list[tuple[int, bool, int]]] = defaultdict(list)
    rejected: dict[int, int] = defaultdict(int)
    for authority_id, units, decided, count, refused in rows:
        groups[authority_id].append((units, decided, count))
        rejected[authority_id] += refused
    result = []
    known = license_selectors.authorities(user=user) if authorities is None else authorities
    for authority in (a for a in known if a.pk in groups):  # in the order of their codes
        curve = kaplan_meier_counts(groups[authority.pk])
        window = authority.window_days
        longest = max([*curve.times, window])
        days = survival_points(until=longest)
        unit = authority.get_window_unit_display()
        chart = line_chart(
            id=f"survival-{authority.code.lower()}",
            title=_("%(authority)s: share still undecided") % {"authority": authority.code},
            description=_(
                "Of %(n)s applications (%(d)s decided), the share still undecided after each "
                "number of %(unit)s; the window is %(w)s."
            )
            % {"n": curve.decided + curve.censored, "d": curve.decided, "unit": unit, "w": window},
            x_labels=[str(t) for t in days],
            series=[
                (
                    _("still undecided (%)"),
                    "series-median",
                    [round(float(curve.at(t)) * 100, 1) for t in days],
                )
            ],
            y_label=_("still undecided (%)"),
        )
        chart.table_head = [unit, _("still undecided (%)")]
        decided = curve.decided
        result.append(
            AuthorityHistory(
                code=authority.code,
                window_days=window,
                unit=unit,
                decided=decided,
                censored=curve.censored,
                median=quantile(curve, Fraction(1, 2)),
                p90=quantile(curve, Fraction(9, 10)),
                within_window=float(1 - curve.at(window)) if decided else None,
                approval_rate=(decided - rejected[authority.pk]) / decided if decided else None,
                chart=chart,
            )
        )
    return result
