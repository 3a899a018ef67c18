"""Free-text search shared by a list's page (`?q=`) and its API (`?search=`): the text is split
into terms (at spaces and commas; "quoted phrases" kept whole) and every term must match.
What a term matches is one function per list (term → Q), so that the page and the API agree.
Matching is case-insensitive (`icontains`); a term that matches through a to-many relation is
written as an `Exists` subquery, so that a row is never listed twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Q
from rest_framework.filters import search_smart_split

TermCondition = Callable[[str], Q]


def terms(text: str) -> list[str]:
    # (Its stubs say it takes a list; it takes the query parameter's text.)
    return [term for term in search_smart_split(text or "") if term]  # type: ignore[arg-type]


def matching(text: str, condition: TermCondition) -> Q:
    """All the terms of `text` match (`Q()` when there are none)."""
    return every(terms(text), condition)


def every(search_terms: Iterable[str], condition: TermCondition) -> Q:
    result = Q()
    for term in search_terms:
        result &= condition(term)
    return result
