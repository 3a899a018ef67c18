"""Viewsets of the licenses resources: reads through the selectors, writes and moves through
the services. Another exporter's object is simply not found (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, Serializer

from core.api.moments import resolve_moment
from core.api.permissions import model_perms
from core.api.views import ReadOnlyApiViewSet, WritableApiViewSet
from core.errors import InvalidInput
from core.web import limit_uploads, megabytes
from licenses import audit as license_audit
from licenses import ledger as license_ledger
from licenses import selectors, services
from licenses.documents import document_attach, document_response
from licenses.documents import max_bytes as max_document_bytes
from licenses.fasttrack import decision_edit, decision_figures, decision_revoke
from licenses.models import Document, Exporter, LicenseApplication

from .. import flags
from . import filters
from .serializers import (
    AcceptSerializer,
    AmendSerializer,
    ApplicationSerializer,
    ApproveSerializer,
    AuditExportSerializer,
    AuditQuerySerializer,
    AuthoritySerializer,
    ControlledItemSerializer,
    CorrectSerializer,
    DecisionWordingSerializer,
    DocumentSerializer,
    EventSerializer,
    ExporterSerializer,
    FastTrackDecisionSerializer,
    LedgerEntrySerializer,
    MeasureSerializer,
    MoveSerializer,
    ReferSerializer,
    RejectSerializer,
    RequestInfoSerializer,
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


class AuditCSVRenderer(BaseRenderer):
    """`?format=csv` (or `Accept: text/csv`) for the audit export, which writes its own CSV;
    an error on the way answers the JSON error body (`ExporterViewSet.handle_exception`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


class ExporterViewSet(WritableApiViewSet):
    """Legal entities that apply for licenses and ship goods."""

    serializer_class = ExporterSerializer
    filterset_class = filters.ExporterFilter
    required_perms = {**model_perms("licenses.exporter"), "audit": "licenses.export_event"}
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

    @extend_schema(
        parameters=[AuditQuerySerializer],
        responses={
            (200, "application/json"): AuditExportSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The same as CSV: a column `record` says what each row is "
                "(`event`, `head`, `digest`).",
            ),
        },
        description=(
            "The audit export of the exporter's events recorded in a period (UTC days, both "
            "included): every event of its applications and shipments with its position, "
            "`prev_hash` and `hash` in its chain (one chain per shipment, and per application "
            "for the events that name no shipment), each chain's head at the end of the "
            "period, and the digest of those heads. Roles with `licenses.export_event` "
            "(officers, managers, administrators); another exporter's answers 404."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filter_backends=[],
        renderer_classes=[JSONRenderer, AuditCSVRenderer],
    )
    def audit(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        exporter: Exporter = self.get_object()
        query = AuditQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        if "format" not in request.query_params and isinstance(
            request.accepted_renderer, AuditCSVRenderer
        ):
            fmt = "csv"
        period = license_audit.Period(query.validated_data["from"], query.validated_data["to"])
        return license_audit.export_response(exporter, period, fmt, now=self.now)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        if self.action == "audit" and request.query_params.get("format") not in (None, "csv"):
            # `format` is the export's own parameter: a bad value answers 400 naming it
            # (the query's check), not DRF's 404 for a format it has no renderer for.
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # An error answers the JSON error body, whatever format the export was asked in.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


MOVE = "licenses.move_licenseapplication"


def _move_schema(serializer: type[Serializer], description: str) -> Callable:
    return extend_schema(
        request=serializer, responses={200: ApplicationSerializer}, description=description
    )


class ApplicationViewSet(WritableApiViewSet):
    """License applications and their moves through the approval states."""

    serializer_class = ApplicationSerializer
    filterset_class = filters.ApplicationFilter
    required_perms = (
        model_perms("licenses.licenseapplication")
        | {
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
                "suspend",
                "reinstate",
                "revoke",
                "surrender",
                "amend",
                "approve_amendment",
                "refuse_amendment",
                "refer",
                "return_",
                "resubmit",
            )
        }
        | {"ledger": "licenses.view_licenseapplication"}
    )
    orderings = {
        "-id": ("-id",),
        "id": ("id",),
        "due_at": ("due_at", "id"),
        "-due_at": ("-due_at", "-id"),
        "submitted_at": ("submitted_at", "id"),
        "-submitted_at": ("-submitted_at", "-id"),
        "reference": ("reference", "id"),
        "-reference": ("-reference", "-id"),
        "forecast_p50": ("forecast_p50", "id"),
        "-forecast_p50": ("-forecast_p50", "-id"),
    }
    # Documents `?search=`; what a term finds is `search_matches`, shared with the web list.
    search_fields = [
        "reference",
        "authority_reference",
        "license_number",
        "exporter__name",
        "items__code",
        "items__description",
        "items__material",
    ]
    search_matches = staticmethod(selectors.application_matches)
    may_conflict = True

    def get_queryset(self) -> QuerySet:
        return selectors.application_list(user=self.request.user).prefetch_related(
            "items",
            flags.open_prefetch(),
        )

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

    @extend_schema(
        responses={200: LedgerEntrySerializer(many=True)},
        description=(
            "A general license's ledger: every reservation, release and shipment against it, "
            "oldest first, with the balance (approved minus drawn) after each; all entries at "
            "once. Empty for an individual license."
        ),
    )
    # (No filter backends: `?search=` must not make the application itself not found.)
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filterset_class=None,
        filter_backends=[],
    )
    def ledger(self, request: Request, pk: str | None = None) -> Response:
        application: LicenseApplication = self.get_object()
        entries = license_ledger.ledger(application)
        return Response(LedgerEntrySerializer(entries, many=True).data)

    @_move_schema(MoveSerializer, "File the draft with its authority.")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "submit", MoveSerializer)

    @_move_schema(AcceptSerializer, "The authority accepted the application for review.")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "accept", AcceptSerializer)

    @_move_schema(
        RequestInfoSerializer,
        "The clock stops: the authority asked for information (`reason` `information`, the "
        "default; its reply window, if any, sets `reply_due_at`), or the case is with experts, "
        "inspected on site, or its item identified.",
    )
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "request_info", RequestInfoSerializer)

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
        MoveSerializer,
        "The authority suspended the license: its shipments not yet shipped wait "
        "(`awaiting_license`) and cannot ship.",
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "suspend", MoveSerializer)

    @_move_schema(
        MoveSerializer,
        "The suspension ended: `approved` again (`exhausted` when fully drawn).",
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "reinstate", MoveSerializer)

    @_move_schema(
        MoveSerializer,
        "The authority revoked the license (final): shipments not yet shipped go back to "
        "`planned` and their reservations are released.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "revoke", MoveSerializer)

    @_move_schema(
        MoveSerializer,
        "The exporter gave the license back (final): shipments not yet shipped go back to "
        "`planned` and their reservations are released.",
    )
    @action(detail=True, methods=["post"])
    def surrender(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "surrender", MoveSerializer)

    @_move_schema(
        AmendSerializer,
        "Ask the authority to amend the license: a new `quantity`, `value` and/or "
        "`valid_until` (at least one) and a `note`. The license stays usable and the "
        "authority's amendment window runs (`due_at`). Naming `item`, `items`, "
        "`destination` or `consignee` answers 400: that needs a new application.",
    )
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk: str | None = None) -> Response:
        if hasattr(request.data, "keys"):
            barred = [name for name in services.NOT_AMENDABLE if name in request.data]
            if barred:
                self.get_object()  # 404 before the answer about its content
                raise services.new_application_needed(barred)
        return self._move(request, "amend", AmendSerializer)

    @_move_schema(
        MoveSerializer,
        "The authority granted the amendment: its values become the license's (400 naming "
        "the field if below what shipments already reserve) → `approved` (`exhausted` when "
        "fully drawn).",
    )
    @action(detail=True, methods=["post"], url_path="approve-amendment")
    def approve_amendment(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "approve_amendment", MoveSerializer)

    @_move_schema(
        MoveSerializer,
        "The authority refused the amendment: the license stays as it was (`approved`, or "
        "`exhausted` when fully drawn).",
    )
    @action(detail=True, methods=["post"], url_path="refuse-amendment")
    def refuse_amendment(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "refuse_amendment", MoveSerializer)

    @_move_schema(
        ReferSerializer,
        "The case was referred (State Council, watch list, interagency review): pending with "
        "no time limit. An open request for information ends at the referral.",
    )
    @action(detail=True, methods=["post"])
    def refer(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "refer", ReferSerializer)

    @_move_schema(
        MoveSerializer,
        "Returned without action: no longer pending; its shipments go back to planned.",
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "return", MoveSerializer)

    @_move_schema(
        MoveSerializer,
        "A returned application filed again: the clock starts afresh on the resubmission day.",
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, "resubmit", MoveSerializer)

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
    """Authorities' announced changes of pace: logged, their wording corrected, revoked; their
    window, period and scope never edited, and never deleted."""

    serializer_class = FastTrackDecisionSerializer
    filterset_class = filters.FastTrackDecisionFilter
    required_perms = {
        "read": "licenses.view_fasttrackdecision",
        "create": "licenses.add_fasttrackdecision",
        "partial_update": "licenses.change_fasttrackdecision",
        "revoke": "licenses.revoke_fasttrackdecision",
    }
    http_method_names = ["get", "head", "post", "patch"]
    orderings = {
        "-announced_on": ("-announced_on", "-id"),
        "announced_on": ("announced_on", "id"),
        "-id": ("-id",),
        "id": ("id",),
    }
    search_fields = ["source", "note"]
    may_conflict = True

    # Writes a user limited to some exporters may make only to a decision naming exporters,
    # every one of them theirs; on any other the write answers 404 (reading it may be allowed).
    write_actions = {"update", "partial_update", "revoke"}

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        readable = (
            selectors.decision_writable_list
            if getattr(self, "action", None) in self.write_actions
            else selectors.decision_list
        )
        return (
            readable(user=user)
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

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer:
        # The figures of the decisions shown count only what the caller may see (one query
        # for a page of them).
        if args and args[0] is not None:
            shown = list(args[0]) if kwargs.get("many") else [args[0]]
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["figures"] = decision_figures(decisions=shown, user=self.request.user)
        return super().get_serializer(*args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            decision = serializer.save()
        return self.respond(decision, 201)

    @extend_schema(
        request=DecisionWordingSerializer,
        responses={200: FastTrackDecisionSerializer},
        description=(
            "Correct the wording (`source`, `note`) of a logged decision. Its window, period and "
            "scope are what the authority announced: to change them, revoke it and log anew."
        ),
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        decision = self.get_object()
        data = request.data if isinstance(request.data, dict) else {}
        wording = set(DecisionWordingSerializer().fields)
        resource = FastTrackDecisionSerializer().fields
        fixed = sorted(k for k in data if k in resource and k not in wording)
        fixed = [k for k in fixed if not resource[k].read_only]
        if fixed:
            raise exceptions.ValidationError(
                {k: _("Fixed once logged: revoke the decision and log a new one.") for k in fixed}
            )
        ignored = {k for k in data if k in resource and resource[k].read_only}
        serializer = DecisionWordingSerializer(
            data={k: v for k, v in data.items() if k not in ignored}
        )
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            decision_edit(
                decision=decision, actor=request.user, now=self.now, **serializer.validated_data
            )
        return self.respond(decision)

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


class PassthroughRenderer(BaseRenderer):
    """Lets a download be asked for with any `Accept` (the file answers in its own type);
    an error on the way still answers the JSON error body."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


@extend_schema_view(
    list=extend_schema(description="The documents attached to the application."),
    retrieve=extend_schema(description="One document's description."),
    create=extend_schema(
        description=(
            "Attach a document: `multipart/form-data` with `kind` and `file`. Refused (400, "
            "naming `file`) when larger than the limit, empty, of a type not accepted, or when "
            "its content is not what its name says."
        )
    ),
)
class DocumentViewSet(mixins.CreateModelMixin, ReadOnlyApiViewSet):
    """Documents of one application (`/applications/{application_pk}/documents/`): end-user
    certificates, contracts, technical descriptions. Another exporter's application, or its
    documents, are not found (404)."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]
    required_perms = {
        "read": "licenses.view_document",
        "create": "licenses.add_document",
        "download": "licenses.view_document",
    }
    http_method_names = ["get", "head", "post"]
    filter_backends: list[Any] = []

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: a file over the limit is dropped as it streams in.
        self.size_limit = limit_uploads(request, max_document_bytes())
        return super().initialize_request(request, *args, **kwargs)

    def application(self) -> LicenseApplication:
        if not hasattr(self, "_application"):
            pk = self.kwargs.get("application_pk", "")
            self._application = get_object_or_404(
                selectors.application_list(user=self.request.user), pk=pk
            )
        return self._application

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        return (
            selectors.document_list(user=self.request.user)
            .filter(application=self.application())
            .select_related("uploaded_by")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.application()
        data = request.data  # parsed here: the size limit acts while the body is read
        if "file" in self.size_limit.too_large:
            raise InvalidInput(
                _("The file is larger than %(size)s.") % {"size": megabytes(max_document_bytes())},
                fields={
                    "file": _("Larger than %(size)s.") % {"size": megabytes(max_document_bytes())}
                },
            )
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        document = document_attach(
            application=application,
            kind=serializer.validated_data["kind"],
            upload=serializer.validated_data["file"],
            actor=request.user,
            now=self.now,
        )
        return self.respond(document, 201)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment."
            )
        },
        description=(
            "The file itself, as an attachment (`Content-Disposition: attachment`, "
            "`X-Content-Type-Options: nosniff`), in the type it was checked to be."
        ),
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PassthroughRenderer])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return document_response(self.get_object())


class MeasureViewSet(WritableApiViewSet):
    """Authorities' published rules putting controlled items under license (`control`) or
    refusing exports in principle (`ban`): logged and edited, every change kept; never deleted."""

    serializer_class = MeasureSerializer
    filterset_class = filters.MeasureFilter
    required_perms = model_perms("licenses.measure")
    orderings = {
        "-effective_from": ("-effective_from", "-id"),
        "effective_from": ("effective_from", "id"),
        "reference": ("reference", "id"),
        "-reference": ("-reference", "-id"),
        "-id": ("-id",),
        "id": ("id",),
    }
    search_fields = ["reference", "title"]

    def get_queryset(self) -> QuerySet:
        return selectors.measure_list(user=self.request.user)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        writes = {"create", "update", "partial_update"}
        if self.action in writes and selectors.visible_exporter_ids(request.user) is not None:
            raise exceptions.PermissionDenied(
                _(
                    "A user limited to some exporters cannot change measures: "
                    "they bind every exporter."
                )
            )
