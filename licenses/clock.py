"""The due-date clock of pending applications.

A due date is stored on the application (`due_at`, indexed) and recomputed from its inputs
whenever one changes: a move, a rule, a fast-track decision, a calendar edit. Nothing counts
days up one at a time; see `licenses.calendars` for the arithmetic.

Rules, exactly as the product specification states them:

1. Only pending applications (submitted, accepted, information requested) have a due date;
   a referred one has no time limit (no due date).
2. While information is requested (or the case is with experts, inspected, or its item
   identified: every pause reason) the clock is stopped: `due_at` is empty.
3. Where the authority's clock starts at acceptance and the application is not yet accepted,
   `due_at` is the acceptance deadline: the acceptance window counted from submission.
4. Otherwise the day the clock starts (submission or acceptance, in the authority's time
   zone) is day 0 and the due date is the N-th working (or calendar) day after it, skipping
   every day from the day after information was requested up to and including the day it was
   provided. N is the governing window (`governing_window`).
5. `due_at` is the end of the due date in the authority's time zone (midnight after it).
6. A license whose amendment was requested (`amendment_requested`) is due the Nth working (or
   calendar) day after the day of the request (day 0, the authority's date), N being the
   authority's amendment window, or its review window when that is empty; nothing pauses it.
7. Nothing before the latest submission counts: a resubmitted application's clock starts at
   its resubmission, and pauses requested before it are ignored.

The reply deadline (`reply_due_at`) is computed alongside: while a pause of reason
`information` is open and the authority gives the applicant a reply window, the end of the
N-th working (or calendar, `reply_window_unit`) day after the day of the request (day 0, the
authority's date); empty otherwise.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from core.lookups import Ids

from .calendars import WorkCalendar, add_days, build_calendar
from .models import (
    PENDING_STATUSES,
    Authority,
    CalendarDay,
    ClockStart,
    FastTrackDecision,
    LicenseApplication,
    PauseReason,
    Status,
    WindowRule,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

# Holiday tables cover these years; beyond them a calendar simply has no holidays.
CALENDAR_YEARS = range(2000, 2041)


@functools.lru_cache(maxsize=32)
def _public_calendar(country: str, subdivision: str) -> WorkCalendar:
    return build_calendar(country=country, subdiv=subdivision or None, years=CALENDAR_YEARS)


def calendar_for(authority: Authority, days: Iterable[CalendarDay] | None = None) -> WorkCalendar:
    """The authority's calendar: public holidays and make-up workdays from `holidays`, plus the
    days an administrator added (read from the database unless given)."""
    public = _public_calendar(authority.calendar_country, authority.calendar_subdivision)
    if days is None:
        days = CalendarDay.objects.filter(authority=authority)
    added_holidays: list[dt.date] = []
    added_workdays: list[dt.date] = []
    for day in days:
        (added_holidays if day.kind == CalendarDay.Kind.HOLIDAY else added_workdays).append(
            day.date
        )
    if not added_holidays and not added_workdays:
        return public
    # An added day wins over the public calendar for its date.
    overridden = set(added_holidays) | set(added_workdays)
    return WorkCalendar(
        weekend=public.weekend,
        holidays=tuple(d for d in public.holidays if d not in overridden) + tuple(added_holidays),
        workdays=tuple(d for d in public.workdays if d not in overridden) + tuple(added_workdays),
    )


@dataclass(frozen=True)
class Window:
    days: int
    source: str  # "default", "rule:<id>" or "decision:<id>"
    decision_id: int | None = None
    rule_id: int | None = None


Scope = dict[str, set]
"""A decision's scope: "destinations", "items", "exporters", "applications" (empty: any)."""


