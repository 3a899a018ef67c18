"""What the web pages of both apps share: access checks, lists (filters, sorting, pagination,
CSV export), mapping domain errors onto forms, and the timeline.

Views stay thin: they read through the selectors, write through the services, and use these
helpers for the page mechanics. Nothing here decides a business rule.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View

from .errors import DomainError
from .models import Event, EventKind, Status

DATETIME_FORMAT = "Y-m-d H:i T"

# The states of a fast-track decision (`licenses.fasttrack.decision_state`), for people.
DECISION_STATES = {
    "scheduled": gettext_lazy("scheduled"),
    "applying": gettext_lazy("being applied"),
    "in force": gettext_lazy("in force"),
    "ended": gettext_lazy("ended"),
    "revoked": gettext_lazy("revoked"),
    "removing": gettext_lazy("being removed"),
}
DATE_FORMAT = "Y-m-d"


# --- access ------------------------------------------------------------------------------------


class Page(PermissionRequiredMixin, View):
    """A page that needs a permission. Anonymous visitors are sent to sign in and then back;
    a signed-in user without the permission gets 403 (see AccessMixin.handle_no_permission).
    Objects a user may not see are looked up through the selectors and so answer 404."""

    permission_required: str | Sequence[str] = ()


# --- dates -------------------------------------------------------------------------------------


def show_datetime(value: dt.datetime | str | None) -> str:
    """A moment in the current (the user's) time zone, e.g. "2026-11-20 10:00 CST"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, DATETIME_FORMAT)


def show_date(value: dt.date | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = dt.date.fromisoformat(text[:10])
        except ValueError:
            return text
    return formats.date_format(value, DATE_FORMAT)


def local_due_date(application: Any) -> dt.date | None:
    """The due date as the authority states it: the day, in its time zone, whose end is
    `due_at`."""
    if application.due_at is None:
        return None
    local = application.due_at.astimezone(application.authority.tz)
    return (local - dt.timedelta(microseconds=1)).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of a day in the current (the user's) time zone."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


# --- forms -------------------------------------------------------------------------------------


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input read in the user's time zone (the one the middleware made
    current); its value is shown the same way."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"
    )
    input_formats = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def local_now_input() -> str:
    """Now, as a datetime-local value in the user's time zone, to the second (so that a move
    made right after another is not dated before it)."""
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S")


def add_errors(
    form: forms.BaseForm, exc: DomainError | ValidationError, *, summary: bool = True
) -> None:
    """Put a refusal on the form: each named field gets its message, and whatever names no
    field of the form becomes a form-wide error. The refusal's own message is added as a
    form-wide error too unless `summary` is False (the page shows it as a message instead).
    Nothing was changed by the refused write."""
    if isinstance(exc, DomainError):
        placed = False
        for name, message in exc.fields.items():
            if name in form.fields and not form.fields[name].disabled:
                form.add_error(name, message)
                placed = True
            else:
                form.add_error(None, f"{name}: {message}")
        if summary and (not placed or not exc.fields):
            form.add_error(None, exc.message)
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields and not form.fields[name].disabled else None
            for error in errors:
                for message in error.messages:
                    if target is None and name != "__all__":
                        form.add_error(None, f"{form_label(form, name)}: {message}")
                    else:
                        form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A form's model choice field, typed (to set its queryset from a selector)."""
    field_ = form.fields[name]
    assert isinstance(field_, forms.ModelChoiceField)
    return field_


def form_label(form: forms.BaseForm, name: str) -> str:
    field_ = form.fields.get(name)
    return str(field_.label) if field_ is not None and field_.label else name


def upper(value: str | None) -> str:
    return (value or "").strip().upper()


# --- lists -------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Stream rows as CSV (UTF-8 with a BOM so spreadsheets read non-ASCII names)."""
    writer = csv.writer(_Echo())
    tz = timezone.get_current_timezone()

    def lines() -> Iterator[str]:
        # The response is consumed after the view returns: keep the user's time zone.
        with timezone.override(tz):
            yield "\ufeff"
            yield writer.writerow([safe_cell(h) for h in header])
            for row in rows:
                yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@dataclass(frozen=True)
class Column:
    """A CSV column: its header and how to read it from a row."""

    header: Any
    value: Callable[[Any], Any]


class ListPage(Page):
    """A filtered, searchable, sortable, paginated list whose CSV export is exactly the
    filtered rows, in the same order (`as_view(export=True)`)."""

    template_name = ""
    filterset_class: Any = None
    sorts: dict[str, tuple[str, ...]] = {}
    default_sort = ""
    paginate_by = 50
    csv_filename = "export.csv"
    csv_columns: Sequence[Column] = ()
    export = False

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def for_display(self, qs: QuerySet) -> QuerySet:
        """Related rows every displayed (or exported) row needs: prefetches."""
        return qs

    def extra_context(self) -> dict[str, Any]:
        return {}

    def sort_key(self) -> str:
        wanted = self.request.GET.get("sort") or self.default_sort
        return wanted if wanted.lstrip("-") in self.sorts else self.default_sort

    def filtered(self) -> tuple[Any, QuerySet, str]:
        params = self.request.GET.copy()
        for name in ("page", "sort"):
            params.pop(name, None)
        filterset = self.filterset_class(
            params or None, queryset=self.base_queryset(), request=self.request
        )
        qs = filterset.qs if filterset.form.is_valid() or not filterset.is_bound else None
        if qs is None:
            qs = filterset.queryset.none()
        sort = self.sort_key()
        descending = sort.startswith("-")
        order = [
            F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
            for name in self.sorts[sort.lstrip("-")]
        ]
        return filterset, qs.order_by(*order, "-pk" if descending else "pk"), sort

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        filterset, qs, sort = self.filtered()
        qs = self.for_display(qs)
        if self.export:
            rows = (
                [column.value(obj) for column in self.csv_columns]
                for obj in qs.iterator(chunk_size=500)
            )
            return stream_csv(self.csv_filename, [str(c.header) for c in self.csv_columns], rows)
        page = Paginator(qs, self.paginate_by).get_page(request.GET.get("page"))
        context = {
            "filter": filterset,
            "page_obj": page,
            "rows": page.object_list,
            "sort": sort,
            "filtered": bool(filterset.is_bound),
            **self.extra_context(),
        }
        return render(request, self.template_name, context)


# --- the timeline ------------------------------------------------------------------------------

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


def _status_labels() -> tuple[dict[str, str], dict[str, str]]:
    shipment_model = apps.get_model("shipments", "Shipment")
    shipment_choices = shipment_model._meta.get_field("status").choices or []
    flag_model = apps.get_model("shipments", "Flag")
    flags = {"flag:" + str(k): str(v) for k, v in flag_model._meta.get_field("kind").choices or []}
    return (
        {str(k): str(v) for k, v in Status.choices} | flags,
        {str(k): str(v) for k, v in shipment_choices} | flags,
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


class SizeLimitUploadHandler(FileUploadHandler):
    """Put first in `request.upload_handlers`: a file that grows past `limit` bytes is skipped
    as it arrives (the rest of it is read and dropped, never stored in memory or on disk), and
    its field name is kept in `too_large` so the page can say why it is missing."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large: set[str] = set()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.too_large.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_uploads(request: HttpRequest, limit: int) -> SizeLimitUploadHandler:
    """Install a size limit ahead of Django's own upload handlers (before the body is read)."""
    handler = SizeLimitUploadHandler(request, limit)
    request.upload_handlers = [handler, *request.upload_handlers]
    return handler


def megabytes(size: int) -> str:
    """A limit for people: 10 MB, 1.5 MB, 512 KB."""
    if size >= 1024 * 1024:
        mb = size / (1024 * 1024)
        shown = int(mb) if mb.is_integer() else round(mb, 1)
        return _("%(n)s MB") % {"n": formats.number_format(shown)}
    return _("%(n)s KB") % {"n": formats.number_format(max(size // 1024, 1))}
