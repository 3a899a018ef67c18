"""What a given user may see. Every surface (pages, API, admin, exports, e-mail) reads through
these functions, so an exporter limit is enforced in one place.

A user limited to some exporters sees only those exporters and what belongs to them; an
inactive or anonymous user sees nothing; everyone else sees everything. Authorities and
controlled items are shared reference data, readable by every signed-in user.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from .measures import status_q, today
from .models import (
    Authority,
    CalendarDay,
    ControlledItem,
    Document,
    Event,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    Measure,
    WindowRule,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from .calendars import WorkCalendar

    AnyUser = AbstractBaseUser | AnonymousUser

NOTHING: frozenset[int] = frozenset()


def visible_exporter_ids(user: Any) -> frozenset[int] | None:
    """None when the user sees every exporter, else the ids it may see (possibly none).

    The answer is cached on the user object for the duration of a request.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if hasattr(user, "_visible_exporter_ids"):
        cached: frozenset[int] | None = user._visible_exporter_ids
        return cached
    result: frozenset[int] | None = None
    if not user.is_superuser:
        profile = getattr(user, "profile", None) if _has_profile(user) else None
        if profile is not None and profile.limited_to_exporters:
            result = frozenset(profile.exporters.values_list("id", flat=True))
    user._visible_exporter_ids = result
    return result


def _has_profile(user: Any) -> bool:
    from .models import UserProfile

    try:
        user.profile  # noqa: B018
    except UserProfile.DoesNotExist:
        return False
    return True


def scope(qs: QuerySet, user: Any, field: str = "exporter") -> QuerySet:
    """Limit any queryset to what `user` may see through its exporter `field` lookup."""
    ids = visible_exporter_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(**{f"{field}__in": ids})


def user_may_see_exporter(user: Any, exporter_id: int | None) -> bool:
    ids = visible_exporter_ids(user)
    return ids is None or exporter_id in ids


def exporter_list(*, user: Any) -> QuerySet[Exporter]:
    return scope(Exporter.objects.all(), user, "id")


def exporter_choices(*, user: Any) -> QuerySet[Exporter]:
    """The exporters a filter offers (`exporter_list`), their names only: a list page draws
    every one of them, and decoding each one's address and contacts cost three times as much
    as the rest of the query."""
    return exporter_list(user=user).only("id", "name")


def application_list(*, user: Any) -> QuerySet[LicenseApplication]:
    return scope(LicenseApplication.objects.select_related("exporter", "authority"), user)


def item_matches(term: str, prefix: str = "") -> Q:
    """A controlled item whose code, description or material contains `term` (any case)."""
    return (
        Q(**{f"{prefix}code__icontains": term})
        | Q(**{f"{prefix}description__icontains": term})
        | Q(**{f"{prefix}material__icontains": term})
    )


def application_matches(term: str) -> Q:
    """What a search term finds of applications, on the page and in the API (core.search):
    the reference, case number and license number, the exporter's name, and the code,
    description or material of any of its items (an `Exists`, so no application twice)."""
    items = ControlledItem.objects.filter(applications=OuterRef("pk")).filter(item_matches(term))
    return (
        Q(reference__icontains=term)
        | Q(authority_reference__icontains=term)
        | Q(license_number__icontains=term)
        | Q(exporter__name__icontains=term)
        | Q(Exists(items))
    )


def document_list(*, user: Any) -> QuerySet[Document]:
    return scope(Document.objects.select_related("application"), user, "application__exporter")


def event_list(*, user: Any) -> QuerySet[Event]:
    qs = Event.objects.select_related("actor")
    ids = visible_exporter_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(
        Q(application__exporter__in=ids)
        | Q(shipment__exporter__in=ids)
        | (Q(application__isnull=True) & Q(shipment__isnull=True) & Q(decision__isnull=False))
    )


def decision_list(*, user: Any) -> QuerySet[FastTrackDecision]:
    """Decisions are public announcements; one scoped to named exporters shows only to users
    who see one of them."""
    qs = FastTrackDecision.objects.select_related("authority", "created_by")
    ids = visible_exporter_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(Q(exporters__isnull=True) | Q(exporters__in=ids)).distinct()


