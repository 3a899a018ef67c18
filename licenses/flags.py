"""Open flags, as the pages and the API of this app and of `shipments` show and filter them.

Flags belong to `monitoring`, which sits above both apps. It registers a `FlagSource` when it
is ready; the layers below ask through this module and never name it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, Model, Prefetch, QuerySet


@dataclass(frozen=True)
class FlagSource:
    choices: Callable[[], list[tuple[str, str]]]
    """Every kind with its label."""
    application_kinds: tuple[str, ...]
    """The kinds raised on applications (the others are raised on shipments)."""
    open_flags: Callable[[], QuerySet]
    """Open flags, ordered by kind."""
    relation: str
    """The name under which applications and shipments reach their flags."""
    open_of: Callable[..., QuerySet]
    """`open_of(model, kind=…, outer="pk")`: open flags of the row of `model` whose key the
    outer query gives in `outer`."""
    open_of_object: Callable[[Model], QuerySet]
    """The open flags of one application or shipment, ordered by kind."""


_source: FlagSource | None = None


def register(source: FlagSource) -> None:
    global _source
    _source = source


def _get() -> FlagSource:
    if _source is None:
        raise ImproperlyConfigured("No app registered a flag source (is monitoring installed?).")
    return _source


def choices(subject: str = "") -> list[tuple[str, str]]:
    """Flag kinds and their labels; `subject="application"` keeps those of applications."""
    source = _get()
    found = source.choices()
    if subject == "application":
        return [c for c in found if c[0] in source.application_kinds]
    return found


def open_prefetch(*, through: str = "", to_attr: str = "open_flags") -> Prefetch:
    """Prefetch each row's open flags (applications or shipments) into `to_attr`; `through`
    reaches them over a relation first (e.g. "application__")."""
    source = _get()
    return Prefetch(through + source.relation, queryset=source.open_flags(), to_attr=to_attr)


def open_flags_of(obj: Model) -> QuerySet:
    """The open flags of one application, or of one shipment and of its application, ordered
    by kind."""
    return _get().open_of_object(obj)


def shipment_or_application_exists(shipment: type[Model], kind: Any) -> Exists:
    """A condition on shipments: the shipment has an open flag of `kind`, or its application
    has (outer key `application_id`). A flag is raised on an application or on a shipment by
    its kind, never both (the flags' constraints), so only that side is asked: an OR of both
    sides made PostgreSQL hash every open flag of the kind twice before the first row (29 ms
    for the shipments at risk at 1,000,000 shipments)."""
    if str(kind) in _get().application_kinds:
        application: Any = shipment._meta.get_field("application").related_model
        return open_exists(application, kind, outer="application_id")
    return open_exists(shipment, kind)


def open_exists(model: type[Model], kind: Any, *, outer: str = "pk") -> Exists:
    """A condition: the row of `model` (an application or a shipment) whose key the outer
    query gives in `outer` has an open flag of `kind`."""
    return Exists(_get().open_of(model, kind=kind, outer=outer))
