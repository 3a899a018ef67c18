"""Small template helpers of the web pages: accessible fields, sortable headers, navigation."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.template import engines
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.web import css_token
from core.words import moment_short

register = template.Library()


@register.filter
def with_aria(field: BoundField) -> SafeString:
    """The field's widget, described by its help text and its error messages (which
    `includes/field.html` renders with these ids), and marked invalid when it has errors."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    ids += [f"{field.auto_id}_error{n}" for n in range(1, len(field.errors) + 1)]
    attrs: dict[str, Any] = {}
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def widget_type(field: BoundField) -> str:
    return field.widget_type


@register.simple_tag(takes_context=True)
def sort_th(context: dict[str, Any], key: str, label: str, css: str = "") -> SafeString:
    """A column header that sorts the list by `key` (again: the other way round), keeping the
    filters, and says how the list is sorted now (aria-sort)."""
    request = context["request"]
    current = context.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == key:
        params["sort"], state, arrow = f"-{key}", "ascending", "▲"
    elif current == f"-{key}":
        params["sort"], state, arrow = key, "descending", "▼"
    else:
        params["sort"], state, arrow = key, "none", ""
    title = _("Sort by %(column)s") % {"column": label}
    return format_html(
        '<th scope="col" aria-sort="{}" class="{}"><a href="?{}" title="{}">{}'
        '<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        state,
        css,
        params.urlencode(),
        title,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def nav_link(context: dict[str, Any], url_name: str, label: str, *prefixes: str) -> SafeString:
    """A navigation link, marked as the current page when the page's URL name starts with
    one of `prefixes`."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = (match.url_name or "") if match else ""
    current = name == url_name or any(name.startswith(p) for p in prefixes)
    if current:
        return format_html('<a href="{}" aria-current="page">{}</a>', reverse(url_name), label)
    return format_html('<a href="{}">{}</a>', reverse(url_name), label)


register.filter("css_token", css_token)


@register.filter
def window_source(source: str | None) -> str:
    """Where a review window comes from, in words (see `licenses.timeline.window_source_label`)."""
    from licenses.timeline import window_source_label

    return window_source_label(source)


@register.filter
def due_date(application: Any) -> Any:
    """An application's due date as its authority states it (its day, in its time zone)."""
    from licenses.timeline import local_due_date

    return local_due_date(application) if application is not None else None


@register.filter
def moment(value: Any) -> str:
    """A moment in the user's time zone with its UTC offset ("2026-12-04 10:00 UTC+08:00"),
    never an ambiguous abbreviation such as "CST"."""
    return moment_short(value)


@register.simple_tag
def fragment(name: str, **values: Any) -> SafeString:
    """`{% fragment "monitoring/_work_rows.html" rows=queue.rows %}`: a part of the page drawn
    by its Jinja2 template (`fragments/`, `core.jinja2`) from the values named, for the rows and
    charts a page draws by the hundred. Its values are escaped there as here."""
    return mark_safe(engines["jinja2"].get_template(name).render(values))  # escaped there


@register.simple_tag
def mapping(**values: Any) -> dict[str, Any]:
    """`{% mapping reference=_("Reference") as labels %}`: the values named, as one mapping
    (for a fragment's cell names, translated here where `makemessages` finds them)."""
    return values
