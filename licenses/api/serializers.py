"""What the API shows and accepts of authorities, controlled items, exporters, applications,
fast-track decisions and events. Field names are the SPEC's API contract."""

from __future__ import annotations

import functools
import zoneinfo
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.moments import MomentField
from core.api.serializers import (
    CountryCodeField,
    ScopedPrimaryKeyRelatedField,
    StrictMixin,
    StrictSerializer,
)
from core.errors import full_clean
from licenses import audit, ledger, measures, selectors, services
from licenses.authorities import authority_create, authority_update
from licenses.fasttrack import MAX_WINDOW_DAYS, decision_log
from licenses.models import (
    Authority,
    ChainSubject,
    ControlledItem,
    Document,
    Event,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    Measure,
    MeasureStatus,
    PauseReason,
    ReferralReason,
    country_code,
)
from licenses.services import legal_moves
from licenses.services.measures import suspension_data

# Flag kinds, as stored by the shipments app (not imported: licenses does not depend on it).
FLAG_KINDS = (
    "overdue",
    "due_soon",
    "expiring",
    "reply_due",
    "at_risk",
    "file_by",
    "control_change",
    "license_expires",
    "likely_late",
)


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class CleanModelSerializer(StrictMixin, serializers.ModelSerializer):
    """Saves through the model's own validation (`full_clean`), for the plain reference data
    that has no service of its own."""

    def create(self, validated_data: dict[str, Any]) -> Model:
        many = {k: validated_data.pop(k) for k in list(validated_data) if self._is_many(k)}
        model: Any = self.Meta.model
        instance = model(**validated_data)
        full_clean(instance)
        instance.save()
        for name, values in many.items():
            getattr(instance, name).set(values)
        return instance

    def update(self, instance: Model, validated_data: dict[str, Any]) -> Model:
        many = {k: validated_data.pop(k) for k in list(validated_data) if self._is_many(k)}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        full_clean(instance)
        instance.save()
        for name, values in many.items():
            getattr(instance, name).set(values)
        return instance

    def _is_many(self, name: str) -> bool:
        return isinstance(self.fields.get(name), serializers.ManyRelatedField)


@extend_schema_field(
    {"type": "string", "enum": sorted(zoneinfo.available_timezones()), "description": "IANA name."}
)
class TimeZoneField(serializers.CharField):
    """An IANA time zone's name (checked by the serializer's `validate_time_zone`)."""


