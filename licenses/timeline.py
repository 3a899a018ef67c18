"""The timeline of an application or a shipment: its events described for people, and the
labels of the codes they carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.web import show_date, show_datetime

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


def local_due_date(application: Any) -> dt.date | None:
    """The due date as the authority states it: the day, in its time zone, whose end is
    `due_at`."""
    if application.due_at is None:
        return None
    local = application.due_at.astimezone(application.authority.tz)
    return (local - dt.timedelta(microseconds=1)).date()


MOVE_LABELS = {
    "submit": pgettext_lazy("timeline", "Submitted"),
    "accept": gettext_lazy("Accepted by the authority"),
    "request_info": gettext_lazy("Information requested"),
    "provide_info": gettext_lazy("Information provided"),
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "withdraw": gettext_lazy("Withdrawn"),
    "expire": gettext_lazy("Expired"),
    "exhaust": gettext_lazy("Fully drawn down"),
    "replenish": gettext_lazy("Drawdown released: approved again"),
    "ship": gettext_lazy("Shipped"),
    "deliver": gettext_lazy("Delivered"),
    "hold": gettext_lazy("Put on hold"),
    "release": gettext_lazy("Released from hold"),
    "cancel": gettext_lazy("Cancelled"),
    "follow": gettext_lazy("Followed its application"),
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


def _amount(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return formats.number_format(Decimal(str(value)), use_l10n=True, force_grouping=True)
    except ArithmeticError:
        return str(value)


def timeline(events: Iterable[Event], *, window_unit: str = "") -> list[TimelineEntry]:
    """Describe events for people: what happened, when, recorded when and by whom, and which
    corrections point at which move. `window_unit` names the unit review windows count in."""
    app_labels, ship_labels = _status_labels()
    rows = list(events)
    corrections: dict[int, list[Event]] = {}
    for e in rows:
        if e.corrects_id:
            corrections.setdefault(e.corrects_id, []).append(e)
    entries = []
    for e in rows:
        shipment_side = e.shipment_id and not _is_application_status_event(e)
        labels = ship_labels if shipment_side else app_labels
        title = capfirst(str(EventKind(e.kind).label) if e.kind in EventKind.values else e.kind)
        entry = TimelineEntry(event=e, title=title)
        entry.corrected_by = corrections.get(e.pk, [])
        _describe(entry, e, labels, window_unit)
        entries.append(entry)
    return entries


def _is_application_status_event(e: Event) -> bool:
    return e.kind in (EventKind.DRAWDOWN, EventKind.DRAWDOWN_RELEASED)


def _describe(entry: TimelineEntry, e: Event, labels: dict[str, str], window_unit: str) -> None:
    data = e.data or {}
    details = entry.details

    def status(code: str) -> str:
        return labels.get(code, code)

    if e.kind == EventKind.STATUS_CHANGED:
        move = data.get("move", "")
        entry.title = str(MOVE_LABELS.get(move, entry.title))
        details.append(
            _("Status: %(from)s → %(to)s")
            % {"from": status(e.from_status), "to": status(e.to_status)}
        )
        changes = data.get("changes") or {}
        if changes.get("license_number"):
            details.append(_("License number: %(n)s") % {"n": changes["license_number"][1]})
        if changes.get("valid_until"):
            details.append(_("Valid until: %(d)s") % {"d": show_date(changes["valid_until"][1])})
        if changes.get("authority_reference"):
            details.append(
                _("Authority's case number: %(n)s") % {"n": changes["authority_reference"][1]}
            )
        if changes.get("rejection_reason"):
            details.append(_("Reason: %(r)s") % {"r": changes["rejection_reason"][1]})
        if move == "follow" and data.get("correction"):
            details.append(_("Its application's latest move was corrected."))
    elif e.kind == EventKind.CREATED:
        details.append(_("Status: %(s)s") % {"s": status(e.to_status)})
    elif e.kind == EventKind.EDITED:
        for name, change in (data.get("edited") or {}).items():
            if isinstance(change, list) and len(change) == 2:
                details.append(
                    _("%(field)s: %(old)s → %(new)s")
                    % {"field": name, "old": change[0], "new": change[1]}
                )
            else:
                details.append(_("%(field)s: %(new)s") % {"field": name, "new": change})
    elif e.kind in (
        EventKind.DUE_DATE_CHANGED,
        EventKind.FAST_TRACK_APPLIED,
        EventKind.FAST_TRACK_REMOVED,
    ):
        details.append(
            _("Due: %(old)s → %(new)s")
            % {
                "old": show_datetime(data.get("from")) or _("none"),
                "new": show_datetime(data.get("to")) or _("none (clock stopped or closed)"),
            }
        )
        if data.get("window_days"):
            details.append(
                _("Window: %(days)s %(unit)s (%(source)s)")
                % {
                    "days": data["window_days"],
                    "unit": window_unit or _("days"),
                    "source": window_source_label(data.get("source", "")),
                }
            )
    elif e.kind in (EventKind.FLAG_RAISED, EventKind.FLAG_CLEARED):
        kind = data.get("kind") or data.get("flag") or ""
        if kind:
            details.append(_("Flag: %(kind)s") % {"kind": labels.get("flag:" + kind, kind)})
    elif e.kind in (EventKind.DRAWDOWN, EventKind.DRAWDOWN_RELEASED):
        details.append(
            _("%(q)s %(unit)s, %(v)s %(cur)s; drawn now %(dq)s %(unit)s, %(dv)s %(cur)s")
            % {
                "q": _amount(data.get("quantity")),
                "unit": data.get("unit", ""),
                "v": _amount(data.get("value")),
                "cur": data.get("currency", ""),
                "dq": _amount(data.get("drawn_quantity")),
                "dv": _amount(data.get("drawn_value")),
            }
        )
    elif e.kind == EventKind.ASSIGNED:
        details.append(
            _("Status: %(from)s → %(to)s")
            % {"from": status(e.from_status), "to": status(e.to_status)}
        )
    elif e.kind == EventKind.CORRECTION:
        entry.is_correction = True
        move = data.get("move", "")
        move_label = str(MOVE_LABELS.get(move, move))
        if data.get("action") == "undo":
            entry.title = _("Correction: “%(move)s” undone") % {"move": move_label}
            details.append(
                _("Status back: %(from)s → %(to)s")
                % {"from": status(e.from_status), "to": status(e.to_status)}
            )
        else:
            entry.title = _("Correction: “%(move)s” re-dated") % {"move": move_label}
            details.append(
                _("From %(old)s to %(new)s")
                % {"old": show_datetime(data.get("from")), "new": show_datetime(data.get("to"))}
            )


# --- uploads -----------------------------------------------------------------------------------
