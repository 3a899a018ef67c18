"""What is due: for each kind of flag, the query of the subjects that should carry an open flag
of it at a moment (and, for `at_risk`, those whose open flag stays open although they are not
due). Each query matches a partial index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan

from licenses.models import CLOCKED_STATUSES, PENDING_STATUSES, LicenseApplication, Status
from shipments.models import Shipment, ShipmentStatus

from ..models import APPLICATION_FLAGS, FlagKind
from .horizons import Thresholds

SS = ShipmentStatus
# Shipments still in the flow before shipping (`on_hold` deliberately absent: see the package).
BEFORE_SHIPPING = (SS.PLANNED, SS.AWAITING_LICENSE, SS.CLEARED)
# Shipments still to ship under a license (`expiring`): held ones still need the license.
TO_SHIP = (*BEFORE_SHIPPING, SS.ON_HOLD)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
# Licenses shipments can use (`expiring`): approved, or approved with an amendment requested.
USABLE_LICENSE = (Status.APPROVED, Status.AMENDMENT_REQUESTED)
# Licenses that still hold a shipment before it ships (`license_expires`): usable ones, an
# exhausted general license (its reservations ship under it) and a suspended one (it may be
# reinstated).
HOLDING_LICENSE = (*USABLE_LICENSE, Status.EXHAUSTED, Status.SUSPENDED)


def any_of(conditions: Iterable[Any]) -> Q | None:
    combined: Q | None = None
    for condition in conditions:
        condition = condition if isinstance(condition, Q) else Q(condition)
        combined = condition if combined is None else combined | condition
    return combined


def due_applications(kind: str, th: Thresholds) -> QuerySet[LicenseApplication]:
    """The applications that should carry an open flag of `kind` now. Each query matches a
    partial index: `application_pending_due`, `application_approved_valid` or
    `application_info_reply_due`."""
    qs = LicenseApplication.objects.order_by()
    if kind == FlagKind.OVERDUE:
        # Pending applications and requested amendments: each has a due date.
        return qs.filter(status__in=CLOCKED_STATUSES, due_at__lte=th.now)
    if kind == FlagKind.DUE_SOON:
        per_authority = any_of(
            Q(authority_id=a.authority.pk, due_at__lte=a.due_soon_until) for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        latest = max(a.due_soon_until for a in th.authorities)
        return qs.filter(
            per_authority, status__in=CLOCKED_STATUSES, due_at__gt=th.now, due_at__lte=latest
        )
    if kind == FlagKind.EXPIRING:
        per_authority = any_of(
            Q(authority_id=a.authority.pk, valid_until__lte=a.expiring_until)
            for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        latest_day = max(a.expiring_until for a in th.authorities)
        still_to_ship = Shipment.objects.filter(application=OuterRef("pk"), status__in=TO_SHIP)
        return qs.filter(
            per_authority,
            Exists(still_to_ship),
            status__in=USABLE_LICENSE,
            valid_until__lte=latest_day,
        )
    if kind == FlagKind.REPLY_DUE:
        # An open request for information whose reply is due within the authority's due-soon
        # horizon, or already late: the `application_info_reply_due` index.
        per_authority = any_of(
            Q(authority_id=a.authority.pk, reply_due_at__lte=a.due_soon_until)
            for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        latest = max(a.due_soon_until for a in th.authorities)
        return qs.filter(per_authority, status=Status.INFO_REQUESTED, reply_due_at__lte=latest)
    raise ValueError(f"not an application flag: {kind}")


def at_risk_late(th: Thresholds) -> Any:
    """A shipment's lateness (`Flag.late`): the local day its application's `due_at` ends in
    (in the authority's zone) minus its planned ship date; empty without a due date."""
    due_instant = ExpressionWrapper(
        F("application__due_at") - V(ONE_MICROSECOND), output_field=DateTimeField()
    )
    due_day = Case(
        *(
            When(
                application__authority_id=a.authority.pk,
                then=TruncDate(due_instant, tzinfo=a.authority.tz),
            )
            for a in th.authorities
        ),
        output_field=DateField(),
    )
    return ExpressionWrapper(due_day - F("planned_ship_date"), output_field=DurationField())


def due_shipments(kind: str, th: Thresholds) -> QuerySet[Shipment]:
    """The shipments that should carry an open flag of `kind` now."""
    qs = Shipment.objects.order_by()
    if kind == FlagKind.AT_RISK:
        # The due date is the local day `due_at` ends in the application's authority's zone.
        due_instant = ExpressionWrapper(
            F("application__due_at") - V(ONE_MICROSECOND), output_field=DateTimeField()
        )
        per_authority = any_of(
            Q(application__authority_id=a.authority.pk)
            & Q(GreaterThan(TruncDate(due_instant, tzinfo=a.authority.tz), F("planned_ship_date")))
            for a in th.authorities
        )
        if per_authority is None:
            return qs.none()
        return qs.filter(
            per_authority,
            status__in=BEFORE_SHIPPING,
            application__status__in=PENDING_STATUSES,
            application__due_at__isnull=False,
        )
    if kind == FlagKind.FILE_BY:
        return qs.filter(
            status=SS.PLANNED, deadline__planned=True, deadline__file_by_at__lte=th.now
        )
    if kind == FlagKind.CONTROL_CHANGE:
        # Before shipping, its need for a license on the ship date differs from today's.
        return qs.filter(status__in=TO_SHIP).exclude(license_required=F("license_required_today"))
    if kind == FlagKind.LICENSE_EXPIRES:
        # Before shipping, under a license that ends before its planned ship date: it cannot
        # ship on that day under it (a date comparison: time alone never changes it).
        return qs.filter(
            status__in=TO_SHIP,
            application__status__in=HOLDING_LICENSE,
            application__valid_until__lt=F("planned_ship_date"),
        )
    if kind == FlagKind.LIKELY_LATE:
        # Before shipping, its application pending and likely decided only after the ship date
        # (the stored forecast: it moves with the history and nightly, never with the scan).
        return qs.filter(
            status__in=BEFORE_SHIPPING,
            application__status__in=PENDING_STATUSES,
            application__forecast_p50__gt=F("planned_ship_date"),
        )
    raise ValueError(f"not a shipment flag: {kind}")


def kept_shipments(kind: str) -> QuerySet[Shipment] | None:
    """Subjects whose open flag of `kind` stays open although they are not due: an `at_risk`
    shipment whose application waits on information (a pause never makes it safer)."""
    if kind == FlagKind.AT_RISK:
        return Shipment.objects.order_by().filter(
            status__in=BEFORE_SHIPPING, application__status=Status.INFO_REQUESTED
        )
    return None


def due_queryset(kind: str, th: Thresholds) -> QuerySet:
    return due_applications(kind, th) if kind in APPLICATION_FLAGS else due_shipments(kind, th)