class AuthoritySerializer(CleanModelSerializer):
    time_zone = TimeZoneField(max_length=64)
    calendar_country = serializers.CharField(
        max_length=2,
        required=False,
        validators=[country_code],
        help_text="Country whose holidays the clock follows; defaults to `country`.",
    )

    class Meta:
        model = Authority
        fields = [
            "code",
            "name",
            "country",
            "time_zone",
            "window_days",
            "window_unit",
            "clock_starts",
            "acceptance_window_days",
            "calendar_country",
            "calendar_subdivision",
            "reply_window_days",
            "reply_window_unit",
            "amendment_window_days",
        ]
        extra_kwargs = {
            "window_days": {"min_value": 1, "max_value": MAX_WINDOW_DAYS},
            "acceptance_window_days": {"max_value": MAX_WINDOW_DAYS},
            "reply_window_days": {"min_value": 1, "max_value": MAX_WINDOW_DAYS},
            "amendment_window_days": {"min_value": 1, "max_value": MAX_WINDOW_DAYS},
        }

    def validate_time_zone(self, value: str) -> str:
        if value not in _time_zones():
            raise serializers.ValidationError(_("Unknown time zone, e.g. Asia/Shanghai."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "calendar_country" not in attrs:
            import holidays

            if attrs["country"] not in holidays.list_supported_countries():
                raise serializers.ValidationError(
                    {"country": _("No holiday calendar is known for it: give calendar_country.")}
                )
            attrs["calendar_country"] = attrs["country"]
        return attrs

    # Through the services: an edit moves due dates, file-by deadlines and flags.
    def create(self, validated_data: dict[str, Any]) -> Model:
        return authority_create(
            now=self.context["now"], actor=self.context["request"].user, **validated_data
        )

    def update(self, instance: Model, validated_data: dict[str, Any]) -> Model:
        return authority_update(
            authority=instance,  # type: ignore[arg-type]
            now=self.context["now"],
            actor=self.context["request"].user,
            **validated_data,
        )


class ControlledItemSerializer(CleanModelSerializer):
    authority = serializers.SlugRelatedField(slug_field="code", queryset=Authority.objects.all())

    class Meta:
        model = ControlledItem
        fields = ["id", "authority", "code", "description", "unit", "material"]


class ExporterSerializer(CleanModelSerializer):
    contact_emails = serializers.ListField(
        child=serializers.EmailField(),
        required=False,
        max_length=50,
        help_text="Compliance contacts: they receive immediate alerts.",
    )

    class Meta:
        model = Exporter
        fields = ["id", "name", "registration_number", "country", "contact_emails", "address"]

    def create(self, validated_data: dict[str, Any]) -> Exporter:
        return services.exporter_create(
            now=self.context["now"], actor=self.context["request"].user, **validated_data
        )

    def update(self, instance: Exporter, validated_data: dict[str, Any]) -> Exporter:  # type: ignore[override]
        return services.exporter_update(
            exporter=instance,
            now=self.context["now"],
            actor=self.context["request"].user,
            **validated_data,
        )


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "enum": list(FLAG_KINDS)}, "readOnly": True}
)
class OpenFlagsField(serializers.ReadOnlyField):
    """Kinds of the open flags, from the `open_flags` the view prefetched."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> list[str]:
        return sorted({flag.kind for flag in getattr(value, "open_flags", [])})


@extend_schema_field({"type": "array", "items": {"type": "string"}, "readOnly": True})
class LegalMovesField(serializers.ReadOnlyField):
    def __init__(self, moves: Any, **kwargs: Any) -> None:
        self.moves = moves
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> list[str]:
        return [name.replace("_", "-") for name in self.moves(value)]


class AmendmentSerializer(serializers.Serializer):
    """The amendment the authority is deciding: the new values asked for (null: unchanged)."""

    quantity = serializers.DecimalField(
        source="amendment_quantity", max_digits=16, decimal_places=3, allow_null=True
    )
    value = serializers.DecimalField(
        source="amendment_value", max_digits=16, decimal_places=2, allow_null=True
    )
    valid_until = serializers.DateField(source="amendment_valid_until", allow_null=True)
    requested_at = serializers.DateTimeField(source="amendment_requested_at")

    def to_representation(self, instance: Any) -> Any:
        if instance.amendment_requested_at is None:
            return None
        return super().to_representation(instance)


class ForecastSerializer(serializers.Serializer):
    """When the authority is likely to decide, from its history (Kaplan-Meier): null while
    the clock does not run or with fewer than 20 decisions to learn from."""

    p50 = serializers.DateField(
        source="forecast_p50", allow_null=True, help_text="Decided with even odds by this day."
    )
    p90 = serializers.DateField(
        source="forecast_p90", allow_null=True, help_text="Decided nine times in ten by this day."
    )
    level = serializers.ChoiceField(
        source="forecast_level",
        choices=["destination", "item", "authority"],
        help_text="The history used: same item and destination, same item, or the authority's.",
    )
    decided = serializers.IntegerField(
        source="forecast_decided", min_value=0, help_text="Decisions in that history."
    )
    censored = serializers.IntegerField(
        source="forecast_censored",
        min_value=0,
        help_text="Applications in that history still pending, withdrawn or returned.",
    )

    def to_representation(self, instance: Any) -> Any:
        if not instance.forecast_level:
            return None
        return super().to_representation(instance)


@extend_schema_field({"type": "string", "format": "decimal", "nullable": True, "readOnly": True})
class RemainingField(serializers.ReadOnlyField):
    """What a general license has left (approved minus drawn); null for an individual license
    or before approval."""

    def __init__(self, which: int, places: int, **kwargs: Any) -> None:
        self.which, self.places = which, places
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> str | None:
        left = ledger.remaining(value)[self.which]
        return None if left is None else f"{left:.{self.places}f}"


class LedgerEntrySerializer(serializers.Serializer):
    """One entry of a general license's ledger, oldest first."""

    occurred_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=list(ledger.ENTRY_KINDS),
        help_text="`reserved` (a shipment assigned, or its reservation taken again), "
        "`released` (cancelled, moved, edited, or the license revoked or surrendered), "
        "`shipped` (what left: the balance moves by the difference from its reservation), "
        "`ship_undone` (a shipping undone: the reservation is taken again).",
    )
    shipment = serializers.IntegerField(source="shipment_id", allow_null=True)
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
    value = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance_quantity = serializers.DecimalField(
        max_digits=17,
        decimal_places=3,
        allow_null=True,
        help_text="Approved minus drawn after the entry (null before approval).",
    )
    balance_value = serializers.DecimalField(max_digits=17, decimal_places=2, allow_null=True)


