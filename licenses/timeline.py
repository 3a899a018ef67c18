"""The timeline of an application or a shipment: its events described for people, and the
labels of the codes they carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .events import KINDS, Describer, describe
from .models import Event, EventKind, Status

# The states of a fast-track decision (`licenses.fasttrack.decision_state`), for people.
DECISION_STATES = {
    "scheduled": gettext_lazy("scheduled"),
    "applying": gettext_lazy("being applied"),
    "in force": gettext_lazy("in force"),
    "ended": gettext_lazy("ended"),
    "revoked": gettext_lazy("revoked"),
    "removing": gettext_lazy("being removed"),
}


def local_day_ending(moment: dt.datetime | None, authority: Any) -> dt.date | None:
    """The day, in the authority's time zone, whose end is `moment` (a due date as the
    authority states it)."""
    if moment is None:
        return None
    return (moment.astimezone(authority.tz) - dt.timedelta(microseconds=1)).date()


def local_due_date(application: Any) -> dt.date | None:
    """The due date as the authority states it: the day, in its time zone, whose end is
    `due_at`."""
    return local_day_ending(application.due_at, application.authority)


def local_reply_due_date(application: Any) -> dt.date | None:
    """The day the reply to a request for information is due, in the authority's time zone
    (the day whose end is `reply_due_at`)."""
    return local_day_ending(application.reply_due_at, application.authority)


MOVE_LABELS = {
    "submit": pgettext_lazy("timeline", "Submitted"),
    "accept": gettext_lazy("Accepted by the authority"),
    "request_info": gettext_lazy("Information requested"),
    "provide_info": gettext_lazy("Information provided"),
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "withdraw": gettext_lazy("Withdrawn"),
    "refer": gettext_lazy("Referred"),
    "return": gettext_lazy("Returned without action"),
    "resubmit": gettext_lazy("Resubmitted: the clock starts again"),
    "expire": gettext_lazy("Expired"),
    "exhaust": gettext_lazy("Fully drawn down"),
    "replenish": gettext_lazy("Drawdown released: approved again"),
    "suspend": gettext_lazy("License suspended"),
    "reinstate": gettext_lazy("License reinstated"),
    "revoke": gettext_lazy("License revoked"),
    "surrender": gettext_lazy("License surrendered"),
    "amend": gettext_lazy("Amendment requested"),
    "approve_amendment": gettext_lazy("Amendment approved"),
    "refuse_amendment": gettext_lazy("Amendment refused"),
    "ship": gettext_lazy("Shipped"),
    "deliver": gettext_lazy("Delivered"),
    "hold": gettext_lazy("Put on hold"),
    "release": gettext_lazy("Released from hold"),
    "cancel": gettext_lazy("Cancelled"),
    "follow": gettext_lazy("Followed its application"),
    "requirement": gettext_lazy("License requirement changed"),
}


# Labels of the codes events carry (states, "flag:<kind>"), by the side of the timeline they
# appear on. The apps above this one register theirs when they are ready (shipments their
# states, monitoring its flag kinds): this app never looks them up.
_LABELS: dict[str, dict[str, Any]] = {"application": {}, "shipment": {}}


def register_labels(
    labels: Mapping[str, Any], *, sides: Iterable[str] = ("application", "shipment")
) -> None:
    """Make `labels` (code -> label, lazily translated or not) known to the timeline."""
    for side in sides:
        _LABELS[side].update(labels)


def _status_labels() -> tuple[dict[str, str], dict[str, str]]:
    application = {str(k): str(v) for k, v in Status.choices}
    return (
        application | {k: str(v) for k, v in _LABELS["application"].items()},
        {k: str(v) for k, v in _LABELS["shipment"].items()},
    )


def window_source_label(source: str | None) -> str:
    """Where a review window comes from, for people: the stored code is "default",
    "rule:<id>" or "decision:<id>"."""
    if not source:
        return ""
    kind, _sep, ident = source.partition(":")
    if kind == "default":
        return _("the authority's default")
    if kind == "rule":
        return _("review-window rule %(id)s") % {"id": ident}
    if kind == "decision":
        return _("fast-track decision %(id)s") % {"id": ident}
    if kind == "amendment":
        return _("the authority's amendment window")
    return source


@dataclass
class TimelineEntry:
    event: Event
    title: str
    details: list[str] = field(default_factory=list)
    is_correction: bool = False
    corrected_by: list[Event] = field(default_factory=list)
    shipment_reference: str = ""

    @property
    def anchor(self) -> str:
        return f"event-{self.event.pk}"

    @property
    def recorded_later(self) -> bool:
        return abs((self.event.recorded_at - self.event.occurred_at).total_seconds()) > 60


def timeline(events: Iterable[Event], *, window_unit: str = "") -> list[TimelineEntry]:
    """Describe events for people, in the order they happened: what happened, when, recorded
    when and by whom, and which corrections point at which move. `window_unit` names the
    unit review windows count in."""
    app_labels, ship_labels = _status_labels()
    # In the order things happened (ties: the order they were recorded), whatever order the
    # caller read them in. The record's creation sits at its own moment, as "Recorded in the
    # tracker", after any move that was dated before it.
    rows = sorted(events, key=lambda e: (e.occurred_at, e.pk or 0))
    corrections: dict[int, list[Event]] = {}
    for e in rows:
        if e.corrects_id:
            corrections.setdefault(e.corrects_id, []).append(e)

    def move_label(move: str) -> str | None:
        return str(MOVE_LABELS[move]) if move in MOVE_LABELS else None

    describers = {
        side: Describer(
            label=lambda code, labels=labels: labels.get(code, code),  # type: ignore[misc]
            move=move_label,
            window_source=window_source_label,
            window_unit=window_unit,
        )
        for side, labels in (("application", app_labels), ("shipment", ship_labels))
    }
    entries = []
    for e in rows:
        definition = KINDS.get(e.kind)
        application_side = definition is not None and definition.application_labels
        side = "shipment" if e.shipment_id and not application_side else "application"
        title = capfirst(str(EventKind(e.kind).label) if e.kind in EventKind.values else e.kind)
        described_title, details = describe(e.kind, e.data, e, describers[side])
        entry = TimelineEntry(
            event=e,
            title=described_title or title,
            details=details,
            is_correction=e.kind == EventKind.CORRECTION,
        )
        entry.corrected_by = corrections.get(e.pk, [])
        entries.append(entry)
    return entries


# --- uploads -----------------------------------------------------------------------------------
