"""Viewsets of the licenses resources: reads through the selectors, writes and moves through
the services. Another exporter's object is simply not found (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from config.api.moments import resolve_moment
from config.api.permissions import model_perms
from config.api.views import ReadOnlyApiViewSet, WritableApiViewSet
from licenses import selectors, services
from licenses.models import Exporter, LicenseApplication

from . import filters
from .filters import open_flags_queryset
from .serializers import (
    AcceptSerializer,
    ApplicationSerializer,
    ApproveSerializer,
    AuthoritySerializer,
    ControlledItemSerializer,
    CorrectSerializer,
    EventSerializer,
    ExporterSerializer,
    FastTrackDecisionSerializer,
    MoveSerializer,
    RejectSerializer,
    RevokeSerializer,
)


class AuthorityViewSet(WritableApiViewSet):
    """Licensing bodies and their review clocks (shared reference data; administrators edit)."""

    serializer_class = AuthoritySerializer
    filterset_class = filters.AuthorityFilter
    required_perms = model_perms("licenses.authority")
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    orderings = {"code": ("code",), "-code": ("-code",)}
    search_fields = ["code", "name"]

    def get_queryset(self) -> QuerySet:
        return selectors.authority_list(user=self.request.user)


class ControlledItemViewSet(WritableApiViewSet):
    """Entries of the authorities' control lists (shared reference data)."""

    serializer_class = ControlledItemSerializer
    filterset_class = filters.ControlledItemFilter
    required_perms = model_perms("licenses.controlleditem")
    orderings = {"code": ("code", "id"), "-code": ("-code", "-id"), "id": ("id",), "-id": ("-id",)}
    search_fields = ["code", "description", "material"]

    def get_queryset(self) -> QuerySet:
        return selectors.item_list(user=self.request.user)


class ExporterViewSet(WritableApiViewSet):
    """Legal entities that apply for licenses and ship goods."""

    serializer_class = ExporterSerializer
    filterset_class = filters.ExporterFilter
    required_perms = model_perms("licenses.exporter")
    orderings = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}
    search_fields = ["name", "registration_number"]

    def get_queryset(self) -> QuerySet:
        return selectors.exporter_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if selectors.visible_exporter_ids(request.user) is not None:
            raise exceptions.PermissionDenied(
                _("A user limited to some exporters cannot create exporters.")
            )
        return super().create(request, *args, **kwargs)


MOVE = "licenses.move_licenseapplication"


def _move_schema(serializer: type[Serializer], description: str) -> Callable:
    return extend_schema(
        request=serializer, responses={200: ApplicationSerializer}, description=description
    )


