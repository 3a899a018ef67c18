"""Consignees and shipments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.lookups import ids_in
from licenses.models import (
    POSITIVE,
    ControlledItem,
    Exporter,
    LicenseApplication,
    country_code,
    currency_code,
)


class Consignee(models.Model):
    """An exporter's customer."""

    exporter = models.ForeignKey(Exporter, on_delete=models.PROTECT, related_name="consignees")
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, validators=[country_code])
    address = models.TextField(_("address"), blank=True)
    end_use = models.TextField(_("end use"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("consignee")
        verbose_name_plural = _("consignees")
        indexes = [models.Index(fields=["exporter", "name"], name="consignee_exporter_name")]

    def __str__(self) -> str:
        return self.name


class ShipmentStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    AWAITING_LICENSE = "awaiting_license", _("awaiting license")
    CLEARED = "cleared", _("cleared")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    ON_HOLD = "on_hold", _("on hold")
    CANCELLED = "cancelled", _("cancelled")


# How a sentence says a shipment is in a state ("The shipment is already shipped.").
STATUS_PHRASES = {
    ShipmentStatus.PLANNED: _("planned, with no license in force"),
    ShipmentStatus.AWAITING_LICENSE: _("waiting for its license"),
    ShipmentStatus.CLEARED: _("cleared to ship"),
    ShipmentStatus.SHIPPED: _("already shipped"),
    ShipmentStatus.DELIVERED: _("already delivered"),
    ShipmentStatus.ON_HOLD: _("on hold"),
    ShipmentStatus.CANCELLED: _("cancelled"),
}


def status_phrase(status: str) -> str:
    """The words after "The shipment is …" for a state."""
    return str(STATUS_PHRASES.get(status, status))  # type: ignore[call-overload]


# States that follow the application; the officer's states are never overwritten by it.
FOLLOWING_STATUSES = (
    ShipmentStatus.PLANNED,
    ShipmentStatus.AWAITING_LICENSE,
    ShipmentStatus.CLEARED,
)


class Shipment(models.Model):
    """Goods one exporter plans to send, and the application that covers them."""

    exporter = models.ForeignKey(Exporter, on_delete=models.PROTECT, related_name="shipments")
    reference = models.CharField(_("our reference"), max_length=60)
    item = models.ForeignKey(ControlledItem, on_delete=models.PROTECT, related_name="shipments")
    quantity = models.DecimalField(
        _("quantity"), max_digits=16, decimal_places=3, validators=[POSITIVE]
    )
    unit = models.CharField(_("unit"), max_length=10, editable=False)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, validators=[POSITIVE])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code])
    destination = models.CharField(_("destination"), max_length=2, validators=[country_code])
    consignee = models.ForeignKey(
        Consignee, on_delete=models.PROTECT, related_name="shipments", null=True, blank=True
    )
    planned_ship_date = models.DateField(_("planned ship date"))
    application = models.ForeignKey(
        LicenseApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ShipmentStatus.choices,
        default=ShipmentStatus.PLANNED,
        editable=False,
    )
    last_moved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Its last day to file is kept in its own narrow table (`FilingDeadline`, below): see there.
    # Whether a `control` measure applies to its item and destination on its planned ship date
    # (an item no measure names always needs one), and whether one applies today: kept,
    # set-based, by shipments.services.requirements whenever a measure or the ship date changes
    # and daily. They differ before shipping: the `control_change` flag.
    license_required = models.BooleanField(_("license required"), default=True, editable=False)
    license_required_today = models.BooleanField(default=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What the `ship` move recorded: the quantity that left (the planned one unless told), the
    # transport document (bill of lading, air waybill…) and the customs declaration (MRN).
    shipped_quantity = models.DecimalField(
        _("shipped quantity"),
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        editable=False,
        validators=[POSITIVE],
    )
    transport_document = models.CharField(
        _("transport document"), max_length=100, blank=True, editable=False
    )
    customs_declaration = models.CharField(
        _("customs declaration (MRN)"), max_length=40, blank=True, editable=False
    )
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        permissions = [("move_shipment", "Can move shipments through their states")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ShipmentStatus.values), name="shipment_valid_status"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_quantity_positive"),
            models.CheckConstraint(condition=Q(value__gt=0), name="shipment_value_positive"),
            models.UniqueConstraint(
                fields=["exporter", "reference"], name="shipment_reference_unique"
            ),
        ]
        indexes = [
            # `at_risk` and `file_by`: open shipments by ship date.
            models.Index(
                fields=["planned_ship_date"],
                name="shipment_open_ship_date",
                condition=Q(status__in=["planned", "awaiting_license", "cleared", "on_hold"]),
            ),
            # The shipments list's default order, unfiltered and by state: its first page read
            # from an index, not the whole table sorted (nor walked by ship date past the
            # shipped ones, which come first).
            models.Index(fields=["planned_ship_date", "id"], name="shipment_ship_date_id"),
            models.Index(
                fields=["status", "planned_ship_date", "id"], name="shipment_status_ship_date"
            ),
            # `control_change`: before shipping, today's need for a license differs from the
            # ship date's (few rows: the index holds only them).
            models.Index(
                fields=["planned_ship_date"],
                name="shipment_control_change",
                condition=Q(status__in=["planned", "awaiting_license", "cleared", "on_hold"])
                & ~Q(license_required=models.F("license_required_today")),
            ),
            models.Index(fields=["exporter", "status"], name="shipment_exporter_status"),
            models.Index(fields=["status", "-id"], name="shipment_status_id"),
            models.Index(fields=["destination", "-id"], name="shipment_destination_id"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if self.item_id and not self.unit:
            self.unit = self.item.unit
        super().save(*args, **kwargs)

    @property
    def status_phrase(self) -> str:
        """Its state as a sentence says it: "already shipped"."""
        return status_phrase(self.status)

    @property
    def file_by_date(self) -> Any:
        """Its last day to file (`FilingDeadline.file_by_date`), or None when it has none. Lists
        load it with `select_related("deadline")`."""
        deadline = self._deadline()
        return deadline.file_by_date if deadline else None

    @property
    def file_by_at(self) -> Any:
        """The instant its last day to file ends, or None."""
        deadline = self._deadline()
        return deadline.file_by_at if deadline else None

    def forget_deadline(self) -> None:
        """Its deadline was written elsewhere (set-based): read it again when next asked."""
        self._state.fields_cache.pop("deadline", None)

    def _deadline(self) -> FilingDeadline | None:
        if self.pk is None:
            return None
        try:
            return self.deadline  # type: ignore[attr-defined,no-any-return]
        except FilingDeadline.DoesNotExist:
            return None

    def clean(self) -> None:
        """A shipment must match the application that covers it and the consignee it goes to."""
        errors: dict[str, Any] = {}
        if self.item_id:
            self.unit = self.item.unit
        consignee = self.consignee
        if consignee is not None and self.exporter_id and consignee.exporter_id != self.exporter_id:
            errors["consignee"] = _("This consignee belongs to another exporter.")
        app = self.application
        if app is not None:
            if self.exporter_id and app.exporter_id != self.exporter_id:
                errors["application"] = _("The application was filed by another exporter.")
            elif self.destination and app.destination != self.destination:
                errors["destination"] = _(
                    "The application is for destination %(dest)s, not %(this)s."
                ) % {"dest": app.destination, "this": self.destination}
            elif self.item_id and not app.items.filter(pk=self.item_id).exists():
                errors["item"] = _("This item is not among the application's items.")
            elif self.currency and app.currency != self.currency:
                errors["currency"] = _("The application is in %(cur)s, not %(this)s.") % {
                    "cur": app.currency,
                    "this": self.currency,
                }
            elif self.item_id:
                app_units = set(app.items.values_list("unit", flat=True))
                if app_units and self.item.unit not in app_units:
                    errors["item"] = _("The application counts quantities in another unit.")
        if errors:
            raise ValidationError(errors)


class FilingDeadline(models.Model):
    """A shipment's last day to file its application so that the window that would govern it
    (plus the acceptance window where the clock starts at acceptance) ends by the planned ship
    date, and the instant that day ends in the authority's time zone: the `file_by` flag's
    stored, indexed deadline. Kept by `monitoring.scan.refresh_file_by` (see its docstring for
    when); a shipment that needs no license has no row.

    Its own narrow table, not two columns of the shipment: a fast-track decision or a calendar
    change moves hundreds of thousands of deadlines at once, and updating them here rewrites a
    row of three columns under two indexes instead of a wide shipment row under all of its
    indexes."""

    shipment = models.OneToOneField(
        Shipment, on_delete=models.CASCADE, primary_key=True, related_name="deadline"
    )
    file_by_date = models.DateField(_("file by"))
    file_by_at = models.DateTimeField()
    # Whether the shipment is `planned` (no application in force), the only state in which
    # its deadline is work to do: it follows the shipment's moves (`follow_status`), so the
    # `file_by` flag and the work queue read the deadlines that matter from a partial index.
    planned = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("filing deadline")
        verbose_name_plural = _("filing deadlines")
        indexes = [
            # `file_by` and the work queue: the deadlines of planned shipments, in order. On
            # PostgreSQL it also carries `file_by_date` (INCLUDE, migration 0011), so the work
            # queue counts those within its horizon from the index alone.
            models.Index(
                fields=["file_by_at"], name="filing_deadline_planned", condition=Q(planned=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.file_by_date}"


def follow_status(shipment_ids: Any) -> int:
    """The deadlines of these shipments say again whether the shipment is `planned`: called
    by every service that moves shipments, after it moved them. Returns the rows changed."""
    planned = Shipment.objects.filter(pk=models.OuterRef("shipment_id"), status="planned")
    return (
        FilingDeadline.objects.filter(ids_in("shipment_id", list(shipment_ids)))
        .exclude(planned=models.Exists(planned))
        .update(planned=models.Exists(planned))
    )
