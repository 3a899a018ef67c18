"""What the API shows and accepts of consignees and shipments (the SPEC's contract)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import ScopedPrimaryKeyRelatedField, StrictMixin
from licenses import selectors as license_selectors
from licenses.api.serializers import (
    FLAG_KINDS,
    CleanModelSerializer,
    LegalMovesField,
    MoveSerializer,
)
from licenses.models import ControlledItem
from shipments import selectors, services
from shipments.models import Consignee, Shipment
from shipments.services import legal_shipment_moves
from shipments.services.requirements import MeasureBook


class ConsigneeSerializer(CleanModelSerializer):
    exporter = ScopedPrimaryKeyRelatedField(license_selectors.exporter_list)

    class Meta:
        model = Consignee
        fields = ["id", "exporter", "name", "country", "end_use", "address"]

    def create(self, validated_data: dict[str, Any]) -> Consignee:
        return services.consignee_create(
            now=self.context["now"], actor=self.context["request"].user, **validated_data
        )

    def update(self, instance: Consignee, validated_data: dict[str, Any]) -> Consignee:  # type: ignore[override]
        return services.consignee_update(
            consignee=instance,
            now=self.context["now"],
            actor=self.context["request"].user,
            **validated_data,
        )


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "enum": list(FLAG_KINDS)}, "readOnly": True}
)
class ShipmentFlagsField(serializers.ReadOnlyField):
    """Kinds of its own open flags and of its application's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Shipment) -> list[str]:
        kinds = {flag.kind for flag in getattr(value, "open_flags", [])}
        if value.application is not None:
            kinds |= {flag.kind for flag in getattr(value.application, "open_flags", [])}
        return sorted(kinds)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string"},
        "readOnly": True,
        "description": "References of the measures that apply to its item and destination on "
        "its planned ship date.",
    }
)
class ShipmentMeasuresField(serializers.ReadOnlyField):
    """The measures (any kind) that apply to it on its ship date. The measures are read once
    per request (kept in the serializer's context), whatever the number of shipments shown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Shipment) -> list[str]:
        context = self.context if isinstance(self.context, dict) else {}
        book = context.get("measure_book")
        if book is None:
            book = MeasureBook.load()
            if isinstance(self.context, dict):
                context["measure_book"] = book
        return [
            r.reference
            for r in book.applying(
                item_id=value.item_id, destination=value.destination, day=value.planned_ship_date
            )
        ]


class ShipmentSerializer(StrictMixin, serializers.ModelSerializer):
    # Years the schema states (core.api.schema.truthful_dates): a new shipment is never
    # planned for a day in the past.
    schema_years = {"planned_ship_date": "today-9999"}
    exporter = ScopedPrimaryKeyRelatedField(license_selectors.exporter_list)
    item = serializers.PrimaryKeyRelatedField(queryset=ControlledItem.objects.all())
    consignee = ScopedPrimaryKeyRelatedField(
        selectors.consignee_list, required=False, allow_null=True
    )
    application = ScopedPrimaryKeyRelatedField(
        license_selectors.application_list, required=False, allow_null=True
    )
    unit = serializers.CharField(
        required=False,
        max_length=10,
        help_text="The item's unit; given, it must be the item's unit.",
    )
    flags = ShipmentFlagsField()
    legal_moves = LegalMovesField(legal_shipment_moves, help_text="Moves legal now.")
    license_required = serializers.BooleanField(
        read_only=True,
        help_text="Whether a control measure applies to it on its planned ship date (an item "
        "no measure names always needs a license).",
    )
    measures = ShipmentMeasuresField()
    file_by_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Its last day to file an application; null when it needs none.",
    )

    class Meta:
        model = Shipment
        fields = [
            "id",
            "exporter",
            "reference",
            "item",
            "quantity",
            "unit",
            "value",
            "currency",
            "destination",
            "consignee",
            "planned_ship_date",
            "application",
            "status",
            "flags",
            "legal_moves",
            "license_required",
            "measures",
            "file_by_date",
            "last_moved_at",
            "shipped_at",
            "shipped_quantity",
            "transport_document",
            "customs_declaration",
            "delivered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "last_moved_at",
            "shipped_at",
            "shipped_quantity",
            "transport_document",
            "customs_declaration",
            "delivered_at",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        item = attrs.get("item", getattr(self.instance, "item", None))
        unit = attrs.pop("unit", None)
        if unit is not None and item is not None and unit != item.unit:
            raise serializers.ValidationError(
                {"unit": _("The item is counted in %(unit)s.") % {"unit": item.unit}}
            )
        exporter = attrs.get("exporter", getattr(self.instance, "exporter", None))
        reference = attrs.get("reference", getattr(self.instance, "reference", None))
        if exporter is not None and reference is not None:
            clash = Shipment.objects.filter(exporter=exporter, reference=reference)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"reference": _("The exporter already has a shipment with this reference.")}
                )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Shipment:
        from shipments import services

        return services.shipment_create(
            now=self.context["now"], actor=self.context["request"].user, **validated_data
        )

    def update(self, instance: Shipment, validated_data: dict[str, Any]) -> Shipment:
        from shipments import services

        return services.shipment_update(
            shipment=instance,
            now=self.context["now"],
            actor=self.context["request"].user,
            **validated_data,
        )


class ShipSerializer(MoveSerializer):
    """What shipping records besides its moment and note; the service checks each (400 naming
    the field): a positive quantity with at most 3 decimals that the license covers."""

    shipped_quantity = serializers.DecimalField(
        max_digits=16,
        decimal_places=3,
        min_value=Decimal("0.001"),
        required=False,
        allow_null=True,
        help_text="The quantity that left, in the shipment's unit (default: the planned "
        "quantity). On a general license the drawdown follows it.",
    )
    transport_document = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Bill of lading, air waybill or other transport document number.",
    )
    customs_declaration = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The customs declaration number (MRN).",
    )


class ShipmentImportSerializer(StrictMixin, serializers.Serializer):
    """The CSV import's request: `multipart/form-data` with the file (the web import's file)."""

    file = serializers.FileField(
        allow_empty_file=True,
        help_text=(
            "The CSV file, with the template's header (`reference`, "
            "`exporter_registration_number`, `authority`, `item_code`, `quantity`, `value`, "
            "`currency`, `destination`, `consignee`, `planned_ship_date`, "
            "`application_reference`): UTF-8 or GB18030 (GBK), separated by commas, "
            "semicolons or tabs; at most `IMPORT_MAX_BYTES` and `IMPORT_MAX_ROWS` rows."
        ),
    )


class ImportRowErrorSerializer(serializers.Serializer):
    """One error of an import (for the schema)."""

    row = serializers.IntegerField(
        help_text="The file's line: 1 is the header, data starts at 2; 0 for the whole file."
    )
    column = serializers.CharField(help_text="The column (or columns) to blame; may be empty.")
    message = serializers.CharField()


class ShipmentImportResultSerializer(serializers.Serializer):
    """The import's answer (for the schema)."""

    created = serializers.IntegerField(help_text="How many shipments were created.")
    shipments = ShipmentSerializer(many=True, help_text="The shipments created, in file order.")
