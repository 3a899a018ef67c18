"""The Jinja2 environment of page fragments (`fragments/`, included by `{% fragment %}`).

Django's template language resolves every `{{ a.b.c }}` through a chain of lookups (a dict
key, an attribute, a call, a list index) and localises each value it prints: a few
microseconds that a dashboard or a list pays thousands of times, for its table rows and
charts. Those parts are drawn by Jinja2, which compiles a template to Python, and print as the
pages around them do:

- every value is escaped by Django's own `conditional_escape` (`finalize`), so the markup is
  the same character for character, and a value already marked safe is printed as it is;
- a name or attribute that does not exist is an error (`StrictUndefined`), not an empty
  string: a fragment says what it does with an empty value (`x.isoformat() if x else "—"`);
- the filters are Django's own: `date` (a day as "Y-m-d" written directly, the same
  characters) and `floatformat`, and those of the template tag
  libraries named in the engine's `filter_libraries` option (the pages' own, `web_tags`);
  `url(name, *args)` is `reverse` (`core.web.pk_url` for one whole number), and
  `label(obj, "status")` is `obj.get_status_display()` (without translating every label);
- a fragment holds no text to translate: its words come with its values, translated where
  `makemessages` finds them (the including template, or Python).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from importlib import import_module
from typing import Any

import jinja2
from django.template import defaultfilters
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from .web import pk_url


def _date(value: Any, arg: str | None = None) -> str:
    """Django's `date` filter. A day as "Y-m-d" (a list's rows print hundreds of them) is
    written directly: the same characters, as Django's formatter writes a date's or a
    datetime's own fields without converting it to another time zone."""
    if arg == "Y-m-d" and isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return defaultfilters.date(value, arg)


def _finalize(value: Any) -> Any:
    """How a fragment prints a value: Django's `conditional_escape`. A plain string (most of
    what a row prints) goes straight to the escaping Django's `escape` does, without its
    check for lazy arguments, which cost more than the escaping (marked safe, as Django's
    is, so that Jinja2's own autoescaping leaves it); a number (a chart prints hundreds of
    coordinates) has no character to escape."""
    if type(value) is str:
        return SafeString(html.escape(value))
    if type(value) is int or type(value) is float:  # a chart's coordinates: nothing to escape
        return SafeString(value)
    return conditional_escape(value)


@functools.cache
def _choices(model: Any, name: str) -> dict[Any, Any]:
    """A field's choices by value, their labels lazy (translated when printed)."""
    return dict(model._meta.get_field(name).flatchoices)


def _label(obj: Any, name: str) -> str:
    """`obj.get_<name>_display()`, the label of the field's value in the active language.
    Django's method hashes every label of the field to look one up, translating each of
    them: seventeen translations a row for an application's status."""
    value = getattr(obj, name)
    model: Any = type(obj)
    return force_str(_choices(model, name).get(value, value), strings_only=True)


def _url(name: str, *args: Any) -> str:
    if len(args) == 1 and isinstance(args[0], int):
        return pk_url(name, args[0])  # a row's link: the route reversed once
    return reverse(name, args=args)


def environment(filter_libraries: tuple[str, ...] = (), **options: Any) -> jinja2.Environment:
    options.update(undefined=jinja2.StrictUndefined, finalize=_finalize)
    env = jinja2.Environment(**options)
    env.filters.update(date=_date, floatformat=defaultfilters.floatformat)
    for library in filter_libraries:
        env.filters.update(import_module(library).register.filters)
    env.globals.update(url=_url, label=_label)
    return env
