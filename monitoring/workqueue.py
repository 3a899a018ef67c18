"""The work queue: what the signed-in user's exporters need done, most urgent first.

Six sections, each a question an officer asks every morning:

- `file_by`: planned shipments past or near their last day to file (`file_by_date` within
  `HORIZON_DAYS`), with that day;
- `reply_due`: applications waiting on our reply to a request for information (reason
  `information`), with the reply deadline (`reply_due_at`, none at some authorities);
- `overdue`: applications (and requested amendments) past their due date;
- `at_risk`: shipments whose license is due after their planned ship date (open flag);
- `expiring`: licenses whose validity ends soon with shipments left to ship (open flag);
- `license_expires`: shipments planned after their license's validity (open flag).
- `likely_late`: shipments whose application is likely decided after their ship date (the
  forecast from history; open flag).

Reading it costs a fixed number of queries, whatever the size of the book: one UNION ALL of
the six sections, each sorted by its deciding date, cut at `PER_SECTION` rows and carrying the
section's full count (`COUNT(*) OVER ()`); one query for those shipments and one for those
applications (through the selectors, so a user limited to some exporters sees only theirs),
each read as the values its rows show rather than as models and the models they name; one for
the authorities with the days administrators added to their calendars. The UNION's SQL is
built once per process and scope of exporters and run again with each moment's values
(`_statement`): building and compiling its parts cost more than running it. Rows are then
merged by their deciding date (the earliest first; a reply with no deadline last), and each
says the date in words ("3 days late", "in 2 working days") on its authority's calendar, and
links to the page where the work is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, F, QuerySet, Sum, Value
from django.db.models.fields import CharField, IntegerField
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import statements
from core.lookups import Ids, ids_in
from core.web import pk_url
from licenses import selectors as license_selectors
from licenses.calendars import WorkCalendar
from licenses.models import (
    CLOCKED_STATUSES,
    Authority,
    PauseReason,
    Status,
    WindowUnit,
)
from licenses.timeline import local_due_date, local_reply_due_date
from shipments import selectors as shipment_selectors
from shipments.models import FilingDeadline, ShipmentStatus

from .models import FlagKind, FlagTally
from .scan.due import HOLDING_LICENSE

# A shipment's last day to file is "near" within this many days (it is already flagged
# `file_by` once the day has ended).
HORIZON_DAYS = 14
# Rows read per section, and rows shown in the merged queue.
PER_SECTION = 10
SHOWN = 20

FILE_BY, REPLY, OVERDUE, AT_RISK, EXPIRING, LICENSE_EXPIRES, LIKELY_LATE = (
    "file_by",
    "reply_due",
    "overdue",
    "at_risk",
    "expiring",
    "license_expires",
    "likely_late",
)
# Section order: the tie-break between rows decided by the same day.
SECTIONS = (OVERDUE, FILE_BY, REPLY, LICENSE_EXPIRES, AT_RISK, LIKELY_LATE, EXPIRING)
LABELS = {
    FILE_BY: gettext_lazy("Last day to file"),
    REPLY: gettext_lazy("Reply to the authority"),
    OVERDUE: gettext_lazy("Overdue applications"),
    AT_RISK: gettext_lazy("Shipments at risk"),
    EXPIRING: gettext_lazy("Licenses expiring with shipments left"),
    LICENSE_EXPIRES: gettext_lazy("License ends before the ship date"),
    LIKELY_LATE: gettext_lazy("Likely decided after the ship date"),
}
# The flag chip each section shows (the colour of its urgency).
CHIPS = {
    FILE_BY: FlagKind.FILE_BY,
    REPLY: FlagKind.REPLY_DUE,
    OVERDUE: FlagKind.OVERDUE,
    AT_RISK: FlagKind.AT_RISK,
    EXPIRING: FlagKind.EXPIRING,
    LICENSE_EXPIRES: FlagKind.LICENSE_EXPIRES,
    LIKELY_LATE: FlagKind.LIKELY_LATE,
}
SHIPMENT_SECTIONS = {FILE_BY, AT_RISK, LICENSE_EXPIRES, LIKELY_LATE}
# The at-risk section is read in two parts, each in the order of an index: the open flags with
# a known lateness (the partial index `flag_open_at_risk_late`), the latest first, then those
# without one; the first `PER_SECTION` of the two together are the section's rows.
AT_RISK_UNKNOWN = "at_risk:unknown"


@dataclass(frozen=True)
class Section:
    code: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Row:
    section: str
    label: str
    chip: str
    reference: str
    subject_url: str
    exporter: str
    date: dt.date | None
    when: str
    late: bool
    detail: str
    action: str
    action_url: str
    days: int | None  # from today to `date`, in calendar days (negative: late)


@dataclass(frozen=True)
class Queue:
    sections: list[Section]
    rows: list[Row]

    @property
    def total(self) -> int:
        return sum(s.count for s in self.sections)


def _list_url(name: str, **params: str) -> str:
    return reverse(name) + "?" + urlencode(params)


FULL_LISTS = {
    FILE_BY: lambda: _list_url("shipment-list", status="planned", sort="file_by"),
    REPLY: lambda: _list_url("application-list", status="info_requested", sort="due"),
    OVERDUE: lambda: _list_url("application-list", flag="overdue", sort="due"),
    AT_RISK: lambda: _list_url("shipment-list", flag="at_risk", sort="ship_date"),
    EXPIRING: lambda: _list_url("application-list", flag="expiring"),
    LICENSE_EXPIRES: lambda: _list_url("shipment-list", flag="license_expires"),
    LIKELY_LATE: lambda: _list_url("shipment-list", flag="likely_late", sort="ship_date"),
}


def _horizon(now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The last day to file that is still "near", and a bound on the instant it ends (whatever
    the zone) that the partial index of planned deadlines can range over."""
    # The widest "today" of any time zone: a last day to file ends in its authority's zone.
    near = (now + dt.timedelta(days=1)).date() + dt.timedelta(days=HORIZON_DAYS)
    return near, dt.datetime.combine(near + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)