@dataclass
class AuthorityContext:
    """Everything the clock needs about one authority, read once for many applications."""

    authority: Authority
    calendar: WorkCalendar
    rules: list[WindowRule]
    decisions: list[FastTrackDecision]  # in force now, not revoked, newest announcement first
    decision_scopes: dict[int, Scope]
    # Scopes of unsaved decisions (a preview), keyed by id() of the decision object.
    unsaved_scopes: dict[int, Scope] = field(default_factory=dict)
    # What `recompute` learns once for many applications: the window of each combination of
    # the inputs a window depends on, and the due date of each (start, days, pauses).
    windows: dict[tuple, Window] = field(default_factory=dict)
    due_days: dict[tuple, dt.date | None] = field(default_factory=dict)

    @functools.cached_property
    def names_applications(self) -> bool:
        """Whether a decision in force names applications: only then does the window depend
        on the application itself rather than on its exporter, destination, type and items."""
        scopes = [*self.decision_scopes.values(), *self.unsaved_scopes.values()]
        return any(scope["applications"] for scope in scopes)

    def window_for(self, application: LicenseApplication, item_ids: set[int]) -> Window:
        """`governing_window`, once per combination of its inputs."""
        key = (
            application.exporter_id,
            application.destination,
            application.license_type,
            frozenset(item_ids),
            application.pk if self.names_applications else None,
        )
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = governing_window(application, item_ids, self)
        return window

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        return self.authority.tz

    def scope_of(self, decision: FastTrackDecision) -> Scope:
        if decision.pk is None:
            return self.unsaved_scopes[id(decision)]
        return self.decision_scopes[decision.pk]


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    return moment.astimezone(tz).date()


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The instant a day ends in a time zone: midnight of the next day there."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def decisions_in_force(
    authority: Authority, *, now: dt.datetime, exclude_ids: Sequence[int] = ()
) -> list[FastTrackDecision]:
    today = local_date(now, authority.tz)
    return list(
        FastTrackDecision.objects.filter(
            authority=authority, revoked_at__isnull=True, effective_from__lte=today
        )
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=today))
        .exclude(pk__in=exclude_ids)
        .order_by("-announced_on", "-created_at", "-id")
    )


def in_force(decision: FastTrackDecision, *, today: dt.date) -> bool:
    """Whether a decision (saved or not) is in force on a local day of its authority."""
    return (
        decision.revoked_at is None
        and decision.effective_from <= today
        and (decision.effective_until is None or decision.effective_until >= today)
    )


_LAST = dt.datetime.max.replace(tzinfo=dt.UTC)


def precedence(decision: FastTrackDecision) -> tuple[dt.date, dt.datetime, float]:
    """Sort key of decisions: the most recently announced wins; on the same day the most
    recently logged. An unsaved decision (a preview) counts as logged last."""
    return (
        decision.announced_on,
        decision.created_at or _LAST,
        decision.pk if decision.pk is not None else float("inf"),
    )


def decision_scopes(decisions: Sequence[FastTrackDecision]) -> dict[int, dict[str, set]]:
    """The scope lists of several decisions in three queries."""
    scopes: dict[int, dict[str, set]] = {
        d.pk: {
            "destinations": set(d.destinations or []),
            "items": set(),
            "exporters": set(),
            "applications": set(),
        }
        for d in decisions
    }
    if not scopes:
        return scopes
    relations: list[tuple[str, Any, str]] = [
        ("items", FastTrackDecision.items.through, "controlleditem_id"),
        ("exporters", FastTrackDecision.exporters.through, "exporter_id"),
        ("applications", FastTrackDecision.applications.through, "licenseapplication_id"),
    ]
    for key, through, column in relations:
        rows = through.objects.filter(fasttrackdecision_id__in=scopes).values_list(
            "fasttrackdecision_id", column
        )
        for decision_id, other_id in rows:
            scopes[decision_id][key].add(other_id)
    return scopes


def covers(scope: Scope, *, application: LicenseApplication, item_ids: set[int]) -> bool:
    """Whether a decision's scope touches an application: an empty list means any; with
    items named, at least one of the application's items must be among them (whether that
    changes the application's window is `governing_window`'s business)."""
    return (
        (not scope["destinations"] or application.destination in scope["destinations"])
        and (not scope["items"] or bool(scope["items"] & item_ids))
        and (not scope["exporters"] or application.exporter_id in scope["exporters"])
        and (not scope["applications"] or application.pk in scope["applications"])
    )


ExtraDecision = tuple[FastTrackDecision, Scope]
"""An unsaved decision and its scope, for a preview: the clock counts it as if it were logged
now (see `recompute(extra_decisions=...)`)."""


def authority_context(
    authority: Authority,
    *,
    now: dt.datetime,
    exclude_decisions: Sequence[int] = (),
    extra_decisions: Sequence[ExtraDecision] = (),
) -> AuthorityContext:
    decisions = decisions_in_force(authority, now=now, exclude_ids=exclude_decisions)
    scopes = decision_scopes(decisions)
    unsaved: dict[int, Scope] = {}
    today = local_date(now, authority.tz)
    for decision, scope in extra_decisions:
        if decision.authority_id != authority.pk or not in_force(decision, today=today):
            continue
        if decision.pk is None:
            unsaved[id(decision)] = scope
        else:
            decisions = [d for d in decisions if d.pk != decision.pk]
            scopes[decision.pk] = scope
        decisions.append(decision)
    if extra_decisions:
        decisions.sort(key=precedence, reverse=True)
    return AuthorityContext(
        authority=authority,
        calendar=calendar_for(authority),
        rules=list(
            WindowRule.objects.filter(authority=authority, retired_at__isnull=True).order_by(
                "-created_at", "-id"
            )
        ),
        decisions=decisions,
        decision_scopes=scopes,
        unsaved_scopes=unsaved,
    )


