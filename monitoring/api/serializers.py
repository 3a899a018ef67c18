"""What the API shows of flags and webhooks (the SPEC's contract)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.serializers import ScopedPrimaryKeyRelatedField, StrictMixin
from licenses.selectors import exporter_list
from monitoring import webhooks
from monitoring.models import (
    Flag,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from monitoring.webhooks import SECRET_MAX, SECRET_MIN


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


# --- webhooks ----------------------------------------------------------------------------------

# What `monitoring.webhooks.validate_url` accepts, stated for the schema: https to a named host,
# or http to this machine (a receiver under test).
_PATH = r"(/[A-Za-z0-9._~/-]*)?"
_PORT = (
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
)
_LABEL = r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?"
URL_PATTERN = (
    rf"^(https://{_LABEL}(\.{_LABEL})*\.[a-z]{{2,12}}{_PORT}{_PATH}"
    rf"|http://(localhost|127\.0\.0\.1|\[::1\]){_PORT}{_PATH})$"
)


class WebhookSerializer(StrictMixin, serializers.ModelSerializer):
    url = serializers.CharField(
        max_length=500,
        validators=[
            RegexValidator(
                URL_PATTERN,
                _("Enter an https:// URL (http:// only to localhost, 127.0.0.1 or [::1])."),
            )
        ],
        help_text="Where events are POSTed: https, or http to localhost only.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        required=False,
        max_length=len(WebhookEvent.choices),
        help_text="The types of event to send; empty: all.",
    )
    exporters = ScopedPrimaryKeyRelatedField(
        selector=exporter_list,
        many=True,
        required=False,
        help_text="Only these exporters' events; empty: every exporter the owner may see.",
    )
    secret = serializers.CharField(
        write_only=True,
        min_length=SECRET_MIN,
        max_length=SECRET_MAX,
        help_text="The key of the HMAC-SHA256 signature (`X-Tracker-Signature`). Write-only.",
    )
    owner: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "exporters", "secret", "active", "owner", "created_at"]
        read_only_fields = ["id", "owner", "created_at"]

    def validate_url(self, value: str) -> str:
        try:
            webhooks.validate_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value

    def create(self, validated_data: dict[str, Any]) -> Webhook:
        return webhooks.webhook_create(
            owner=self.context["request"].user, now=self.context["now"], **validated_data
        )

    def update(self, instance: Webhook, validated_data: dict[str, Any]) -> Webhook:  # type: ignore[override]
        return webhooks.webhook_update(webhook=instance, **validated_data)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms", "manual", "ok"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "type",
            "state",
            "occurred_at",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "attempts",
        ]
        read_only_fields = fields