def _section_querysets(*, user: Any, now: dt.datetime) -> dict[str, tuple[QuerySet, tuple]]:
    """Each section's rows for this user, with the order of its deciding date."""
    shipments = shipment_selectors.shipment_list(user=user)
    applications = license_selectors.application_list(user=user)
    near, bound = _horizon(now)
    return {
        FILE_BY: (
            shipments.filter(
                status=ShipmentStatus.PLANNED,
                deadline__planned=True,
                # the day, and a bound on the instant it ends (whatever the zone) that the
                # partial index of planned deadlines can range over
                deadline__file_by_date__lte=near,
                deadline__file_by_at__lt=bound,
            ),
            (F("deadline__file_by_at").asc(), "planned_ship_date", "pk"),
        ),
        REPLY: (
            applications.filter(status=Status.INFO_REQUESTED, pause_reason=PauseReason.INFORMATION),
            (F("reply_due_at").asc(nulls_last=True), "pk"),
        ),
        OVERDUE: (
            applications.filter(status__in=CLOCKED_STATUSES, due_at__lt=now),
            (F("due_at").asc(), "pk"),
        ),
        # The flagged sections are read from their open flags (joined: one open flag per
        # subject and kind), so the database starts from the few flagged subjects.
        # At risk: the latest first (the stored lateness of the open flag, from its index),
        # as on the dashboard's at-risk list.
        AT_RISK: (
            shipments.filter(
                flags__kind=FlagKind.AT_RISK,
                flags__cleared_at__isnull=True,
                flags__late__isnull=False,
            ),
            (F("flags__late").desc(), "planned_ship_date", "pk"),
        ),
        # then those whose lateness is unknown (paused), by ship date (`AT_RISK_UNKNOWN`): the
        # one the open flag keeps (`Flag.deciding_date`), from its index
        AT_RISK_UNKNOWN: (
            shipments.filter(
                flags__kind=FlagKind.AT_RISK,
                flags__cleared_at__isnull=True,
                flags__late__isnull=True,
            ),
            (F("flags__deciding_date").asc(), "pk"),
        ),
        EXPIRING: (
            applications.filter(
                flags__kind=FlagKind.EXPIRING,
                flags__cleared_at__isnull=True,
                # the flag's own condition on the license's state, so that the license's index
                # of validity (`application_approved_valid`) gives the order
                status__in=HOLDING_LICENSE,
            ),
            (F("valid_until").asc(nulls_last=True), "pk"),
        ),
        # By the day the license ends, as the open flag keeps it (`Flag.deciding_date`).
        LICENSE_EXPIRES: (
            shipments.filter(flags__kind=FlagKind.LICENSE_EXPIRES, flags__cleared_at__isnull=True),
            (F("flags__deciding_date").asc(), "pk"),
        ),
        # By ship date, as the open flag keeps it.
        LIKELY_LATE: (
            shipments.filter(flags__kind=FlagKind.LIKELY_LATE, flags__cleared_at__isnull=True),
            (F("flags__deciding_date").asc(), "pk"),
        ),
    }


