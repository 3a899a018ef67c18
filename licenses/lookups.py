"""`field__any=[ids]`: membership in a list of ids passed as one array parameter.

`field__in=[…]` writes one placeholder per id. For the few-thousand-id lists of a set-based
pass (a fast-track chunk and the flags it re-evaluates) that costs more than the query: the
driver splits and rewrites the statement for every placeholder, and PostgreSQL parses and
plans an n-way OR. On PostgreSQL `= ANY(%s::bigint[])` sends the ids as one array; elsewhere
(SQLite, the embedded default) it falls back to `IN`. Registered on every field in
`LicensesConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Lookup, Q


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return sorted({int(v) for v in self.rhs})

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]
        if not ids:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def ids_in(field: str, ids: Iterable[int]) -> Q:
    """`Q(<field>__any=ids)`: see the module docstring."""
    return Q(**{f"{field}__any": list(ids)})