def decision_writable_list(*, user: Any) -> QuerySet[FastTrackDecision]:
    """The decisions `user` may edit or revoke (subject to the role's permission): for a user
    limited to some exporters, those whose scope names exporters, every one of them theirs —
    a decision for any exporter, or naming someone else's, moves other exporters' due dates."""
    qs = decision_list(user=user)
    ids = visible_exporter_ids(user)
    if ids is None:
        return qs
    named = FastTrackDecision.exporters.through.objects.filter(fasttrackdecision_id=OuterRef("pk"))
    return qs.filter(Exists(named)).exclude(Exists(named.exclude(exporter_id__in=ids)))


def decision_may_write(*, decision: FastTrackDecision, user: Any) -> bool:
    """Whether `user` may edit or revoke this decision (see `decision_writable_list`). Reads
    the stored scope, not a prefetched one (which may hold only what the user may see)."""
    ids = visible_exporter_ids(user)
    if ids is None:
        return True
    named = set(
        FastTrackDecision.exporters.through.objects.filter(
            fasttrackdecision_id=decision.pk
        ).values_list("exporter_id", flat=True)
    )
    return bool(named) and named <= ids


def authority_list(*, user: Any) -> QuerySet[Authority]:
    if user is None or not user.is_authenticated or not user.is_active:
        return Authority.objects.none()
    return Authority.objects.all()


@dataclass(frozen=True)
class Authorities:
    """The authorities a user may see (`authority_list`), in the order of their codes, with
    the days administrators added to their calendars: read once by a page that names many
    (the dashboard), instead of joined to each of its lists."""

    by_id: dict[int, Authority]
    added: dict[int, list[CalendarDay]]

    def __iter__(self) -> Iterator[Authority]:
        return iter(self.by_id.values())

    def calendars(self, authorities: Iterable[Authority]) -> dict[int, WorkCalendar]:
        """Each of these authorities' working calendar, the added days included."""
        from .clock import calendar_for

        return {a.pk: calendar_for(a, self.added[a.pk]) for a in authorities}


def authorities(*, user: Any) -> Authorities:
    """`Authorities`, in one query: a row per authority and added day (a handful), or per
    authority with none."""
    from core import statements

    names = [field.attname for field in Authority._meta.concrete_fields]
    at = names.index("id")
    allowed = user is not None and user.is_authenticated and user.is_active
    by_id: dict[int, Authority] = {}
    added: dict[int, list[CalendarDay]] = defaultdict(list)
    for *values, added_date, added_kind in statements.rows(  # compiled once per process
        ("authorities", allowed),
        lambda: (
            authority_list(user=user)
            .order_by("code", "calendar_days__date")
            .values_list(*names, "calendar_days__date", "calendar_days__kind")
        ),
    ):
        pk = values[at]
        if pk not in by_id:
            by_id[pk] = Authority.from_db("default", names, values)
        if added_date is not None:
            added[pk].append(CalendarDay(authority=by_id[pk], date=added_date, kind=added_kind))
    return Authorities(by_id, added)


def item_list(*, user: Any) -> QuerySet[ControlledItem]:
    if user is None or not user.is_authenticated or not user.is_active:
        return ControlledItem.objects.none()
    return ControlledItem.objects.select_related("authority")


def window_rule_list(*, user: Any) -> QuerySet[WindowRule]:
    if user is None or not user.is_authenticated or not user.is_active:
        return WindowRule.objects.none()
    return WindowRule.objects.select_related("authority", "item")


def measure_list(*, user: Any) -> QuerySet[Measure]:
    """Measures are shared reference data: every signed-in user reads them all."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Measure.objects.none()
    return Measure.objects.select_related("authority").prefetch_related("suspensions", "items")


def measures_with_status(qs: QuerySet[Measure], status: str, now: dt.datetime) -> QuerySet[Measure]:
    """Those of `qs` whose status is `status` today, each on its own authority's date (one
    condition per authority: there are few)."""
    condition = Q(pk__in=[])
    for authority in Authority.objects.filter(measures__isnull=False).distinct():
        condition |= Q(authority=authority) & status_q(status, today(authority, now))
    return qs.filter(condition)