# Sections whose rows are exactly the subjects with an open flag of the same kind: their
# counts come from the flag tallies (`monitoring.flag_tallies`), not from counting rows.
# (`overdue` too: its open flags are the overdue applications as of the last scan, a minute at
# most before the rows listed.)
FLAGGED = (OVERDUE, AT_RISK, EXPIRING, LICENSE_EXPIRES, LIKELY_LATE)


def _heads(*, user: Any, now: dt.datetime) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """One query (a query per part on SQLite): the first `PER_SECTION` ids of each section in
    its order, and each section's count (rows with no id): summed from the flag tallies for the
    flagged sections and for the last days to file that have ended (each carries an open
    `file_by` flag), counted for the rest.

    On PostgreSQL the statement is built once per process and scope of exporters
    (`_statement`), and run again with this moment's values."""
    if connection.features.supports_slicing_ordering_in_compound:
        sql, params = _statement(user, now)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: Any = cursor.fetchall()
    else:  # SQLite: no LIMIT inside a UNION, so a query per part
        rows = [row for part in _parts(user=user, now=now) for row in part]
    counts: dict[str, int] = {}
    ids: list[tuple[str, int]] = []
    unknown: list[tuple[str, int]] = []
    for section, pk, total in rows:
        if pk is None:
            counts[section] = counts.get(section, 0) + (total or 0)
        elif section == AT_RISK_UNKNOWN:
            unknown.append((AT_RISK, pk))
        else:
            ids.append((section, pk))
    known = sum(1 for section, _pk in ids if section == AT_RISK)
    return counts, ids + unknown[: max(0, PER_SECTION - known)]


# The heads' statement, by scope of exporters (None: all): building and compiling its eleven
# parts costs more than running it, so it is built once per process and scope with stand-ins
# for the values that come from the moment (`now` and the horizon derived from it), whose
# places among the parameters are then filled with each moment's values.
_STATEMENTS: dict[frozenset[int] | None, tuple[str, list[Any], dict[int, int]]] = {}
_STATEMENTS_KEPT = 256  # scopes kept; the oldest is dropped beyond (few users differ in scope)
_STAND_INS = (
    dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
    dt.datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
)


def _moment_values(now: dt.datetime) -> tuple[Any, ...]:
    """The values of the statement that come from the moment, in a fixed order."""
    return (now, *_horizon(now))


def _compiled(user: Any, now: dt.datetime) -> tuple[str, list[Any]]:
    parts = _parts(user=user, now=now)
    first, *rest = parts
    sql, params = first.union(*rest, all=True).query.sql_with_params()
    return sql, list(params)


def _statement(user: Any, now: dt.datetime) -> tuple[str, list[Any]]:
    """The heads' SQL and parameters for this user's scope at `now`."""
    scope = license_selectors.visible_exporter_ids(user)
    if scope not in _STATEMENTS:
        # Built twice, with two sets of stand-ins: the statement must be the same text, and
        # its parameters differ exactly where a stand-in's value is, or the moment reaches the
        # statement some other way and it cannot be reused.
        (sql, params), (other_sql, other_params) = (_compiled(user, s) for s in _STAND_INS)
        first, second = (_moment_values(s) for s in _STAND_INS)
        places: dict[int, int] = {}
        for i, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if a in first and b == second[first.index(a)]:
                places[i] = first.index(a)
            elif a != b:
                raise ImproperlyConfigured(f"the work queue's parameter {i} depends on the moment")
        if sql != other_sql:
            raise ImproperlyConfigured("the work queue's statement depends on the moment")
        if len(_STATEMENTS) >= _STATEMENTS_KEPT:
            del _STATEMENTS[next(iter(_STATEMENTS))]
        _STATEMENTS[scope] = (sql, params, places)
    sql, params, places = _STATEMENTS[scope]
    values = _moment_values(now)
    return sql, [values[places[i]] if i in places else p for i, p in enumerate(params)]


