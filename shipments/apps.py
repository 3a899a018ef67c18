from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShipmentsConfig(AppConfig):
    name = "shipments"
    verbose_name = _("Shipments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from licenses.timeline import register_labels

        from . import receivers  # noqa: F401  (follow application moves)
        from .models import FlagKind, ShipmentStatus

        register_labels(dict(ShipmentStatus.choices), sides=["shipment"])
        register_labels({f"flag:{k}": v for k, v in FlagKind.choices})
