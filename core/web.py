"""What the web pages of every app share: access checks, lists (filters, sorting, pagination,
CSV export), mapping domain errors onto forms, and the mechanics of pages.

Views stay thin: they read through the selectors, write through the services, and use these
helpers for the page mechanics. Nothing here decides a business rule.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.forms.renderers import Jinja2 as Jinja2Renderer
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views import View
from markupsafe import escape

from core.errors import DomainError
from core.words import moment_short

DATE_FORMAT = "Y-m-d"


# --- access ------------------------------------------------------------------------------------


class Page(PermissionRequiredMixin, View):
    """A page that needs a permission. Anonymous visitors are sent to sign in and then back;
    a signed-in user without the permission gets 403 (see AccessMixin.handle_no_permission).
    Objects a user may not see are looked up through the selectors and so answer 404."""

    permission_required: str | Sequence[str] = ()


# --- dates -------------------------------------------------------------------------------------


def show_datetime(value: dt.datetime | str | None) -> str:
    """A moment in the current (the user's) time zone, with its UTC offset, e.g.
    "2026-11-20 10:00 UTC+08:00" (not "CST": China, or the central United States?)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    return moment_short(value)


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


SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _html_attrs(attrs: dict[str, Any]) -> str:
    """A widget's attributes as Django's Jinja2 `attrs.html` writes them: ` name="value"`,
    ` name` alone for True, nothing for False."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def select_markup(widget: dict[str, Any]) -> str | None:
    """A `<select>` (single or multiple) from its widget context, character for character what
    Django's Jinja2 templates `select.html` and `select_option.html` write (escaped the same
    way, by markupsafe); None when an option has a template of its own."""
    out = [f'<select name="{escape(widget["name"])}"{_html_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{escape(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            out.append(
                f'\n  <option value="{escape(option["value"])}"{_html_attrs(option["attrs"])}>'
                f"{escape(option['label'])}</option>"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


class FilterRenderer(Jinja2Renderer):
    """Django's Jinja2 form renderer, with its selects drawn in Python (`select_markup`): a
    list's filters hold about 500 options (every country, every exporter), which a template
    draws with an include each, about 7 ms of a list page; the same markup in Python costs a
    tenth of that."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT_TEMPLATE:
            markup = select_markup(context["widget"])
            if markup is not None:
                return markup
        return super().render(template_name, context, request)


class FilterForm(forms.Form):
    """The form of a list page's filters (each web `FilterSet`'s `Meta.form`). Its widgets are
    drawn by Django's Jinja2 templates of them, the same markup, and its selects in Python
    (`FilterRenderer`): the default renderer draws each option with a template include, a fifth
    of the page's time. (The site keeps the default renderer elsewhere: the admin's widgets
    have no Jinja2 templates.)"""

    default_renderer = FilterRenderer()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def local_now_input() -> str:
    """Now, as a datetime-local value in the user's time zone, to the second (so that a move
    made right after another is not dated before it)."""
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M:%S")


def add_errors(form: forms.BaseForm, exc: DomainError, *, summary: bool = True) -> None:
    """Put a refusal on the form, each message once: each named field of the form gets its
    message; a named field the form does not show (or shows disabled) becomes a form-wide
    error naming its label; a refusal that names no field becomes a form-wide error (unless
    `summary` is False: the page shows it otherwise). Nothing was changed by the refused
    write."""
    for name, message in exc.fields.items():
        if name in form.fields and not form.fields[name].disabled:
            form.add_error(name, message)
        else:
            form.add_error(None, f"{form_label(form, name)}: {message}")
    if summary and not exc.fields:
        form.add_error(None, exc.message)


DASHES = "---------"


def label_empty_choices(form: forms.BaseForm) -> None:
    """Give every select's empty choice words instead of Django's "---------": "— choose —"
    where a choice is required, "None" where it may stay empty."""
    for field_ in form.fields.values():
        empty = _("— choose —") if field_.required else _("None")
        if isinstance(field_, forms.ModelMultipleChoiceField):
            continue
        if isinstance(field_, forms.ModelChoiceField):
            if field_.empty_label is not None:
                field_.empty_label = empty
        elif isinstance(field_, forms.ChoiceField) and isinstance(field_.choices, list):
            field_.choices = [
                (value, empty if value == "" and str(label) == DASHES else label)
                for value, label in field_.choices
            ]