def _parts(*, user: Any, now: dt.datetime) -> list[QuerySet]:
    """The heads' parts: each section's first ids, the counts, and the flag tallies."""
    none_id = Value(None, output_field=IntegerField())
    parts = []
    for code, (qs, order) in _section_querysets(user=user, now=now).items():
        section = Value(code, output_field=CharField())
        parts.append(
            qs.annotate(wq_section=section, wq_id=F("pk"), wq_total=none_id)
            .order_by(*order)
            .values_list("wq_section", "wq_id", "wq_total")[:PER_SECTION]
        )
        if code == FILE_BY:
            # those whose day has ended carry an open `file_by` flag (summed from the tallies
            # below): counted here are only those still to come
            parts.append(_file_by_to_come(user=user, now=now, section=section))
        elif code not in FLAGGED and code != AT_RISK_UNKNOWN:
            parts.append(
                qs.order_by()
                .annotate(wq_section=section)
                .values("wq_section")
                .annotate(wq_id=none_id, wq_total=Count("pk"))
                .values_list("wq_section", "wq_id", "wq_total")
            )
    visible = license_selectors.visible_exporter_ids(user)
    tallies = FlagTally.objects.order_by().filter(kind__in=(*FLAGGED, FlagKind.FILE_BY))
    tallies = (
        tallies.filter(exporter__isnull=True)
        if visible is None
        else tallies.filter(ids_in("exporter_id", visible))
    )
    parts.append(
        tallies.values("kind")
        .annotate(wq_id=none_id, wq_total=Sum("n"))
        .values_list("kind", "wq_id", "wq_total")
    )
    return parts


def _file_by_to_come(*, user: Any, now: dt.datetime, section: Value) -> QuerySet:
    """The count of the planned shipments whose last day to file is still to come within the
    horizon: read from the partial index of planned deadlines alone (`planned` follows the
    shipment's state), joined to the shipments only for a user limited to some exporters."""
    near, bound = _horizon(now)
    deadlines = FilingDeadline.objects.order_by().filter(
        planned=True, file_by_at__gt=now, file_by_at__lt=bound, file_by_date__lte=near
    )
    visible = license_selectors.visible_exporter_ids(user)
    if visible is not None:
        deadlines = deadlines.filter(ids_in("shipment__exporter_id", visible))
    return (
        deadlines.annotate(wq_section=section)
        .values("wq_section")
        # COUNT(*), not of the key: the index carries the rest (on PostgreSQL), so it is read
        # from the index alone
        .annotate(wq_id=Value(None, output_field=IntegerField()), wq_total=Count("*"))
        .values_list("wq_section", "wq_id", "wq_total")
    )


def _in_words(
    day: dt.date | None, *, today: dt.date, calendar: WorkCalendar | None
) -> tuple[str, bool, int | None]:
    """A deciding date as the user says it: "3 days late", "today", "in 2 working days" (on
    the authority's calendar when `calendar` is given), "in 5 days"."""
    if day is None:
        return _("no deadline set"), False, None
    days = (day - today).days
    if days < 0:
        return ngettext("%(n)s day late", "%(n)s days late", -days) % {"n": -days}, True, days
    if days == 0:
        return _("today"), False, days
    if calendar is not None:
        working = calendar.working_days_between(today, day)
        if working > 0:
            return (
                ngettext("in %(n)s working day", "in %(n)s working days", working) % {"n": working},
                False,
                days,
            )
    return ngettext("in %(n)s day", "in %(n)s days", days) % {"n": days}, False, days


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


@dataclass(frozen=True)
class _Application:
    """What a row shows of an application (read as values, not as a model: a row costs the
    objects built for it), with its authority."""

    pk: int
    reference: str
    status: str
    license_number: str
    due_at: dt.datetime | None
    reply_due_at: dt.datetime | None
    valid_until: dt.date | None
    forecast_p50: dt.date | None
    exporter_name: str
    authority: Authority


@dataclass(frozen=True)
class _Shipment:
    """What a row shows of a shipment, with its application's (or else its item's)
    authority."""

    pk: int
    reference: str
    planned_ship_date: dt.date
    file_by_date: dt.date | None
    exporter_name: str
    application: _Application | None
    authority: Authority


