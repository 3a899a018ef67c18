"""Viewsets of the shipments resources: reads through the selectors, writes and moves through
the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import ErrorSerializer, error_body
from core.api.moments import resolve_moment
from core.api.permissions import model_perms
from core.api.serializers import StrictSerializer
from core.api.views import WritableApiViewSet
from core.web import limit_uploads, megabytes
from licenses import events, flags
from licenses import selectors as license_selectors
from licenses.api.serializers import ApplicationSerializer, CorrectSerializer, MoveSerializer
from licenses.services import effective_moment
from shipments import imports, selectors, services
from shipments.models import Shipment

from . import filters
from .serializers import (
    ConsigneeSerializer,
    ShipmentImportResultSerializer,
    ShipmentImportSerializer,
    ShipmentSerializer,
    ShipSerializer,
)

MOVE = "shipments.move_shipment"


class ConsigneeViewSet(WritableApiViewSet):
    """Exporters' customers."""

    serializer_class = ConsigneeSerializer
    filterset_class = filters.ConsigneeFilter
    required_perms = model_perms("shipments.consignee")
    orderings = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}
    search_fields = ["name", "end_use"]

    def get_queryset(self) -> QuerySet:
        return selectors.consignee_list(user=self.request.user)


def _move_schema(description: str, request: Any = MoveSerializer) -> Any:
    return extend_schema(
        request=request, responses={200: ShipmentSerializer}, description=description
    )


def _not_before(shipment: Shipment, move: str, previous: dt.datetime | None) -> dt.datetime | None:
    """The earliest moment `move` may be dated: after the previous move, and a shipping after
    the approval of its license (so that a bare date of that day means the approval's moment,
    never the start of the day before it)."""
    application = shipment.application
    if move != "ship" or application is None or application.decided_at is None:
        return previous
    return max(previous, application.decided_at) if previous else application.decided_at


