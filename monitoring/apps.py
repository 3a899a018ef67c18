from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from licenses import roles


class MonitoringConfig(AppConfig):
    """Flags, the scan, file-by deadlines, alerts, digests, preferences and the dashboard: the
    layer that watches `licenses` and `shipments` and tells people."""

    name = "monitoring"
    verbose_name = _("Monitoring")
    default_auto_field = "django.db.models.BigAutoField"
    role_permissions = {
        roles.VIEWER: {"monitoring.view_flag"},
        roles.MANAGER: {
            "monitoring.view_alert",
            "monitoring.view_scansettings",
            # their own webhooks (`monitoring.webhooks`); an administrator sees everyone's
            "monitoring.view_webhook",
            "monitoring.add_webhook",
            "monitoring.change_webhook",
            "monitoring.delete_webhook",
        },
    }

    def ready(self) -> None:
        from licenses import flags
        from licenses.timeline import register_labels

        from . import receivers  # noqa: F401
        from .models import FlagKind
        from .selectors import FLAG_SOURCE

        flags.register(FLAG_SOURCE)
        from licenses import events

        from .webhooks import WebhookSink

        events.register_sink(WebhookSink())
        register_labels({f"flag:{k}": v for k, v in FlagKind.choices})