class EmptyChoiceLabels:
    """A form mixin (first in the bases): `label_empty_choices` once the fields exist."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self, forms.BaseForm)
        label_empty_choices(self)


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


# --- pages that write through a service ---------------------------------------------------


class ServiceFormPage(Page):
    """A create or edit page: GET renders the form (of `form_class`, in `template_name`); POST
    validates it, calls `service` with `now`, `actor` and the form's data (and, to edit, the
    object as `object_arg`), puts a refusal on the form, or redirects to the object's
    `detail_url` with `success_message`.

    The page edits when its URL names a `pk`: the object comes from `get_object` (a selector,
    so what the user may not see answers 404). The form validates its own copy of the object;
    the service is given the stored one, to compare against."""

    form_class: Any = None
    template_name = "form_page.html"
    service: Callable[..., Any]
    object_arg = ""
    form_takes_user = False
    title: Any = ""  # formatted with {"name": obj, "ref": obj} when editing
    success_message: Any = ""  # likewise, with the saved object
    detail_url = ""  # a URL name taking the object's pk

    def get_object(self, pk: int) -> Any:
        raise NotImplementedError

    def get_form(self, data: Any = None, obj: Any = None, **kwargs: Any) -> Any:
        if self.form_takes_user:
            kwargs["user"] = self.request.user
        if obj is not None:
            kwargs["instance"] = obj
        return self.form_class(data, **kwargs)

    def initial(self) -> dict[str, Any]:
        return {}

    def service_kwargs(self, form: Any) -> dict[str, Any]:
        return dict(form.cleaned_data)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = None if pk is None else self.get_object(pk)
        return self.page(self.get_form(obj=obj, initial=self.initial()), obj)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = None if pk is None else self.get_object(pk)
        form = self.get_form(request.POST, None if pk is None else self.get_object(pk))
        if form.is_valid():
            kwargs = self.service_kwargs(form)
            if obj is not None:
                kwargs[self.object_arg] = obj
            try:
                saved = type(self).service(now=timezone.now(), actor=request.user, **kwargs)
            except DomainError as exc:
                add_errors(form, exc)
            else:
                saved = saved if obj is None else obj
                messages.success(request, self.success_message % _names(saved))
                return redirect(self.detail_url, pk=saved.pk)
        return self.page(form, obj)

    def page(self, form: Any, obj: Any) -> HttpResponse:
        if obj is None:
            return render(self.request, self.template_name, {"form": form, "title": self.title})
        context = {
            "form": form,
            "title": self.title % _names(obj),
            "cancel_url": reverse(self.detail_url, args=[obj.pk]),
        }
        return render(self.request, self.template_name, context)


def _names(obj: Any) -> dict[str, Any]:
    return {"name": obj, "ref": obj}


class MovePage(Page):
    """A page that moves an object (or corrects its latest move) through a service: GET shows
    the form (or, for a move not legal now, goes back to the object with a message); POST
    validates the form, calls the service with the object (as `object_arg`), `now`, `actor`
    and the form's `service_kwargs()`, and redirects with a message, or shows the refusal as
    a message and on the form's fields.

    The URL names the object's `pk` and, for a move, the `move`; subclasses say what the move
    is called (`move_name`), whether it is legal, its form, its service and what to show."""

    template_name = ""
    object_arg = ""
    detail_url = ""  # a URL name taking the object's pk

    def get_object(self, pk: int) -> Any:
        raise NotImplementedError

    def move_name(self, move: str | None) -> str | None:
        return move

    def is_legal(self, obj: Any, name: str | None) -> bool:
        return True

    def illegal_message(self, obj: Any, name: str | None) -> str:
        raise NotImplementedError

    def get_form(self, obj: Any, name: str | None, data: Any = None) -> Any:
        raise NotImplementedError

    def service(self, name: str | None) -> Callable[..., Any]:
        raise NotImplementedError

    def success_message(self, obj: Any, name: str | None) -> str:
        raise NotImplementedError

    def context(self, obj: Any, name: str | None) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int, move: str | None = None) -> HttpResponse:
        obj, name = self.get_object(pk), self.move_name(move)
        if not self.is_legal(obj, name):
            messages.error(request, self.illegal_message(obj, name))
            return redirect(self.detail_url, pk=obj.pk)
        return self.page(obj, name, self.get_form(obj, name))

    def post(self, request: HttpRequest, pk: int, move: str | None = None) -> HttpResponse:
        obj, name = self.get_object(pk), self.move_name(move)
        form = self.get_form(obj, name, request.POST)
        if form.is_valid():
            try:
                self.service(name)(
                    **{self.object_arg: obj},
                    now=timezone.now(),
                    actor=request.user,
                    **form.service_kwargs(),
                )
            except DomainError as exc:
                # Once, where it belongs: on its fields, or above them when it names none.
                add_errors(form, exc)
            else:
                messages.success(request, self.success_message(obj, name))
                return redirect(self.detail_url, pk=obj.pk)
        return self.page(obj, name, form)

    def page(self, obj: Any, name: str | None, form: Any) -> HttpResponse:
        context = {self.object_arg: obj, "form": form, **self.context(obj, name)}
        return render(self.request, self.template_name, context)


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


class KnownCountPaginator(Paginator):
    """A paginator told its number of rows (`count`) when a summary knows it, so that a page
    of a million-row list does not count the table; without it, it counts as usual."""

    def __init__(self, *args: Any, count: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if count is not None:
            self.__dict__["count"] = count  # the cached property's value


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

    def known_count(self, params: dict[str, str]) -> int | None:
        """How many rows the list has with these filters (the query string less page and sort),
        when a summary knows it without counting the table; None: count them."""
        return None

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
        self.ignored_filters: list[str] = []
        if filterset.is_bound and not filterset.form.is_valid():
            # A bad value in the URL (typed, or an old bookmark) does not empty the list: that
            # filter is ignored, named above the list, and its field says what is wrong.
            bad = [name for name in filterset.form.errors if name in filterset.form.fields]
            self.ignored_filters = [
                _("%(filter)s (“%(value)s”)")
                % {"filter": form_label(filterset.form, name), "value": params.get(name, "")}
                for name in bad
            ]
            kept = params.copy()
            for name in bad:
                kept.pop(name, None)
            applied = self.filterset_class(
                kept or None, queryset=self.base_queryset(), request=self.request
            )
            qs = applied.qs if not applied.is_bound or applied.form.is_valid() else None
        else:
            qs = filterset.qs
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
        given = {
            k: [v for v in vs if v] for k, vs in request.GET.lists() if k not in ("page", "sort")
        }
        given = {k: vs for k, vs in given.items() if vs}
        params = {k: vs[0] for k, vs in given.items() if len(vs) == 1}
        plain = not self.ignored_filters and len(params) == len(given)  # one value each
        known = self.known_count(params) if plain else None
        page = KnownCountPaginator(qs, self.paginate_by, count=known).get_page(
            request.GET.get("page")
        )
        context = {
            "filter": filterset,
            "page_obj": page,
            "rows": page.object_list,
            "sort": sort,
            "filtered": bool(filterset.is_bound),
            "ignored_filters": self.ignored_filters,
            **self.extra_context(),
        }
        return render(request, self.template_name, context)


# --- the timeline ------------------------------------------------------------------------------


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


def css_token(value: Any) -> str:
    """A code as a CSS class fragment: `due_soon` → `due-soon` (a filter of both template
    languages)."""
    return str(value).replace("_", "-")


# A number no primary key reaches, reversed in its place (`pk_url`).
_PK_STAND_IN = 9_876_543_210_123


@lru_cache(maxsize=256)
def _pk_route(name: str, prefix: str, urlconf: Any) -> tuple[str, str]:
    head, found, tail = reverse(name, args=[_PK_STAND_IN]).partition(str(_PK_STAND_IN))
    if not found or reverse(name, args=[7]) != f"{head}7{tail}":
        raise ValueError(f"the route {name!r} does not take a primary key as it is")
    return head, tail


def pk_url(name: str, pk: int) -> str:
    """`reverse(name, args=[pk])` for a route whose one argument is a primary key, without
    resolving the route each time: a page of a list or the dashboard links hundreds of rows.
    The route is reversed once (per script prefix and URLconf) with a stand-in number, whose
    place then takes each key."""
    head, tail = _pk_route(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"
