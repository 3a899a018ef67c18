"""What the API shows of flags (the SPEC's contract)."""

from __future__ import annotations

from rest_framework import serializers

from monitoring.models import Flag


class FlagSerializer(serializers.ModelSerializer):
    open = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = [
            "id",
            "application",
            "shipment",
            "exporter",
            "kind",
            "raised_at",
            "cleared_at",
            "notified_at",
            "open",
        ]
        read_only_fields = fields

    def get_open(self, flag: Flag) -> bool:
        return flag.cleared_at is None
