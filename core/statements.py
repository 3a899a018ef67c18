"""Queries built and compiled once per process and shape, then run again with new values.

For the small indexed queries of a page drawn afresh (the dashboard), building a queryset and
compiling it to SQL costs Django more than PostgreSQL takes to plan and run it. `rows` builds
a query (a `values_list` queryset) once per process and *shape* (what the caller says
determines its SQL besides the values: a user's scope of exporters, a time zone), compiled
twice with two sets of stand-in values; the two compilations must give the same SQL, with
parameters that differ exactly where a stand-in's value is, else the query is refused
(`ImproperlyConfigured`: a value reaches the SQL some other way and the statement cannot be
reused). Each later call fills those places with its own values and runs the statement as
it was compiled, with the field converters Django would apply.

On databases other than PostgreSQL (SQLite, the embedded default) the query is built and run
each time: there a list of ids is written as one placeholder per id, so its SQL varies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

from .lookups import Ids


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: list[Any]
    places: dict[int, int]  # parameter index: index of the value that fills it
    converters: dict[int, Any]  # Django's field converters, by column


_MISSING: Any = object()
_KEPT = 512  # statements kept; the oldest is dropped beyond (shapes are few: one per scope)
_STATEMENTS: dict[Hashable, _Prepared | None] = {}

# Stand-ins for the kinds of value a statement is given: none of them can be a real value.
STAND_INS: dict[type, tuple[Any, Any]] = {
    dt.datetime: (
        dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
        dt.datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC),
    ),
    dt.date: (dt.date(1901, 2, 3), dt.date(1902, 3, 4)),
    Ids: (Ids([-7919, -7907]), Ids([-7901])),
}


def _param(value: Any) -> Any:
    """A value as the compiled statement carries it among its parameters."""
    if isinstance(value, Ids):  # `field__any`: one array literal (`core.lookups.AnyOf`)
        return "{" + ",".join(map(str, value.values)) + "}"
    return value


def _compile(build: Callable[..., QuerySet], values: Sequence[Any]) -> Any:
    queryset = build(*values)
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    return queryset, compiler, sql, list(params)


def rows(shape: Hashable, build: Callable[..., QuerySet], *values: Any) -> list[tuple[Any, ...]]:
    """The rows of the `values_list` queryset `build(*values)`, its SQL compiled once per
    process and `shape` (which must name everything besides `values` that the queryset's SQL
    depends on). Each value is an aware datetime, a date or an `Ids` list."""
    if connection.vendor != "postgresql":
        return [tuple(row) for row in build(*values)]
    key = (shape, tuple(type(v) for v in values))
    prepared = _STATEMENTS.get(key, _MISSING)
    if prepared is _MISSING:
        prepared = _prepare(build, [type(v) for v in values])
        _STATEMENTS[key] = prepared
        if len(_STATEMENTS) > _KEPT:
            _STATEMENTS.pop(next(iter(_STATEMENTS)), None)
    if prepared is None:  # the query can match nothing (Django raises EmptyResultSet)
        return []
    forms = [_param(v) for v in values]
    places = prepared.places
    filled = [forms[places[i]] if i in places else p for i, p in enumerate(prepared.params)]
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, filled)
        fetched: Any = cursor.fetchall()
    if prepared.converters:  # as Django's compiler applies them, with this thread's connection
        fetched = list(map(list, fetched))
        for row in fetched:
            for pos, (converters, expression) in prepared.converters.items():
                value = row[pos]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[pos] = value
    return [tuple(row) for row in fetched]


def _stand_in(kind: type, which: int, position: int) -> Any:
    """The `which`-th (0 or 1) stand-in for the value at `position`: each position its own,
    so that two values of a kind cannot be taken for one another."""
    value = STAND_INS[kind][which]
    if isinstance(value, Ids):
        return Ids(v - 100 * position for v in value.values)
    return value + dt.timedelta(days=7 * position)


def _prepare(build: Callable[..., QuerySet], kinds: list[type]) -> _Prepared | None:
    first, second = (
        [_stand_in(kind, which, position) for position, kind in enumerate(kinds)]
        for which in (0, 1)
    )
    try:
        queryset, compiler, sql, params = _compile(build, first)
        _qs, _other, other_sql, other_params = _compile(build, second)
    except EmptyResultSet:
        return None
    if sql != other_sql or len(params) != len(other_params):
        raise ImproperlyConfigured(f"the statement depends on its values: {sql}")
    first_forms, second_forms = [_param(v) for v in first], [_param(v) for v in second]
    places: dict[int, int] = {}
    for i, (a, b) in enumerate(zip(params, other_params, strict=True)):
        if a in first_forms and b == second_forms[first_forms.index(a)]:
            places[i] = first_forms.index(a)
        elif a != b:
            raise ImproperlyConfigured(f"parameter {i} of the statement depends on its values")
    if len(set(places.values())) != len(kinds):
        raise ImproperlyConfigured("a value given to the statement does not reach its SQL")
    if not queryset._fields:
        raise ImproperlyConfigured("a reused statement is a values_list queryset")
    # Its columns come in the order values_list names them (Django's ValuesListIterable
    # takes the compiler's rows as they are), converted as the compiler converts them.
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    return _Prepared(sql, params, places, compiler.get_converters(fields))
