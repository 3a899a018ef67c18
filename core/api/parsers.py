"""JSON only, and no NUL characters anywhere in it: PostgreSQL cannot store them and no
field of ours has a use for one."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

NUL = "\x00"


def find_nul(value: Any, path: str = "") -> str | None:
    """The top-level key (or `body`) under which a NUL character hides, else None."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, inner in value.items():
            where = path or str(key).replace(NUL, "")
            if NUL in str(key) or find_nul(inner, where):
                return where or "body"
        return None
    if isinstance(value, list):
        for inner in value:
            found = find_nul(inner, path)
            if found:
                return found
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON nested too deeply.")) from exc
        where = find_nul(data)
        if where:
            raise exceptions.ValidationError({where: _("NUL characters are not allowed.")})
        return data
