"""The Jinja2 environment of page fragments (`fragments/`, included by `{% fragment %}`).

Django's template language resolves every `{{ a.b.c }}` through a chain of lookups (a dict
key, an attribute, a call, a list index) and localises each value it prints: a few
microseconds that a dashboard pays about two thousand times, for its table rows and charts.
Those parts are drawn by Jinja2, which compiles a template to Python, and print as the pages
around them do:

- every value is escaped by Django's own `conditional_escape` (`finalize`), so the markup is
  the same character for character, and a value already marked safe is printed as it is;
- a name or attribute that does not exist is an error (`StrictUndefined`), not an empty
  string: a fragment says what it does with an empty value (`x.isoformat() if x else "—"`);
- a fragment holds no text to translate: its words come with its values, translated where
  `makemessages` finds them (the including template, or Python).
"""

from __future__ import annotations

from typing import Any

import jinja2
from django.utils.html import conditional_escape

from .web import css_token


def environment(**options: Any) -> jinja2.Environment:
    options.update(undefined=jinja2.StrictUndefined, finalize=conditional_escape)
    env = jinja2.Environment(**options)
    env.filters["css_token"] = css_token
    return env