def governing_window(
    application: LicenseApplication, item_ids: set[int], ctx: AuthorityContext
) -> Window:
    """The window in force now for an application.

    The authority decides an application as a whole, so each of its items gets a window and
    the longest governs. An item's window is that of the fast-track decision in force that
    covers the application and that item, when there is one (the most recently announced,
    then the most recently logged, wins: a decision overrides every rule); otherwise that of
    the matching rule naming most of item, destination and license type (the newest among
    equals); otherwise the authority's default.

    So a decision that fast-tracks samarium does not shorten the review of an application
    for samarium *and* gadolinium while gadolinium's window is longer.
    """
    best: Window | None = None
    # sorted: among equally long windows the attribution is stable
    candidates: list[int | None] = [*sorted(item_ids)] or [None]
    for item_id in candidates:
        window = _decision_window(application, item_id, ctx) or _rule_window(
            application, item_id, ctx
        )
        if best is None or window.days > best.days:
            best = window
    assert best is not None
    return best


def _decision_window(
    application: LicenseApplication, item_id: int | None, ctx: AuthorityContext
) -> Window | None:
    item_ids = {item_id} if item_id is not None else set()
    for decision in ctx.decisions:  # highest precedence first
        if covers(ctx.scope_of(decision), application=application, item_ids=item_ids):
            return Window(decision.window_days, f"decision:{decision.pk}", decision_id=decision.pk)
    return None


def _rule_window(
    application: LicenseApplication, item_id: int | None, ctx: AuthorityContext
) -> Window:
    chosen: WindowRule | None = None
    for rule in ctx.rules:  # newest first, so a strictly better specificity is needed
        if rule.item_id is not None and rule.item_id != item_id:
            continue
        if rule.destination and rule.destination != application.destination:
            continue
        if rule.license_type and rule.license_type != application.license_type:
            continue
        if chosen is None or rule.specificity > chosen.specificity:
            chosen = rule
    if chosen is None:
        return Window(ctx.authority.window_days, "default")
    return Window(chosen.window_days, f"rule:{chosen.pk}", rule_id=chosen.pk)


def due_at_for(
    application: LicenseApplication,
    *,
    window: Window,
    pauses: Sequence[tuple[dt.datetime, dt.datetime | None]],
    ctx: AuthorityContext,
) -> dt.datetime | None:
    """When a pending application, or a requested amendment, becomes overdue (see the module
    docstring)."""
    if application.status == Status.AMENDMENT_REQUESTED:
        return _amendment_due_at(application, window=window, ctx=ctx)
    if application.status not in PENDING_STATUSES or application.status in (
        Status.INFO_REQUESTED,
        Status.REFERRED,  # no time limit
    ):
        return None
    authority, tz = ctx.authority, ctx.tz
    if application.submitted_at is None:
        return None
    submitted_at = application.submitted_at
    local_pauses = [
        (local_date(a, tz), local_date(b, tz) if b else None)
        for a, b in pauses
        if a >= submitted_at  # a resubmission starts the clock afresh
    ]
    if authority.clock_starts == ClockStart.ACCEPTED and application.accepted_at is None:
        start, days = local_date(application.submitted_at, tz), authority.acceptance_window_days
    else:
        started = (
            application.accepted_at
            if authority.clock_starts == ClockStart.ACCEPTED
            else application.submitted_at
        )
        assert started is not None
        start, days = local_date(started, tz), window.days
    key = (start, days, tuple(local_pauses))
    if key in ctx.due_days:
        due = ctx.due_days[key]
    else:
        due = ctx.due_days[key] = add_days(
            calendar=ctx.calendar,
            start=start,
            n=days,
            unit=authority.window_unit,
            pauses=local_pauses,
        )
    return end_of_day(due, tz) if due is not None else None


def amendment_window(authority: Authority) -> Window:
    """The authority's window to decide an amendment: its own, else the review window."""
    if authority.amendment_window_days:
        return Window(authority.amendment_window_days, "amendment")
    return Window(authority.window_days, "amendment")