def _shipment_day(section: str, s: _Shipment) -> tuple[dt.date | None, Authority]:
    """A shipment row's deciding date, and the authority whose calendar and zone it is read
    on."""
    application, authority = s.application, s.authority
    if section == FILE_BY:
        return s.file_by_date, authority
    if section in (AT_RISK, LIKELY_LATE):
        return s.planned_ship_date, authority
    return (application.valid_until if application else None), authority  # LICENSE_EXPIRES


def _application_day(section: str, a: _Application) -> tuple[dt.date | None, Authority]:
    """An application row's deciding date, and its authority."""
    if section == REPLY:
        return local_reply_due_date(a), a.authority
    if section == OVERDUE:
        return local_due_date(a), a.authority
    return a.valid_until, a.authority  # EXPIRING


def _shipment_row(
    section: str, s: _Shipment, *, now: dt.datetime, calendars: dict[int, WorkCalendar]
) -> Row:
    application = s.application
    day, authority = _shipment_day(section, s)
    today = timezone.localtime(now, authority.tz).date()
    url = pk_url("shipment-detail", s.pk)
    working: WorkCalendar | None = None
    if section == FILE_BY:
        working = calendars.get(authority.pk)
        detail = _("ships %(date)s") % {"date": _date(s.planned_ship_date)}
        if application is not None and application.status == Status.DRAFT:
            action = _("Submit draft %(ref)s") % {"ref": application.reference}
            action_url = reverse("application-move", args=[application.pk, "submit"])
        else:
            action = _("File an application")
            action_url = url + "#file-application"
    elif section == AT_RISK:
        due = local_due_date(application) if application else None
        detail = _("ship date; license due %(date)s") % {"date": _date(due)}
        action, action_url = _("Review the ship date"), url
    elif section == LIKELY_LATE:
        likely = application.forecast_p50 if application else None
        detail = _("ship date; likely decided %(date)s") % {"date": _date(likely)}
        action, action_url = _("Review the ship date"), url
    else:  # LICENSE_EXPIRES
        detail = _("license ends; ships %(date)s") % {"date": _date(s.planned_ship_date)}
        action, action_url = _("Amend the license or move the ship date"), url
    when, late, days = _in_words(day, today=today, calendar=working)
    return Row(
        section=section,
        label=str(LABELS[section]),
        chip=CHIPS[section],
        reference=s.reference,
        subject_url=url,
        exporter=s.exporter_name,
        date=day,
        when=when,
        late=late,
        detail=detail,
        action=action,
        action_url=action_url,
        days=days,
    )


def _application_row(
    section: str,
    a: _Application,
    *,
    now: dt.datetime,
    calendars: dict[int, WorkCalendar],
) -> Row:
    day, authority = _application_day(section, a)
    today = timezone.localtime(now, authority.tz).date()
    url = pk_url("application-detail", a.pk)
    working: WorkCalendar | None = None
    if section == REPLY:
        if authority.reply_window_unit == WindowUnit.WORKING:
            working = calendars.get(authority.pk)
        detail = _("%(authority)s asked for information; reply by") % {"authority": authority.code}
        action = _("Provide the information")
        action_url = reverse("application-move", args=[a.pk, "provide-info"])
    elif section == OVERDUE:
        detail = _("%(authority)s was due to decide") % {"authority": authority.code}
        action, action_url = _("Follow up with the authority"), url
    else:  # EXPIRING
        detail = _("license %(number)s ends") % {"number": a.license_number or a.reference}
        action, action_url = _("Ship or amend before it ends"), url
    when, late, days = _in_words(day, today=today, calendar=working)
    return Row(
        section=section,
        label=str(LABELS[section]),
        chip=CHIPS[section],
        reference=a.reference,
        subject_url=url,
        exporter=a.exporter_name,
        date=day,
        when=when,
        late=late,
        detail=detail,
        action=action,
        action_url=action_url,
        days=days,
    )


# What a row shows of an application (`_Application`), as its fields are named from the
# application itself.
APPLICATION_FIELDS = (
    "pk",
    "reference",
    "status",
    "license_number",
    "due_at",
    "reply_due_at",
    "valid_until",
    "forecast_p50",
    "exporter__name",
    "authority_id",
)


