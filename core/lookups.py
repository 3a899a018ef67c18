"""`field__any=[ids]`: membership in a list of ids passed as one array parameter.

`field__in=[…]` writes one placeholder per id. For the few-thousand-id lists of a set-based
pass (a fast-track chunk and the flags it re-evaluates) that costs more than the query: the
driver splits and rewrites the statement for every placeholder, and PostgreSQL parses and
plans an n-way OR. On PostgreSQL `= ANY(%s::bigint[])` sends the ids as one array; elsewhere
(SQLite, the embedded default) it falls back to `IN`. Registered on every field in
`LicensesConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Lookup, Q


class Ids:
    """A list of ids as one value. Django resolves a list or tuple given to a lookup element
    by element (a million calls for a hundred chunks of ten thousand); this it passes as
    is."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[int]):
        self.values = sorted({int(v) for v in values})

    def __iter__(self) -> Iterator[int]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ids) and other.values == self.values

    def __hash__(self) -> int:
        return hash(tuple(self.values))

    def __repr__(self) -> str:
        return f"Ids({self.values!r})"


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Ids:
        return self.rhs if isinstance(self.rhs, Ids) else Ids(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = self.rhs.values
        if connection.vendor == "postgresql":
            # an array literal: the driver passes one string instead of typing every element
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + ",".join(map(str, ids)) + "}"]
        if not ids:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def ids_in(field: str, ids: Iterable[int]) -> Q:
    """`Q(<field>__any=ids)`: see the module docstring."""
    return Q(**{f"{field}__any": ids if isinstance(ids, Ids) else Ids(ids)})