class ApplicationViewSet(WritableApiViewSet):
    """License applications and their moves through the approval states."""

    serializer_class = ApplicationSerializer
    filterset_class = filters.ApplicationFilter
    required_perms = model_perms("licenses.licenseapplication") | {
        name: MOVE
        for name in (
            "submit",
            "accept",
            "request_info",
            "provide_info",
            "approve",
            "reject",
            "withdraw",
            "correct",
        )
    }
    orderings = {
        "-id": ("-id",),
        "id": ("id",),
        "due_at": ("due_at", "id"),
        "-due_at": ("-due_at", "-id"),
        "submitted_at": ("submitted_at", "id"),
        "-submitted_at": ("-submitted_at", "-id"),
        "reference": ("reference", "id"),
        "-reference": ("-reference", "-id"),
    }
    search_fields = ["reference", "authority_reference", "license_number", "exporter__name"]
    may_conflict = True

    def get_queryset(self) -> QuerySet:
        return selectors.application_list(user=self.request.user).prefetch_related(
            "items",
            Prefetch("flags", queryset=open_flags_queryset(), to_attr="open_flags"),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": getattr(self, "now", None)}

    def _move(self, request: Request, move: str, serializer_class: type[Serializer]) -> Response:
        application: LicenseApplication = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        at = resolve_moment(
            data.pop("at", None),
            tz=application.authority.tz,
            now=self.now,
            not_before=application.last_moved_at,
        )
        service = getattr(services, f"application_{move}")
        with transaction.atomic():
            service(application=application, at=at, now=self.now, actor=request.user, **data)
        return self.respond(application)

    @_move_schema(MoveSerializer, "File the draft with its authority.")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "submit", MoveSerializer)

    @_move_schema(AcceptSerializer, "The authority accepted the application for review.")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "accept", AcceptSerializer)

    @_move_schema(MoveSerializer, "The authority asked for information: the clock stops.")
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "request_info", MoveSerializer)

    @_move_schema(MoveSerializer, "The information was provided: the clock runs again.")
    @action(detail=True, methods=["post"], url_path="provide-info")
    def provide_info(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "provide_info", MoveSerializer)

    @_move_schema(ApproveSerializer, "The license was granted.")
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "approve", ApproveSerializer)

    @_move_schema(RejectSerializer, "The license was refused.")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "reject", RejectSerializer)

    @_move_schema(MoveSerializer, "The exporter withdrew the pending application.")
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "withdraw", MoveSerializer)

    @_move_schema(
        CorrectSerializer,
        "Re-date (`at`) or undo (`undo: true`) the latest move, saying why (`note`). The "
        "correction is a new event pointing at the move it corrects; the due date follows.",
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        application: LicenseApplication = self.get_object()
        serializer = CorrectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        at = data.get("at")
        if at is not None:
            _latest, previous = services.latest_move(application)
            at = resolve_moment(
                at,
                tz=application.authority.tz,
                now=self.now,
                not_before=services.effective_moment(previous) if previous else None,
            )
        with transaction.atomic():
            services.application_correct(
                application=application,
                now=self.now,
                actor=request.user,
                note=data["note"],
                at=at,
                undo=data["undo"],
            )
        return self.respond(application)


@extend_schema_view(
    create=extend_schema(
        description="Log a decision; it applies at once if already in force (managers)."
    )
)
class FastTrackDecisionViewSet(mixins.CreateModelMixin, ReadOnlyApiViewSet):
    """Authorities' announced changes of pace. Logged, then revoked; never edited or deleted."""

    serializer_class = FastTrackDecisionSerializer
    filterset_class = filters.FastTrackDecisionFilter
    required_perms = {
        "read": "licenses.view_fasttrackdecision",
        "create": "licenses.add_fasttrackdecision",
        "revoke": "licenses.revoke_fasttrackdecision",
    }
    http_method_names = ["get", "head", "post"]
    orderings = {
        "-announced_on": ("-announced_on", "-id"),
        "announced_on": ("announced_on", "id"),
        "-id": ("-id",),
        "id": ("id",),
    }
    search_fields = ["source", "note"]
    may_conflict = True

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        return (
            selectors.decision_list(user=user)
            .select_related("revoked_by")
            .prefetch_related(
                "items",
                # Only the exporters and applications the caller may see are named.
                Prefetch("exporters", queryset=selectors.scope(Exporter.objects.all(), user, "id")),
                Prefetch(
                    "applications",
                    queryset=selectors.scope(LicenseApplication.objects.all(), user).only("id"),
                ),
            )
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": getattr(self, "now", None)}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            decision = serializer.save()
        return self.respond(decision, 201)

    @extend_schema(
        request=RevokeSerializer,
        responses={200: FastTrackDecisionSerializer},
        description=(
            "Revoke the decision, as of now (a revocation is not back-dated, so it takes no "
            "`at`): the applications it moved get back the windows that govern without it, "
            "logged the same way. A decision already revoked answers 409."
        ),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        from licenses.fasttrack import decision_revoke

        decision = self.get_object()
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            decision_revoke(
                decision=decision,
                actor=request.user,
                now=self.now,
                note=serializer.validated_data["note"],
            )
        return self.respond(decision)


class EventViewSet(ReadOnlyApiViewSet):
    """The append-only history: every move, due-date change, flag, drawdown and correction."""

    serializer_class = EventSerializer
    filterset_class = filters.EventFilter
    required_perms = {"read": "licenses.view_event"}
    orderings = {
        "id": ("id",),
        "-id": ("-id",),
        "occurred_at": ("occurred_at", "id"),
        "-occurred_at": ("-occurred_at", "-id"),
    }
    search_fields = ["note", "application__reference", "shipment__reference"]

    def get_queryset(self) -> QuerySet:
        return selectors.event_list(user=self.request.user)