def _application(values: Sequence[Any], authorities: dict[int, Authority]) -> _Application:
    """An application's values, in the order of `APPLICATION_FIELDS`."""
    (pk, reference, status, number, due_at, reply_due_at, valid_until, p50, exporter, authority) = (
        values
    )
    return _Application(
        pk=pk,
        reference=reference,
        status=status,
        license_number=number,
        due_at=due_at,
        reply_due_at=reply_due_at,
        valid_until=valid_until,
        forecast_p50=p50,
        exporter_name=exporter,
        authority=authorities[authority],
    )


def _subjects(
    *,
    user: Any,
    shipment_ids: set[int],
    application_ids: set[int],
    authorities: dict[int, Authority],
) -> tuple[dict[int, _Shipment], dict[int, _Application]]:
    """The heads' shipments and applications, through the selectors (a user limited to some
    exporters sees only theirs), as the values their rows show, in two queries, each compiled
    once per process and scope (`core.statements`). Always the same queries, rows or none
    (`__any` asks even for an empty list)."""
    scope = license_selectors.visible_exporter_ids(user)
    applications = {
        values[0]: _application(values, authorities)
        for values in statements.rows(
            ("workqueue.applications", scope),
            lambda ids: (
                license_selectors.application_list(user=user)
                .select_related(None)
                .filter(pk__any=ids)
                .values_list(*APPLICATION_FIELDS)
            ),
            Ids(application_ids),
        )
    }
    shipments: dict[int, _Shipment] = {}
    for (
        pk,
        reference,
        ship_date,
        file_by,
        exporter,
        item_authority,
        application_id,
        *rest,
    ) in statements.rows(
        ("workqueue.shipments", scope),
        lambda ids: (
            shipment_selectors.shipment_list(user=user)
            .select_related(None)
            .filter(pk__any=ids)
            .values_list(
                "pk",
                "reference",
                "planned_ship_date",
                "deadline__file_by_date",
                "exporter__name",
                "item__authority_id",
                "application_id",
                *(f"application__{field}" for field in APPLICATION_FIELDS[1:]),
            )
        ),
        Ids(shipment_ids),
    ):
        application = _application((application_id, *rest), authorities) if application_id else None
        shipments[pk] = _Shipment(
            pk=pk,
            reference=reference,
            planned_ship_date=ship_date,
            file_by_date=file_by,
            exporter_name=exporter,
            application=application,
            authority=application.authority if application else authorities[item_authority],
        )
    return shipments, applications


def work_queue(
    *, user: Any, now: dt.datetime, authorities: license_selectors.Authorities | None = None
) -> Queue:
    """The user's work queue: a count per section, and the most urgent rows of them all (the
    authorities are read unless given)."""
    counts, heads = _heads(user=user, now=now)
    known = license_selectors.authorities(user=user) if authorities is None else authorities
    shipments, applications = _subjects(
        user=user,
        shipment_ids={pk for section, pk in heads if section in SHIPMENT_SECTIONS},
        application_ids={pk for section, pk in heads if section not in SHIPMENT_SECTIONS},
        authorities=known.by_id,
    )
    # The most urgent first: each candidate's deciding date in days from today on its
    # authority's zone (no date last), then the section's order and the reference. Rows are
    # built (links, words, working days) only for those shown.
    order = {code: n for n, code in enumerate(SECTIONS)}
    candidates = []
    for section, pk in heads:
        subject: _Shipment | _Application
        if section in SHIPMENT_SECTIONS and pk in shipments:
            subject = shipments[pk]
            day, authority = _shipment_day(section, subject)
        elif section not in SHIPMENT_SECTIONS and pk in applications:
            subject = applications[pk]
            day, authority = _application_day(section, subject)
        else:
            continue
        days = (day - timezone.localtime(now, authority.tz).date()).days if day else None
        key = (days is None, days or 0, order[section], subject.reference)
        candidates.append((key, section, subject, authority))
    candidates.sort(key=lambda candidate: candidate[0])
    shown = candidates[:SHOWN]
    calendars = known.calendars({authority for _key, _section, _subject, authority in shown})
    rows = [
        _shipment_row(section, subject, now=now, calendars=calendars)
        if isinstance(subject, _Shipment)
        else _application_row(section, subject, now=now, calendars=calendars)
        for _key, section, subject, _authority in shown
    ]
    sections = [
        Section(code, str(LABELS[code]), counts.get(code, 0), FULL_LISTS[code]())
        for code in SECTIONS
    ]
    return Queue(sections=sections, rows=rows)
