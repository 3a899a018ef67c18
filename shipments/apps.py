from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from licenses import roles


class ShipmentsConfig(AppConfig):
    name = "shipments"
    verbose_name = _("Shipments")
    default_auto_field = "django.db.models.BigAutoField"
    role_permissions = {
        roles.VIEWER: roles.grants("shipments", ["consignee", "shipment"], ("view",)),
        roles.OFFICER: roles.grants("shipments", ["consignee", "shipment"], ("add", "change"))
        | {"shipments.move_shipment"},
    }

    def ready(self) -> None:
        from licenses.timeline import register_labels

        from . import receivers  # noqa: F401  (follow application moves)
        from .models import ShipmentStatus

        register_labels(dict(ShipmentStatus.choices), sides=["shipment"])