def _amendment_due_at(
    application: LicenseApplication, *, window: Window, ctx: AuthorityContext
) -> dt.datetime | None:
    requested = application.amendment_requested_at
    if requested is None:
        return None
    start = local_date(requested, ctx.tz)
    key = (start, window.days, ())
    if key in ctx.due_days:
        due = ctx.due_days[key]
    else:
        due = ctx.due_days[key] = add_days(
            calendar=ctx.calendar,
            start=start,
            n=window.days,
            unit=ctx.authority.window_unit,
            pauses=[],
        )
    return end_of_day(due, ctx.tz) if due is not None else None


def reply_due_at_for(
    application: LicenseApplication,
    *,
    open_pause: tuple[dt.datetime, str] | None,
    ctx: AuthorityContext,
) -> dt.datetime | None:
    """When the reply to an open request for information is due (see the module docstring):
    `open_pause` is the open pause's (requested_at, reason)."""
    authority = ctx.authority
    if (
        application.status != Status.INFO_REQUESTED
        or open_pause is None
        or open_pause[1] != PauseReason.INFORMATION
        or authority.reply_window_days is None
    ):
        return None
    start = local_date(open_pause[0], ctx.tz)
    key = ("reply", start, authority.reply_window_days, authority.reply_window_unit)
    if key in ctx.due_days:
        due = ctx.due_days[key]
    else:
        due = ctx.due_days[key] = add_days(
            calendar=ctx.calendar,
            start=start,
            n=authority.reply_window_days,
            unit=authority.reply_window_unit,
        )
    return end_of_day(due, ctx.tz) if due is not None else None


@dataclass(frozen=True)
class Recomputed:
    application: LicenseApplication
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime | None
    old_window: int | None
    window: Window
    old_reply_due_at: dt.datetime | None = None
    new_reply_due_at: dt.datetime | None = None

    @property
    def changed(self) -> bool:
        return (
            self.old_due_at != self.new_due_at
            or self.old_window != self.window.days
            or self.application.window_source != self.window.source
            or self.reply_changed
        )

    @property
    def reply_changed(self) -> bool:
        return self.old_reply_due_at != self.new_reply_due_at


def recompute(
    applications: Sequence[LicenseApplication],
    *,
    now: dt.datetime,
    exclude_decisions: Sequence[int] = (),
    extra_decisions: Sequence[ExtraDecision] = (),
) -> list[Recomputed]:
    """Compute the governing window and due date of many applications with a fixed number of
    queries (items, pauses, and per authority: calendar days, rules, decisions). Nothing is
    written; the caller saves what changed.

    `extra_decisions` adds decisions with their scopes, each only where it is in force at
    `now`: an unsaved one (a preview) counts as logged last."""
    if not applications:
        return []
    ids = [a.pk for a in applications]
    items: dict[int, set[int]] = defaultdict(set)
    for app_id, item_id in LicenseApplication.items.through.objects.filter(
        licenseapplication_id__any=Ids(ids)
    ).values_list("licenseapplication_id", "controlleditem_id"):
        items[app_id].add(item_id)
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    open_pauses: dict[int, tuple[dt.datetime, str]] = {}
    from .models import ClockPause

    for app_id, requested, provided, reason in ClockPause.objects.filter(
        application_id__any=Ids(ids)
    ).values_list("application_id", "requested_at", "provided_at", "reason"):
        pauses[app_id].append((requested, provided))
        if provided is None:
            open_pauses[app_id] = (requested, reason)
    contexts: dict[int, AuthorityContext] = {}
    authorities = {
        a.pk: a for a in Authority.objects.filter(pk__in={a.authority_id for a in applications})
    }
    results = []
    for app in applications:
        ctx = contexts.get(app.authority_id)
        if ctx is None:
            ctx = contexts[app.authority_id] = authority_context(
                authorities[app.authority_id],
                now=now,
                exclude_decisions=exclude_decisions,
                extra_decisions=extra_decisions,
            )
        if app.status == Status.AMENDMENT_REQUESTED:
            window = amendment_window(ctx.authority)
        else:
            window = ctx.window_for(app, items[app.pk])
        due = due_at_for(app, window=window, pauses=pauses[app.pk], ctx=ctx)
        reply = reply_due_at_for(app, open_pause=open_pauses.get(app.pk), ctx=ctx)
        results.append(
            Recomputed(
                application=app,
                old_due_at=app.due_at,
                new_due_at=due,
                old_window=app.window_days,
                window=window,
                old_reply_due_at=app.reply_due_at,
                new_reply_due_at=reply,
            )
        )
    return results