class ApplicationSerializer(StrictMixin, serializers.ModelSerializer):
    exporter = ScopedPrimaryKeyRelatedField(selectors.exporter_list)
    authority = serializers.SlugRelatedField(slug_field="code", queryset=Authority.objects.all())
    items = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ControlledItem.objects.all(), required=False
    )
    authority_reference = serializers.CharField(
        max_length=60, required=False, allow_null=True, allow_blank=True
    )
    flags = OpenFlagsField()
    legal_moves = LegalMovesField(legal_moves, help_text="Moves legal now (action names).")
    amendment = AmendmentSerializer(
        source="*",
        read_only=True,
        allow_null=True,
        help_text="The amendment the authority is deciding (`amendment_requested`), else null.",
    )
    forecast = ForecastSerializer(source="*", read_only=True, allow_null=True)

    remaining_quantity = RemainingField(
        0, 3, help_text="A general license's approved quantity minus what is drawn; else null."
    )
    remaining_value = RemainingField(
        1, 2, help_text="A general license's approved value minus what is drawn; else null."
    )

    class Meta:
        model = LicenseApplication
        fields = [
            "id",
            "exporter",
            "authority",
            "license_type",
            "items",
            "destination",
            "reference",
            "authority_reference",
            "quantity",
            "value",
            "currency",
            "status",
            "submitted_at",
            "accepted_at",
            "due_at",
            "window_days",
            "decided_at",
            "license_number",
            "valid_until",
            "approved_quantity",
            "approved_value",
            "rejection_reason",
            "drawn_quantity",
            "drawn_value",
            "remaining_quantity",
            "remaining_value",
            "flags",
            "pause_reason",
            "reply_due_at",
            "referral_reason",
            "legal_moves",
            "amendment",
            "forecast",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "pause_reason",
            "reply_due_at",
            "referral_reason",
            "status",
            "submitted_at",
            "accepted_at",
            "due_at",
            "window_days",
            "decided_at",
            "license_number",
            "valid_until",
            "approved_quantity",
            "approved_value",
            "rejection_reason",
            "drawn_quantity",
            "drawn_value",
            "created_at",
            "updated_at",
        ]
        # Uniqueness is checked below and by the services, naming the field.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        exporter = attrs.get("exporter", getattr(self.instance, "exporter", None))
        reference = attrs.get("reference", getattr(self.instance, "reference", None))
        if exporter is not None and reference is not None:
            clash = LicenseApplication.objects.filter(exporter=exporter, reference=reference)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"reference": _("The exporter already has an application with this reference.")}
                )
        if attrs.get("authority_reference") == "":
            attrs["authority_reference"] = None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> LicenseApplication:
        from licenses import services

        items = validated_data.pop("items", [])
        return services.application_create(
            now=self.context["now"],
            actor=self.context["request"].user,
            items=items,
            **validated_data,
        )

    def update(self, instance: LicenseApplication, validated_data: dict[str, Any]) -> Any:
        from licenses import services

        items = validated_data.pop("items", None)
        return services.application_update(
            application=instance,
            now=self.context["now"],
            actor=self.context["request"].user,
            items=items,
            **validated_data,
        )


# --- moves --------------------------------------------------------------------------------


class MoveSerializer(StrictSerializer):
    at = MomentField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class AcceptSerializer(MoveSerializer):
    authority_reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=60,
        help_text=(
            "The authority's case number. Required where the clock starts at acceptance "
            "(MOFCOM) unless the application already has one: 400 naming `authority_reference`."
        ),
    )