class ShipmentViewSet(WritableApiViewSet):
    """Goods to send, the application that covers them, and the officer's moves."""

    serializer_class = ShipmentSerializer
    filterset_class = filters.ShipmentFilter
    required_perms = (
        model_perms("shipments.shipment")
        | {name: MOVE for name in ("ship", "deliver", "hold", "release", "cancel", "correct")}
        | {"file_application": "licenses.add_licenseapplication"}
        | {"import_csv": "shipments.add_shipment"}
    )
    orderings = {
        "-id": ("-id",),
        "id": ("id",),
        "planned_ship_date": ("planned_ship_date", "id"),
        "-planned_ship_date": ("-planned_ship_date", "-id"),
        "reference": ("reference", "id"),
        "-reference": ("-reference", "-id"),
    }
    # Documents `?search=`; what a term finds is `search_matches`, shared with the web list.
    search_fields = [
        "reference",
        "consignee__name",
        "exporter__name",
        "application__reference",
        "application__authority_reference",
        "item__code",
        "item__description",
        "item__material",
    ]
    search_matches = staticmethod(selectors.shipment_matches)
    may_conflict = True

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: an import over the limit is dropped as it streams in.
        if self.action_map.get((request.method or "").lower()) == "import_csv":
            self.size_limit = limit_uploads(request, imports.max_bytes())
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        """The shipments as the services take them (the item's and the application's
        authorities joined); a read (a list, one shipment, the answer to a write) as
        `read_queryset` shows them."""
        if getattr(self, "action", None) in ("list", "retrieve"):
            return self.read_queryset()
        return (
            selectors.shipment_list(user=self.request.user)
            .select_related("item__authority", "application__authority")
            .prefetch_related(flags.open_prefetch(), flags.open_prefetch(through="application__"))
        )

    def read_queryset(self) -> QuerySet:
        """What the API shows of shipments joins only their application (their legal moves,
        its flags) and their deadline: the exporter, item and consignee are written as ids.
        PostgreSQL spent 4-8 ms choosing an order for the seven joins of the services' query,
        which it then ran in under one, for a page of 50 at 1,000,000 shipments."""
        return (
            selectors.shipment_list(user=self.request.user)
            .select_related(None)
            .select_related("application", "deadline")
            .prefetch_related(flags.open_prefetch(), flags.open_prefetch(through="application__"))
        )

    def reload(self, instance: Model) -> Model:
        return self.read_queryset().get(pk=instance.pk)

    def _move(
        self, request: Request, move: str, serializer_class: type[MoveSerializer] = MoveSerializer
    ) -> Response:
        shipment: Shipment = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        authority = (shipment.application or shipment.item).authority
        at = resolve_moment(
            data.pop("at", None),
            tz=authority.tz,
            now=self.now,
            not_before=_not_before(shipment, move, shipment.last_moved_at),
        )
        service = getattr(services, f"shipment_{move}")
        with transaction.atomic():
            service(shipment=shipment, at=at, now=self.now, actor=request.user, **data)
        return self.respond(shipment)

    @_move_schema(
        "The cleared shipment left, with the quantity that shipped (default: the planned "
        "one), its transport document and customs declaration number (MRN). On a general "
        "license the drawdown follows the shipped quantity (the value in proportion, rounded "
        "to the cent): 400 naming `shipped_quantity` when it would overdraw the license, or "
        "exceed an individual license's quantity.",
        request=ShipSerializer,
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "ship", ShipSerializer)

    @_move_schema("The shipment arrived.")
    @action(detail=True, methods=["post"])
    def deliver(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "deliver")

    @_move_schema("Hold the shipment before it ships.")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "hold")

    @_move_schema("Release a held shipment: it takes the state its application gives it.")
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "release")

    @_move_schema("Cancel the shipment before it ships (its drawdown is released).")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "cancel")

    @_move_schema(
        "Re-date (`at`) or undo (`undo: true`) the latest officer move (ship, deliver, hold, "
        "release, cancel), saying why (`note`). The correction is a new event pointing at the "
        "move it corrects; an undo puts back the previous state and its side effects.",
        request=CorrectSerializer,
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        shipment: Shipment = self.get_object()
        serializer = CorrectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        at = data.get("at")
        if at is not None:
            latest, previous = services.shipment_latest_move(shipment)
            authority = (shipment.application or shipment.item).authority
            at = resolve_moment(
                at,
                tz=authority.tz,
                now=self.now,
                not_before=_not_before(
                    shipment,
                    events.payload(latest).get("move", "") if latest else "",
                    effective_moment(previous) if previous else None,
                ),
            )
        with transaction.atomic():
            services.shipment_correct(
                shipment=shipment,
                now=self.now,
                actor=request.user,
                note=data["note"],
                at=at,
                undo=data["undo"],
            )
        return self.respond(shipment)

    @extend_schema(
        request=StrictSerializer,
        responses={201: ApplicationSerializer},
        description="File an application for this shipment: a draft from its facts (exporter, "
        "its item and that item's authority, destination, quantity, value, currency, an "
        "individual license, a generated reference), to which the shipment is assigned, in "
        "one transaction. 409 when the shipment is not planned or already has an application "
        "in force (a draft included). Answers 201 with the draft.",
    )
    @action(detail=True, methods=["post"], url_path="file-application")
    def file_application(self, request: Request, pk: str | None = None) -> Response:
        shipment: Shipment = self.get_object()
        StrictSerializer(data=request.data).is_valid(raise_exception=True)
        with transaction.atomic():
            application = services.shipment_file_application(
                shipment=shipment, now=self.now, actor=request.user
            )
        shown = (
            license_selectors.application_list(user=request.user)
            .prefetch_related("items", flags.open_prefetch())
            .get(pk=application.pk)
        )
        context = self.get_serializer_context()
        return Response(
            ApplicationSerializer(shown, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request={"multipart/form-data": ShipmentImportSerializer},
        responses={
            201: ShipmentImportResultSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "`invalid`: the file has errors and nothing was imported. `fields` names "
                    "each error's row and column (`row 3, quantity`), or `file` for the whole "
                    "file or its header; the body adds `rows`, every error as `{row, column, "
                    "message}` (row 1 is the header, data starts at 2, 0 is the whole file)."
                ),
            ),
            413: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "`too_large`: the file is larger than `IMPORT_MAX_BYTES` (or the body "
                    "than `DATA_UPLOAD_MAX_MEMORY_SIZE`); nothing was imported."
                ),
            ),
        },
        description=(
            "Import shipments from a CSV file, as the web import does: `multipart/form-data` "
            "with `file`, the columns of the web import's template. All or nothing: every row "
            "is checked (against what the caller may see: another exporter's row is an "
            "error), and only when none has an error are they all created, each as a create "
            "would (with its event), in one transaction. Answers 201 with how many were "
            "created and the shipments; 400 listing every error by row and column, nothing "
            "stored."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser],
    )
    def import_csv(self, request: Request) -> Response:
        data = request.data  # parsed here: the size limit acts while the body is read
        if "file" in self.size_limit.too_large:
            size = megabytes(imports.max_bytes())
            return Response(
                error_body(
                    "too_large",
                    _("The file is larger than %(size)s; nothing was imported.") % {"size": size},
                    {"file": _("Larger than %(size)s.") % {"size": size}},
                ),
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        serializer = ShipmentImportSerializer(data=data)
        if not serializer.is_valid():  # no file, or a field the import does not take
            errors = [
                imports.RowError(0, name, str(message))
                for name, messages in serializer.errors.items()
                for message in messages
            ]
            return Response(_import_errors(errors), status=status.HTTP_400_BAD_REQUEST)
        result = imports.import_shipments(
            data=serializer.validated_data["file"].read(), user=request.user, now=self.now
        )
        if not result.ok:
            return Response(_import_errors(result.errors), status=status.HTTP_400_BAD_REQUEST)
        created = self.get_queryset().filter(pk__in=[s.pk for s in result.created]).order_by("pk")
        return Response(
            {
                "created": len(result.created),
                "shipments": self.get_serializer(created, many=True).data,
            },
            status=status.HTTP_201_CREATED,
        )


def _import_errors(errors: list[imports.RowError]) -> dict[str, Any]:
    """The one error body for a refused import: `fields` keyed `row 3, quantity` (`file` for
    the whole file or its header, or the request's field to blame), plus `rows`, every error
    as it is."""
    fields: dict[str, str] = {}
    for error in errors:
        if error.row == 0:
            key, message = error.column or "file", error.message
        elif error.row == 1:  # the header: the columns missing or unknown
            key, message = "file", f"{error.column}: {error.message}"
        else:
            key = f"row {error.row}, {error.column}" if error.column else f"row {error.row}"
            message = error.message
        fields[key] = f"{fields[key]} {message}" if key in fields else message
    n = len(errors)
    body = error_body(
        "invalid",
        ngettext("%(n)d error; nothing was imported.", "%(n)d errors; nothing was imported.", n)
        % {"n": n},
        fields,
    )
    body["rows"] = [
        {"row": error.row, "column": error.column, "message": str(error.message)}
        for error in errors
    ]
    return body
