"""Authorities, their calendars, controlled items, exporters, license applications, review
windows, fast-track decisions, documents and the append-only event log.

State fields are written only by the services in `licenses.services`; everything else reads.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.countries import CountryCodeValidator
from core.idempotency import AbstractIdempotentRequest

# Assigned ISO 3166-1 alpha-2 codes only (`ZZ`, `XX` are refused), naming the value.
country_code = CountryCodeValidator()
currency_code = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code."))
POSITIVE = MinValueValidator(Decimal("0.001"))


class WindowUnit(models.TextChoices):
    WORKING = "working", _("working days")
    CALENDAR = "calendar", _("calendar days")


class ClockStart(models.TextChoices):
    SUBMITTED = "submitted", _("at submission")
    ACCEPTED = "accepted", _("at acceptance")


class Authority(models.Model):
    """A licensing body with its own calendar and review clock."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, validators=[country_code])
    time_zone = models.CharField(_("time zone"), max_length=64)
    calendar_country = models.CharField(
        _("holiday calendar"),
        max_length=2,
        help_text=_("Country whose public holidays and make-up workdays the clock follows."),
    )
    calendar_subdivision = models.CharField(
        _("calendar subdivision"), max_length=10, blank=True, help_text=_("e.g. ENG for England")
    )
    window_days = models.PositiveIntegerField(_("default review window"))
    window_unit = models.CharField(
        _("window unit"), max_length=10, choices=WindowUnit.choices, default=WindowUnit.WORKING
    )
    clock_starts = models.CharField(
        _("clock starts"), max_length=10, choices=ClockStart.choices, default=ClockStart.SUBMITTED
    )
    acceptance_window_days = models.PositiveIntegerField(
        _("acceptance window"),
        default=10,
        help_text=_("Days, in the authority's unit, from submission to acceptance."),
    )
    reply_window_days = models.PositiveIntegerField(
        _("reply window"),
        null=True,
        blank=True,
        help_text=_("Days the applicant has to answer a request for information; empty: none."),
    )
    reply_window_unit = models.CharField(
        _("reply window unit"),
        max_length=10,
        choices=WindowUnit.choices,
        default=WindowUnit.WORKING,
    )
    amendment_window_days = models.PositiveIntegerField(
        _("amendment window"),
        null=True,
        blank=True,
        help_text=_(
            "Days, in the authority's unit, to decide an amendment; empty: the review window."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_unit__in=WindowUnit.values), name="authority_valid_window_unit"
            ),
            models.CheckConstraint(
                condition=Q(clock_starts__in=ClockStart.values), name="authority_valid_clock_start"
            ),
            models.CheckConstraint(
                condition=Q(window_days__gt=0), name="authority_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(reply_window_unit__in=WindowUnit.values),
                name="authority_valid_reply_window_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc
        # The clock builds its calendar from the `holidays` package: an unknown country or
        # subdivision there would break every due-date computation of this authority.
        import holidays

        try:
            holidays.country_holidays(
                self.calendar_country, subdiv=self.calendar_subdivision or None, years=[]
            )
        except NotImplementedError as exc:
            field = "calendar_subdivision" if self.calendar_subdivision else "calendar_country"
            raise ValidationError({field: _("The holidays calendar does not know it.")}) from exc

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class CalendarDay(models.Model):
    """A day an administrator adds to an authority's calendar: an extra holiday or workday."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday (no work)")
        WORKDAY = "workday", _("working day")

    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="calendar_days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        ordering = ["authority", "date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(fields=["authority", "date"], name="calendar_day_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["holiday", "workday"]), name="calendar_day_valid_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authority_id} {self.date} {self.kind}"


class ControlledItem(models.Model):
    """An entry of an authority's control list: shared reference data."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="items")
    code = models.CharField(_("code"), max_length=40)
    description = models.CharField(_("description"), max_length=300)
    material = models.CharField(_("material"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, default="kg")

    class Meta:
        ordering = ["authority", "code"]
        verbose_name = _("controlled item")
        verbose_name_plural = _("controlled items")
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="item_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.material or self.description}"


class Exporter(models.Model):
    """A legal entity that applies for licenses and ships goods."""

    name = models.CharField(_("name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, validators=[country_code])
    address = models.TextField(_("address"), blank=True)
    contact_emails = models.JSONField(
        _("compliance contact e-mails"),
        default=list,
        blank=True,
        help_text=_("Who receives immediate alerts."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("exporter")
        verbose_name_plural = _("exporters")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.validators import validate_email

        if not isinstance(self.contact_emails, list):
            raise ValidationError({"contact_emails": _("Give a list of e-mail addresses.")})
        for address in self.contact_emails:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError(
                    {
                        "contact_emails": _("%(value)s is not an e-mail address.")
                        % {"value": address}
                    }
                ) from exc


class UserProfile(models.Model):
    """What a user may see: all exporters, or only the ones listed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    limited_to_exporters = models.BooleanField(
        _("limited to some exporters"),
        default=False,
        help_text=_("When set, the user sees only the exporters below and nothing of any other."),
    )
    exporters = models.ManyToManyField(Exporter, blank=True, related_name="limited_users")

    class Meta:
        verbose_name = _("user profile")

    def __str__(self) -> str:
        return str(self.user)


class LicenseType(models.TextChoices):
    INDIVIDUAL = "individual", _("individual")
    GENERAL = "general", _("general")


class Status(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    INFO_REQUESTED = "info_requested", _("information requested")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")
    EXHAUSTED = "exhausted", _("exhausted")
    REFERRED = "referred", _("referred")
    RETURNED = "returned", _("returned")
    SUSPENDED = "suspended", _("suspended")
    REVOKED = "revoked", _("revoked")
    SURRENDERED = "surrendered", _("surrendered")
    AMENDMENT_REQUESTED = "amendment_requested", _("amendment requested")


# How a sentence says an application is in a state ("The application is still a draft."):
# the state's label alone does not read as English ("The application is draft.").
STATUS_PHRASES = {
    Status.DRAFT: _("still a draft"),
    Status.SUBMITTED: _("submitted to the authority"),
    Status.ACCEPTED: _("accepted for review"),
    Status.INFO_REQUESTED: _("paused while the authority waits for information"),
    Status.APPROVED: _("approved"),
    Status.REJECTED: _("rejected"),
    Status.WITHDRAWN: _("withdrawn"),
    Status.EXPIRED: _("expired"),
    Status.EXHAUSTED: _("fully drawn down"),
    Status.REFERRED: _("referred for further review"),
    Status.RETURNED: _("returned without action"),
    Status.SUSPENDED: _("suspended"),
    Status.REVOKED: _("revoked"),
    Status.SURRENDERED: _("surrendered"),
    Status.AMENDMENT_REQUESTED: _("waiting on a requested amendment"),
}


def status_phrase(status: str) -> str:
    """The words after "The application is …" for a state."""
    return str(STATUS_PHRASES.get(status, status))  # type: ignore[call-overload]


# Waiting on the authority's decision. `referred` has no time limit (no due date).
PENDING_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.INFO_REQUESTED, Status.REFERRED)
# States whose clock runs against a due date: the pending ones, and an approved license's
# requested amendment (the authority's amendment window).
CLOCKED_STATUSES = (*PENDING_STATUSES, Status.AMENDMENT_REQUESTED)
# The same as plain strings, for index conditions (their migrations state the values).
CLOCKED_VALUES = [str(status.value) for status in CLOCKED_STATUSES]
# Approved, whatever became of the license since: the states under which a license existed.
LICENSED_STATUSES = (
    Status.APPROVED,
    Status.EXPIRED,
    Status.EXHAUSTED,
    Status.SUSPENDED,
    Status.REVOKED,
    Status.SURRENDERED,
    Status.AMENDMENT_REQUESTED,
)


class PauseReason(models.TextChoices):
    """Why the clock stopped: each stops it; `provide-info/` ends any of them."""

    INFORMATION = "information", _("information requested")
    EXPERT_REVIEW = "expert_review", _("expert review")
    INSPECTION = "inspection", _("on-site inspection")
    IDENTIFICATION = "identification", _("item identification")


class ReferralReason(models.TextChoices):
    STATE_COUNCIL = "state_council", _("reported to the State Council")
    WATCH_LIST = "watch_list", _("end user on the watch list")
    INTERAGENCY = "interagency", _("interagency review")


class LicenseApplication(models.Model):
    """One exporter's application to one authority for one destination."""

    exporter = models.ForeignKey(Exporter, on_delete=models.PROTECT, related_name="applications")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="applications")
    license_type = models.CharField(
        _("license type"),
        max_length=12,
        choices=LicenseType.choices,
        default=LicenseType.INDIVIDUAL,
    )
    items = models.ManyToManyField(ControlledItem, related_name="applications")
    destination = models.CharField(_("destination"), max_length=2, validators=[country_code])
    reference = models.CharField(_("our reference"), max_length=60)
    authority_reference = models.CharField(
        _("authority's case number"), max_length=60, null=True, blank=True
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=16, decimal_places=3, validators=[POSITIVE]
    )
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, validators=[POSITIVE])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code])

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)
    # The moment of the latest move: a new move may not be dated before it.
    last_moved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The window that governs now (days in the authority's unit), and where it came from.
    window_days = models.PositiveIntegerField(null=True, blank=True, editable=False)
    window_source = models.CharField(max_length=60, blank=True, editable=False)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, editable=False)
    # The open pause's reason (null when the clock runs), and while a request of reason
    # `information` is open, the end of the authority's day the reply is due.
    pause_reason = models.CharField(
        _("pause reason"),
        max_length=20,
        choices=PauseReason.choices,
        null=True,
        blank=True,
        editable=False,
    )
    reply_due_at = models.DateTimeField(_("reply due at"), null=True, blank=True, editable=False)
    # Why the case was referred (set by `refer/`, kept as its record until a resubmission).
    referral_reason = models.CharField(
        _("referral reason"),
        max_length=20,
        choices=ReferralReason.choices,
        null=True,
        blank=True,
        editable=False,
    )

    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    license_number = models.CharField(
        _("license number"), max_length=60, blank=True, editable=False
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True, editable=False)
    approved_quantity = models.DecimalField(
        max_digits=16, decimal_places=3, null=True, blank=True, editable=False
    )
    approved_value = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )
    rejection_reason = models.TextField(blank=True, editable=False)
    # A requested amendment of the license (Art. 18), while the authority decides it: the new
    # values asked for (empty: unchanged) and the moment of the request (day 0 of its window).
    amendment_quantity = models.DecimalField(
        _("amended quantity"),
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        editable=False,
    )
    amendment_value = models.DecimalField(
        _("amended value"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
    )
    amendment_valid_until = models.DateField(
        _("amended validity"), null=True, blank=True, editable=False
    )
    amendment_requested_at = models.DateTimeField(
        _("amendment requested at"), null=True, blank=True, editable=False
    )
    # The forecast from history (licenses.forecasts; kept by licenses.services.forecasts on
    # every move of the authority's applications and nightly): the dates by which it is
    # decided with even odds and with nine in ten, the history used (level: destination, item
    # or authority; empty: no forecast) and its size. Only while the clock runs.
    forecast_p50 = models.DateField(_("likely decided by"), null=True, blank=True, editable=False)
    forecast_p90 = models.DateField(
        _("nine in ten decided by"), null=True, blank=True, editable=False
    )
    forecast_level = models.CharField(max_length=12, blank=True, editable=False)
    forecast_decided = models.PositiveIntegerField(null=True, blank=True, editable=False)
    forecast_censored = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Its own duration in that history as of the last pass (units from day 0 to its decision,
    # its departure or today, paused days left out; null when its clock never started): what
    # the dashboard's observed figures are estimated from without counting days again.
    history_units = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Drawdown of a general license: what assigned shipments reserve (kept by the services).
    drawn_quantity = models.DecimalField(
        max_digits=16, decimal_places=3, default=Decimal("0"), editable=False
    )
    drawn_value = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("license application")
        verbose_name_plural = _("license applications")
        permissions = [("move_licenseapplication", "Can move applications through their states")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="application_valid_status"
            ),
            models.CheckConstraint(
                condition=Q(license_type__in=LicenseType.values), name="application_valid_type"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="application_quantity_positive"
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="application_value_positive"),
            models.CheckConstraint(
                condition=Q(approved_quantity__isnull=True) | Q(approved_quantity__gt=0),
                name="application_approved_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(approved_value__isnull=True) | Q(approved_value__gt=0),
                name="application_approved_value_positive",
            ),
            models.CheckConstraint(
                condition=Q(amendment_quantity__isnull=True) | Q(amendment_quantity__gt=0),
                name="application_amendment_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(amendment_value__isnull=True) | Q(amendment_value__gt=0),
                name="application_amendment_value_positive",
            ),
            models.CheckConstraint(
                condition=Q(drawn_quantity__gte=0) & Q(drawn_value__gte=0),
                name="application_drawn_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True)
                | Q(submitted_at__isnull=True)
                | Q(decided_at__gte=models.F("submitted_at")),
                name="application_decided_after_submitted",
            ),
            models.UniqueConstraint(
                fields=["exporter", "reference"], name="application_reference_unique"
            ),
            models.UniqueConstraint(
                fields=["authority", "authority_reference"],
                condition=Q(authority_reference__isnull=False) & ~Q(authority_reference=""),
                name="application_authority_reference_unique",
            ),
        ]
        indexes = [
            # The window scan: applications whose clock runs (CLOCKED_STATUSES), by deadline;
            # with the authority, so that a count by authority is read from the index alone.
            models.Index(
                fields=["due_at"],
                include=["authority_id"],
                name="application_pending_due",
                condition=Q(status__in=CLOCKED_VALUES),
            ),
            # The dashboard's overdue applications of each authority: the same applications
            # by authority and deadline, so that each authority's are one range of it, counted
            # from the index alone (with the exporter, for a user limited to some).
            models.Index(
                fields=["authority", "due_at"],
                include=["exporter_id"],
                name="application_overdue_count",
                condition=Q(status__in=CLOCKED_VALUES),
            ),
            # Replies due on requests for information (the `reply_due` flag).
            models.Index(
                fields=["reply_due_at"],
                name="application_info_reply_due",
                condition=Q(status="info_requested"),
            ),
            # The dashboard's approval times: decisions of the last months, with what the
            # chart reads, from the index alone.
            models.Index(
                fields=["decided_at"],
                include=["submitted_at", "authority_id", "exporter_id"],
                name="application_decided",
                condition=Q(
                    status__in=[
                        "approved",
                        "expired",
                        "exhausted",
                        "suspended",
                        "revoked",
                        "surrendered",
                        "amendment_requested",
                    ],
                    decided_at__isnull=False,
                ),
            ),
            # The work queue's replies to give (a request for information, not another pause),
            # in its order: by reply deadline, none last.
            models.Index(
                fields=["reply_due_at", "id"],
                name="application_reply_to_give",
                condition=Q(status="info_requested", pause_reason="information"),
            ),
            # Licenses running out (the `expiring` flag and the daily expiry job) and licenses
            # that end before a shipment's ship date (`license_expires`).
            models.Index(
                fields=["valid_until"],
                name="application_approved_valid",
                condition=Q(
                    status__in=["approved", "suspended", "amendment_requested", "exhausted"]
                ),
            ),
            # (The applications list's default order, the latest submitted first, has an index
            # on PostgreSQL only: `application_submitted_id`, migration 0018.)
            models.Index(fields=["exporter", "status"], name="application_exporter_status"),
            models.Index(fields=["authority", "status"], name="application_authority_status"),
            models.Index(fields=["status", "-id"], name="application_status_id"),
            # Lists sorted and filtered by the forecast; `likely_late` compares it.
            models.Index(
                fields=["forecast_p50"],
                name="application_forecast",
                condition=Q(forecast_p50__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def status_phrase(self) -> str:
        """Its state as a sentence says it: "still a draft", "already shipped"."""
        return status_phrase(self.status)

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


class ClockPause(models.Model):
    """A request for information: the review clock stops until it is provided."""

    application = models.ForeignKey(
        LicenseApplication, on_delete=models.CASCADE, related_name="pauses"
    )
    requested_at = models.DateTimeField()
    provided_at = models.DateTimeField(null=True, blank=True)
    # The state the application returns to when the information is provided.
    resume_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(
        max_length=20, choices=PauseReason.choices, default=PauseReason.INFORMATION
    )

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provided_at__isnull=True)
                | Q(provided_at__gte=models.F("requested_at")),
                name="pause_provided_after_requested",
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(provided_at__isnull=True),
                name="pause_one_open_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.requested_at:%Y-%m-%d} → {self.provided_at or '…'}"


class WindowRule(models.Model):
    """Narrows an authority's review window by controlled item, destination and license type.

    The rule that governs an application is the matching one naming most of the three; among
    equals the newest. Retired rules are kept for the record.
    """

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="window_rules")
    item = models.ForeignKey(
        ControlledItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    destination = models.CharField(
        _("destination"), max_length=2, blank=True, validators=[country_code]
    )
    license_type = models.CharField(
        _("license type"), max_length=12, choices=LicenseType.choices, blank=True
    )
    window_days = models.PositiveIntegerField(_("window"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["authority", "-created_at"]
        verbose_name = _("review-window rule")
        verbose_name_plural = _("review-window rules")
        constraints = [
            models.CheckConstraint(condition=Q(window_days__gt=0), name="rule_window_positive"),
            models.CheckConstraint(
                condition=Q(license_type__in=["", *LicenseType.values]), name="rule_valid_type"
            ),
        ]
        indexes = [models.Index(fields=["authority", "retired_at"], name="rule_authority_active")]

    def __str__(self) -> str:
        parts = [self.authority_id and str(self.authority), self.destination, self.license_type]
        return " · ".join(str(p) for p in parts if p) + f" = {self.window_days}"

    @property
    def specificity(self) -> int:
        return sum(bool(x) for x in (self.item_id, self.destination, self.license_type))


class FastTrackDecision(models.Model):
    """An authority's announced change of pace, in force for a period; revoked, never deleted."""

    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="fast_track_decisions"
    )
    announced_on = models.DateField(_("announced on"))
    source = models.CharField(_("source"), max_length=500)
    window_days = models.PositiveIntegerField(_("new window"))
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until"), null=True, blank=True)
    destinations = models.JSONField(_("destinations"), default=list, blank=True)
    items = models.ManyToManyField(ControlledItem, blank=True, related_name="+")
    exporters = models.ManyToManyField(Exporter, blank=True, related_name="+")
    applications = models.ManyToManyField(LicenseApplication, blank=True, related_name="+")
    note = models.TextField(_("note"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    revocation_note = models.TextField(blank=True, editable=False)
    # Whether its effect is currently applied to due dates (set by the services).
    applied = models.BooleanField(default=False, editable=False)
    affected_count = models.PositiveIntegerField(default=0, editable=False)
    median_change_days = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, editable=False
    )
    # Progress of the latest pass over its scope (applying or un-applying): a large scope is
    # worked through chunk by chunk by a Celery task, and the admin shows how far it got.
    progress_total = models.PositiveIntegerField(default=0, editable=False)
    progress_done = models.PositiveIntegerField(default=0, editable=False)
    progress_kind = models.CharField(max_length=32, blank=True, editable=False)
    progress_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    progress_finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-announced_on", "-created_at"]
        verbose_name = _("fast-track decision")
        verbose_name_plural = _("fast-track decisions")
        permissions = [("revoke_fasttrackdecision", "Can revoke fast-track decisions")]
        constraints = [
            models.CheckConstraint(condition=Q(window_days__gt=0), name="decision_window_positive"),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=models.F("effective_from")),
                name="decision_period_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["authority", "effective_from"], name="decision_authority_from"),
        ]

    def __str__(self) -> str:
        return f"{self.authority_id and self.authority} {self.announced_on}: {self.window_days}"


class MeasureKind(models.TextChoices):
    CONTROL = "control", _("control (needs a license)")
    BAN = "ban", _("ban (refused in principle)")


class MeasureStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    IN_FORCE = "in_force", _("in force")
    SUSPENDED = "suspended", _("suspended")
    ENDED = "ended", _("ended")


class Measure(models.Model):
    """An authority's published rule that puts controlled items under license (`control`) or
    refuses exports in principle (`ban`), for some destinations (empty: any), over a period,
    except during its suspensions. Every change is kept in `MeasureChange`."""

    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="measures")
    reference = models.CharField(_("reference"), max_length=100)
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(
        _("kind"), max_length=10, choices=MeasureKind.choices, default=MeasureKind.CONTROL
    )
    announced_on = models.DateField(_("announced on"))
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(
        _("effective until"), null=True, blank=True, help_text=_("Last day; empty: open-ended.")
    )
    items = models.ManyToManyField(ControlledItem, blank=True, related_name="measures")
    destinations = models.JSONField(
        _("destinations"), default=list, blank=True, help_text=_("Empty: any destination.")
    )
    source = models.CharField(_("source"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["authority", "-effective_from", "reference"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MeasureKind.values), name="measure_valid_kind"
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=models.F("effective_from")),
                name="measure_period_ordered",
            ),
            models.UniqueConstraint(
                fields=["authority", "reference"], name="measure_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class MeasureSuspension(models.Model):
    """A period, both days included, during which a measure does not apply."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="suspensions")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty: open-ended."))
    reference = models.CharField(_("reference"), max_length=200, blank=True)

    class Meta:
        ordering = ["measure", "starts_on", "id"]
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="suspension_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on} - {self.ends_on or '…'}"


class MeasureChange(models.Model):
    """Who changed what of a measure, and when: kept for the record, never edited."""

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="changes")
    changed_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20)  # created, edited
    # {field: [old, new]}, values as the API shows them.
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("measure change")
        verbose_name_plural = _("measure changes")

    def __str__(self) -> str:
        return f"{self.measure_id} {self.action} {self.changed_at:%Y-%m-%d}"


class Document(models.Model):
    """A file attached to an application, stored outside the web root."""

    class Kind(models.TextChoices):
        END_USER_CERTIFICATE = "end_user_certificate", _("end-user certificate")
        CONTRACT = "contract", _("contract")
        TECHNICAL_DESCRIPTION = "technical_description", _("technical description")
        OTHER = "other", _("other")

    application = models.ForeignKey(
        LicenseApplication, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="applications/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "end_user_certificate",
                        "contract",
                        "technical_description",
                        "other",
                    ]
                ),
                name="document_valid_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", _("created")
    EDITED = "edited", _("details edited")
    STATUS_CHANGED = "status_changed", _("status changed")
    DUE_DATE_CHANGED = "due_date_changed", _("due date changed")
    FLAG_RAISED = "flag_raised", _("flag raised")
    FLAG_CLEARED = "flag_cleared", _("flag cleared")
    FAST_TRACK_APPLIED = "fast_track_applied", _("fast-track applied")
    FAST_TRACK_REMOVED = "fast_track_removed", _("fast-track removed")
    DRAWDOWN = "drawdown", _("drawdown")
    DRAWDOWN_RELEASED = "drawdown_released", _("drawdown released")
    CORRECTION = "correction", _("correction")
    ASSIGNED = "assigned", _("assigned to an application")
    DOCUMENT_ADDED = "document_added", _("document added")


class Event(models.Model):
    """One immutable entry of the history. Database triggers refuse UPDATE and DELETE."""

    kind = models.CharField(max_length=32, choices=EventKind.choices)
    application = models.ForeignKey(
        LicenseApplication, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    # The log also holds the events of the shipments an app above this one keeps; the project's
    # settings name their model (as AUTH_USER_MODEL names the user's), so this app never does.
    shipment = models.ForeignKey(
        settings.EVENT_SHIPMENT_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    decision = models.ForeignKey(
        FastTrackDecision, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    # Its link in its subject's chain (`licenses.events.chain`): its position, the hash of the
    # event before it (64 zeros for the first) and its own hash over both and every field
    # above. Set by the database as the row is inserted (the event writer on SQLite); never
    # by a caller.
    seq = models.PositiveIntegerField(
        _("position in its chain"), default=0, db_default=0, editable=False
    )
    prev_hash = models.CharField(
        _("previous hash"), max_length=64, default="", db_default="", editable=False
    )
    hash = models.CharField(_("hash"), max_length=64, default="", db_default="", editable=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        permissions = [("export_event", "Can export the audit record of an exporter's events")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_valid_kind"),
        ]
        indexes = [
            models.Index(fields=["application", "occurred_at"], name="event_application_time"),
            models.Index(fields=["shipment", "occurred_at"], name="event_shipment_time"),
            models.Index(fields=["kind", "-id"], name="event_kind_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class StatusTally(models.Model):
    """How many applications and shipments each exporter has in each state (applications also
    by authority): the dashboard's counts and pending-by-authority, without counting a
    million rows. Rows are signed deltas, written by the event writer (`licenses.tallies`) in
    the transaction of every change of state, so the sum over a key is the count; each change
    is written for its exporter and for all exporters (`exporter` empty), so a user who sees
    everything reads a few rows. Compaction folds them into one row per key, and the daily job
    recounts to heal any drift."""

    class Subject(models.TextChoices):
        APPLICATION = "application", _("application")
        SHIPMENT = "shipment", _("shipment")

    exporter = models.ForeignKey(
        Exporter, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=12, choices=Subject.choices)
    status = models.CharField(max_length=20)
    n = models.IntegerField()

    class Meta:
        verbose_name = _("status tally")
        verbose_name_plural = _("status tallies")
        indexes = [models.Index(fields=["exporter"], name="status_tally_exporter")]

    def __str__(self) -> str:
        return f"{self.subject} {self.status}: {self.n:+d}"


class HistoryTally(models.Model):
    """What the dashboard's "what each authority actually takes" needs, without grouping the
    applications on every view: how many of an authority's applications in the history have
    each stored duration (`history_units`), decided or not, and how many of those were refused
    — per exporter, and for all exporters together (`exporter` empty). Written by the forecast
    pass, which writes the durations (`licenses.services.forecasts.forecasts_refresh`): each
    pass over an authority replaces its rows, in the same transaction."""

    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="+")
    exporter = models.ForeignKey(
        Exporter, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    units = models.PositiveIntegerField()
    decided = models.BooleanField()
    n = models.IntegerField()
    rejected = models.IntegerField()

    class Meta:
        verbose_name = _("history tally")
        verbose_name_plural = _("history tallies")
        indexes = [
            models.Index(fields=["authority", "exporter"], name="history_tally_authority"),
        ]

    def __str__(self) -> str:
        return f"{self.units} ({'decided' if self.decided else 'open'}): {self.n}"


class ChainSubject(models.TextChoices):
    """Whose chain an event is linked into: its shipment's if it names one, else its
    application's (else, for an event of neither, its decision's)."""

    APPLICATION = "application", _("application")
    SHIPMENT = "shipment", _("shipment")
    DECISION = "decision", _("fast-track decision")


class EventChain(models.Model):
    """The head of one subject's chain of events: how many it holds, the hash of the latest
    and of the one before. Kept by whatever links a new event (the database's trigger on
    PostgreSQL, the event writer on SQLite) under this row's lock, so that two writers of one
    subject's events take turns and never fork its chain; `manage.py verify_events` checks it
    against the events (a deleted latest event shows here)."""

    subject_type = models.CharField(max_length=11, choices=ChainSubject.choices)
    subject_id = models.BigIntegerField()
    length = models.PositiveIntegerField()
    head = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    last_event_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("event chain")
        verbose_name_plural = _("event chains")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"], name="event_chain_one_per_subject"
            ),
            models.CheckConstraint(
                condition=Q(subject_type__in=ChainSubject.values), name="event_chain_valid_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type} {self.subject_id}: {self.length}"


class IdempotentRequest(AbstractIdempotentRequest):
    """A user's `Idempotency-Key` and the answer to the first request sent with it, kept 24
    hours (core.idempotency; `IDEMPOTENCY_MODEL` names this model)."""

    class Meta(AbstractIdempotentRequest.Meta):
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