class ApproveSerializer(MoveSerializer):
    # Years the schema states (core.api.schema.truthful_dates). The API asks for a day not
    # before the approval, which is now unless `at` says otherwise: the schema asks for this
    # year or later (a license recorded late may have a day before that: the API takes it).
    schema_years = {"valid_until": "today-9999"}
    license_number = serializers.CharField(max_length=60)
    valid_until = serializers.DateField(
        help_text="The last day of validity: not before the approval (400 naming it)."
    )
    approved_quantity = serializers.DecimalField(
        max_digits=16,
        decimal_places=3,
        required=False,
        allow_null=True,
        min_value=Decimal("0.001"),
        help_text="Required for a general license; defaults to the requested quantity.",
    )
    approved_value = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=Decimal("0.01"),
        help_text="Required for a general license; defaults to the requested value.",
    )


class RejectSerializer(MoveSerializer):
    reason = serializers.CharField(max_length=5000)


class AmendSerializer(MoveSerializer):
    """What an amendment asks for: at least one of quantity, value and valid_until. Naming an
    item, a destination or a consignee answers 400: that needs a new application (Art. 18)."""

    # Never before the day of the request (core.api.schema.truthful_dates).
    schema_years = {"valid_until": "today-9999"}
    # The schema states it (core.api.schema.ApiAutoSchema): one of them, not null.
    schema_any_of = [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("quantity", "value", "valid_until")
    ]

    quantity = serializers.DecimalField(
        max_digits=16,
        decimal_places=3,
        required=False,
        allow_null=True,
        min_value=Decimal("0.001"),
        help_text="The new approved quantity.",
    )
    value = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=Decimal("0.01"),
        help_text="The new approved value.",
    )
    valid_until = serializers.DateField(
        required=False, allow_null=True, help_text="The new last day of validity."
    )
    note = serializers.CharField(max_length=5000, help_text="What the amendment is for.")


class RequestInfoSerializer(MoveSerializer):
    reason = serializers.ChoiceField(
        choices=PauseReason.choices,
        required=False,
        default=PauseReason.INFORMATION,
        help_text="Why the clock stops; every reason stops it, `provide-info/` ends any.",
    )


class ReferSerializer(MoveSerializer):
    reason = serializers.ChoiceField(
        choices=ReferralReason.choices, help_text="Why the case was referred."
    )


class CorrectSerializer(StrictSerializer):
    # The schema states it (core.api.schema.ApiAutoSchema): a new `at`, or `undo` true,
    # not both.
    schema_one_of = [
        {"required": ["at"], "properties": {"at": {"type": "string"}}},
        {"required": ["undo"], "properties": {"undo": {"type": "boolean", "enum": [True]}}},
    ]

    at = MomentField(
        required=False, allow_null=True, help_text="The latest move's corrected moment."
    )
    undo = serializers.BooleanField(
        required=False, default=False, help_text="Undo the latest move."
    )
    note = serializers.CharField(max_length=5000, help_text="Why the move is corrected.")


# --- fast-track decisions --------------------------------------------------------------------


class FastTrackDecisionSerializer(StrictMixin, serializers.ModelSerializer):
    # Years the schema states (core.api.schema.truthful_dates): never announced in the future.
    schema_years = {"announced_on": "1-today"}
    authority = serializers.SlugRelatedField(slug_field="code", queryset=Authority.objects.all())
    destinations = serializers.ListField(
        child=serializers.CharField(max_length=2, validators=[country_code]),
        required=False,
        max_length=300,
        help_text="Destination countries it covers; empty: any.",
    )
    items = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ControlledItem.objects.all(), required=False
    )
    exporters = ScopedPrimaryKeyRelatedField(selectors.exporter_list, many=True, required=False)
    applications = ScopedPrimaryKeyRelatedField(
        selectors.application_list, many=True, required=False
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    revoked_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = FastTrackDecision
        fields = [
            "id",
            "authority",
            "announced_on",
            "source",
            "window_days",
            "effective_from",
            "effective_until",
            "destinations",
            "items",
            "exporters",
            "applications",
            "note",
            "revoked_at",
            "revoked_by",
            "revocation_note",
            "affected_count",
            "median_change_days",
            "applied",
            "created_at",
            "created_by",
        ]
        read_only_fields = [
            "revoked_at",
            "revocation_note",
            "affected_count",
            "median_change_days",
            "applied",
            "created_at",
        ]
        extra_kwargs = {"window_days": {"min_value": 1, "max_value": MAX_WINDOW_DAYS}}

    def to_representation(self, instance: FastTrackDecision) -> dict[str, Any]:
        data = super().to_representation(instance)
        # The stored figures count every exporter's applications; the view gives the caller's.
        figures = self.context.get("figures", {}).get(instance.pk)
        if figures is not None:
            data["affected_count"] = figures.affected_count
            median = figures.median_change_days
            data["median_change_days"] = (
                None
                if median is None
                else self.fields["median_change_days"].to_representation(median)
            )
        return data

    def create(self, validated_data: dict[str, Any]) -> FastTrackDecision:
        # The service checks the decision's facts (period, items on the authority's list,
        # applications filed with it, an exporter-limited user naming only their own).
        return decision_log(
            authority=validated_data["authority"],
            announced_on=validated_data["announced_on"],
            source=validated_data["source"],
            window_days=validated_data["window_days"],
            effective_from=validated_data["effective_from"],
            effective_until=validated_data.get("effective_until"),
            destinations=tuple(validated_data.get("destinations", ())),
            items=tuple(validated_data.get("items", ())),
            exporters=tuple(validated_data.get("exporters", ())),
            applications=tuple(validated_data.get("applications", ())),
            note=validated_data.get("note", ""),
            actor=self.context["request"].user,
            now=self.context["now"],
        )


class DecisionWordingSerializer(StrictSerializer):
    """What may be corrected once a decision is logged: its wording."""

    # (`source` is also a Field attribute; the serializer's metaclass takes the field out.)
    source = serializers.CharField(max_length=500, required=False)  # type: ignore[assignment]
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class RevokeSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text="Why."
    )


