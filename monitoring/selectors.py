"""What a given user may see of flags and alerts (see licenses.selectors), and the flag source
the layers below read open flags through (`licenses.flags`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, OuterRef, Q, QuerySet

from licenses import roles
from licenses.flags import FlagSource
from licenses.models import LicenseApplication
from licenses.selectors import scope
from shipments.models import Shipment

from .models import APPLICATION_FLAGS, Alert, Flag, FlagKind, Webhook


def flag_list(*, user: Any) -> QuerySet[Flag]:
    return scope(Flag.objects.all(), user)


def alert_list(*, user: Any) -> QuerySet[Alert]:
    return scope(Alert.objects.select_related("flag"), user, "flag__exporter")


def open_flags() -> QuerySet[Flag]:
    return Flag.objects.filter(cleared_at__isnull=True).order_by("kind")


def _subject(model: type[Model]) -> str:
    return "application" if issubclass(model, LicenseApplication) else "shipment"


def open_of(model: type[Model], *, kind: Any = None, outer: str = "pk") -> QuerySet[Flag]:
    flags = open_flags().filter(**{_subject(model): OuterRef(outer)})
    return flags if kind is None else flags.filter(kind=kind)


def open_of_object(obj: Model) -> QuerySet[Flag]:
    """Open flags of an application, or of a shipment and of its application."""
    own = Q(**{_subject(type(obj)): obj})
    if isinstance(obj, Shipment) and obj.application_id:
        own |= Q(application_id=obj.application_id)
    return open_flags().filter(own).select_related("application", "shipment")


FLAG_SOURCE = FlagSource(
    choices=lambda: [(str(k), str(v)) for k, v in FlagKind.choices],
    application_kinds=tuple(str(k) for k in APPLICATION_FLAGS),
    open_flags=open_flags,
    relation="flags",
    open_of=open_of,
    open_of_object=open_of_object,
)


def webhook_list(*, user: Any) -> QuerySet[Webhook]:
    """An administrator sees every webhook; anyone else only their own."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Webhook.objects.none()
    if roles.role_of(user) == roles.ADMINISTRATOR:
        return Webhook.objects.select_related("owner")
    return Webhook.objects.filter(owner=user).select_related("owner")