# --- events ----------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    actor: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who recorded it; null for the system.",
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "application",
            "shipment",
            "decision",
            "kind",
            "from_status",
            "to_status",
            "occurred_at",
            "recorded_at",
            "actor",
            "note",
            "data",
            "corrects",
            "seq",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "data": {"help_text": "What changed, by kind of event."},
            "seq": {"help_text": "Its position in its shipment's (else application's) chain."},
            "prev_hash": {"help_text": "The hash of the event before it in its chain."},
            "hash": {"help_text": "sha256 of `prev_hash` and its fields (see the README)."},
        }


# --- the audit export ---------------------------------------------------------------------------


def hash_field(**kwargs: Any) -> serializers.RegexField:
    """A sha256 hash, 64 lowercase hexadecimal digits."""
    return serializers.RegexField(r"^[0-9a-f]{64}$", min_length=64, max_length=64, **kwargs)


class AuditQuerySerializer(serializers.Serializer):
    """The query of an audit export: `from` and `to` (UTC days, both included), `format`."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.DateField(help_text="First day of the period (from 00:00 UTC)."),
            "to": serializers.DateField(help_text="Last day of the period (up to 24:00 UTC)."),
            "format": serializers.ChoiceField(
                choices=list(audit.FORMATS),
                default="json",
                help_text="`json` (the default) or `csv` (also chosen by `Accept: text/csv`).",
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = audit.period_errors(attrs.get("from"), attrs.get("to"))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AuditEventSerializer(serializers.Serializer):
    """One event in an audit export, with what its hash covers as the hash covers it."""

    subject_type = serializers.ChoiceField(choices=ChainSubject.choices)
    subject_id = serializers.IntegerField()
    seq = serializers.IntegerField(min_value=1)
    id = serializers.IntegerField()
    kind = serializers.CharField()
    application = serializers.IntegerField(allow_null=True)
    shipment = serializers.IntegerField(allow_null=True)
    decision = serializers.IntegerField(allow_null=True)
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    occurred_at = serializers.DateTimeField(help_text="UTC, with microseconds.")
    recorded_at = serializers.DateTimeField(help_text="UTC, with microseconds.")
    actor = serializers.IntegerField(allow_null=True, help_text="The user's id.")
    actor_username = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    corrects = serializers.IntegerField(allow_null=True)
    prev_hash = hash_field()
    hash = hash_field()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["data"] = serializers.JSONField(help_text="As stored (canonical JSON).")
        return fields


class AuditHeadSerializer(serializers.Serializer):
    """A chain's latest event at the end of the period."""

    subject_type = serializers.ChoiceField(choices=ChainSubject.choices)
    subject_id = serializers.IntegerField()
    seq = serializers.IntegerField(min_value=1)
    event = serializers.IntegerField()
    hash = hash_field()


class AuditExporterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AuditExportSerializer(serializers.Serializer):
    """An exporter's events recorded in a period, its chains' heads at the end of it, and the
    digest of those heads."""

    exporter = AuditExporterSerializer()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField(help_text="The instant after the period.")
    generated_at = serializers.DateTimeField()
    events = AuditEventSerializer(many=True)
    heads = AuditHeadSerializer(many=True)
    digest = hash_field(help_text="sha256 of the heads' lines (see the README).")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class DocumentSerializer(StrictMixin, serializers.ModelSerializer):
    """A document attached to an application. Uploaded as `multipart/form-data` with `kind`
    and `file`; its content is checked against its declared type and its name sanitised."""

    file = serializers.FileField(
        write_only=True,
        help_text="PDF, PNG, JPEG, Word (.docx) or plain text; at most `DOCUMENT_MAX_BYTES`.",
    )
    uploaded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who attached it.",
    )
    download = serializers.SerializerMethodField(help_text="Where to download it (GET).")

    class Meta:
        model = Document
        fields = [
            "id",
            "application",
            "kind",
            "filename",
            "content_type",
            "size",
            "uploaded_at",
            "uploaded_by",
            "download",
            "file",
        ]
        read_only_fields = [
            "id",
            "application",
            "filename",
            "content_type",
            "size",
            "uploaded_at",
            "uploaded_by",
            "download",
        ]
        extra_kwargs = {
            "filename": {"help_text": "The uploaded name, sanitised."},
            "size": {"help_text": "In bytes."},
        }

    def get_download(self, document: Document) -> str:
        from django.urls import reverse

        path = reverse(
            "application-document-download",
            kwargs={"application_pk": document.application_id, "pk": document.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


# --- measures --------------------------------------------------------------------------------


class SuspensionSerializer(StrictSerializer):
    """A period, both days included, during which a measure does not apply."""

    # "from" is a Python keyword: declared through the class namespace.
    locals()["from"] = serializers.DateField(help_text="First day of the suspension.")
    until = serializers.DateField(
        required=False, allow_null=True, help_text="Last day (included); null: open-ended."
    )
    reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="What suspends it."
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return suspension_data([instance])[0]


class MeasureSerializer(StrictMixin, serializers.ModelSerializer):
    authority = serializers.SlugRelatedField(slug_field="code", queryset=Authority.objects.all())
    suspensions = SuspensionSerializer(
        many=True, required=False, help_text="Periods during which it does not apply."
    )
    items = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ControlledItem.objects.all(), required=False
    )
    destinations = serializers.ListField(
        child=CountryCodeField(max_length=2),
        required=False,
        max_length=300,
        help_text="ISO 3166 alpha-2 codes it covers; empty: any destination.",
    )
    status = serializers.SerializerMethodField(
        help_text="Today's status, on the authority's date: scheduled, in_force, suspended, ended."
    )

    class Meta:
        model = Measure
        fields = [
            "id",
            "authority",
            "reference",
            "title",
            "kind",
            "announced_on",
            "effective_from",
            "effective_until",
            "suspensions",
            "items",
            "destinations",
            "source",
            "note",
            "status",
        ]
        # The services validate (one message whatever the surface).
        validators: list[Any] = []

    @extend_schema_field(serializers.ChoiceField(choices=MeasureStatus.choices))
    def get_status(self, measure: Measure) -> str:
        now = self.context.get("now") or timezone.now()
        day = measures.today(measure.authority, now)
        return measures.status_on(measure, list(measure.suspensions.all()), day)

    def to_representation(self, instance: Measure) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["suspensions"] = suspension_data(instance.suspensions.all())
        data["items"] = sorted(data["items"])
        return data

    def _writes(self, validated_data: dict[str, Any]) -> dict[str, Any]:
        if "suspensions" in validated_data:
            validated_data["suspensions"] = [dict(s) for s in validated_data["suspensions"]]
        return validated_data

    def create(self, validated_data: dict[str, Any]) -> Measure:
        return services.measure_create(
            actor=self.context["request"].user,
            now=self.context["now"],
            **self._writes(validated_data),
        )

    def update(self, instance: Measure, validated_data: dict[str, Any]) -> Measure:  # type: ignore[override]
        return services.measure_update(
            measure=instance,
            actor=self.context["request"].user,
            now=self.context["now"],
            **self._writes(validated_data),
        )
