"""Flags, the scan's settings, the alert outbox, digests and alert preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licenses.models import Authority, Exporter, LicenseApplication
from shipments.models import Shipment


class FlagKind(models.TextChoices):
    OVERDUE = "overdue", _("overdue")
    DUE_SOON = "due_soon", _("due soon")
    EXPIRING = "expiring", _("expiring")
    AT_RISK = "at_risk", _("at risk")
    FILE_BY = "file_by", _("file by")
    REPLY_DUE = "reply_due", _("reply due")
    CONTROL_CHANGE = "control_change", _("control change")
    LICENSE_EXPIRES = "license_expires", _("license expires")
    LIKELY_LATE = "likely_late", _("likely late")


APPLICATION_FLAGS = (FlagKind.OVERDUE, FlagKind.DUE_SOON, FlagKind.EXPIRING, FlagKind.REPLY_DUE)
SHIPMENT_FLAGS = (
    FlagKind.AT_RISK,
    FlagKind.FILE_BY,
    FlagKind.CONTROL_CHANGE,
    FlagKind.LICENSE_EXPIRES,
    FlagKind.LIKELY_LATE,
)
# `likely_late` is shown, listed and in the digest, never e-mailed at once.
ALERTING_FLAGS = (
    FlagKind.OVERDUE,
    FlagKind.AT_RISK,
    FlagKind.FILE_BY,
    FlagKind.REPLY_DUE,
    FlagKind.CONTROL_CHANGE,
    FlagKind.LICENSE_EXPIRES,
)


class Flag(models.Model):
    """Something that needs attention; at most one open per subject and kind."""

    application = models.ForeignKey(
        LicenseApplication, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    exporter = models.ForeignKey(Exporter, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=FlagKind.choices)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # An open `at_risk` flag: how much later than its planned ship date the shipment's license
    # is due (the local due day minus the ship date; empty while the due date is unknown). Kept
    # by the scan whenever it evaluates the shipment (`monitoring.scan.apply.rank`), so
    # the dashboard's at-risk list reads the latest first from an index.
    late = models.DurationField(null=True, blank=True, editable=False)
    # An open `at_risk`, `likely_late` or `license_expires` flag: the date its row in the work
    # queue is decided by (the shipment's planned ship date; for `license_expires` the day its
    # license ends), kept in the same way (`monitoring.scan.apply.rank`), so the queue reads
    # the earliest first from an index instead of joining every flagged shipment to the book.
    deciding_date = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FlagKind.values), name="flag_valid_kind"),
            models.CheckConstraint(
                condition=(Q(application__isnull=False) & Q(shipment__isnull=True))
                | (Q(application__isnull=True) & Q(shipment__isnull=False)),
                name="flag_one_subject",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=APPLICATION_FLAGS) & Q(application__isnull=False))
                | (Q(kind__in=SHIPMENT_FLAGS) & Q(shipment__isnull=False)),
                name="flag_kind_matches_subject",
            ),
            # Any number of concurrent scans: the second raise of the same open flag fails here.
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=Q(cleared_at__isnull=True, application__isnull=False),
                name="flag_open_application_unique",
            ),
            models.UniqueConstraint(
                fields=["shipment", "kind"],
                condition=Q(cleared_at__isnull=True, shipment__isnull=False),
                name="flag_open_shipment_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "exporter"],
                name="flag_open_kind",
                condition=Q(cleared_at__isnull=True),
            ),
            models.Index(
                fields=["late"],
                name="flag_open_at_risk_late",
                condition=Q(kind="at_risk", cleared_at__isnull=True, late__isnull=False),
            ),
            # Those whose lateness is unknown (paused): the work queue's at-risk rows after
            # the others.
            models.Index(
                fields=["deciding_date", "shipment"],
                name="flag_open_at_risk_unknown",
                condition=Q(kind="at_risk", cleared_at__isnull=True, late__isnull=True),
            ),
            models.Index(
                fields=["deciding_date", "shipment"],
                name="flag_open_likely_late",
                condition=Q(kind="likely_late", cleared_at__isnull=True),
            ),
            models.Index(
                fields=["deciding_date", "shipment"],
                name="flag_open_license_expires",
                condition=Q(kind="license_expires", cleared_at__isnull=True),
            ),
            models.Index(fields=["application", "cleared_at"], name="flag_application"),
            models.Index(fields=["shipment", "cleared_at"], name="flag_shipment"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.application or self.shipment}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class ScanSettings(models.Model):
    """Thresholds of the window scan, changed by an administrator (one row)."""

    due_soon_working_days = models.PositiveIntegerField(
        _("due soon within (working days)"), default=5
    )
    expiring_within_days = models.PositiveIntegerField(_("expiring within (days)"), default=30)
    # The daily digest lists the measure changes of this many days ahead.
    measure_horizon_days = models.PositiveIntegerField(
        _("measure changes ahead in the digest (days)"), default=30
    )
    # The `now` of the latest scan: the periodic scan looks only at what time changed since
    # (see monitoring.scan.scan); None makes the next one run in full.
    scanned_through = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("scan settings")
        verbose_name_plural = _("scan settings")

    def __str__(self) -> str:
        return str(_("Scan settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        # New thresholds: the next periodic scan reconciles everything with them.
        self.scanned_through = None
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> ScanSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Alert(models.Model):
    """The outbox: one row per raised flag and recipient, written with the flag; sent later."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Its flag cleared before it could be sent: it would say something no longer true.
        SKIPPED = "skipped", _("not sent: cleared first")

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="alerts")
    recipient = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["flag", "recipient"], name="alert_once_per_recipient"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="alert_unsent",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flag} → {self.recipient}"


class AlertAttempt(models.Model):
    """Every try to deliver an alert or a digest, with its error.

    A try that talks to the mail server is written, and committed, as `started` before the
    SMTP exchange begins, and finished as `sent` or `failed` when it ends. One left `started`
    after its claim ran out was cut off mid-exchange (its worker died): whether the mail went
    out is unknown, and the next try, a resend under the same Message-ID, says so (`resend`).
    """

    class State(models.TextChoices):
        STARTED = "started", _("started, not finished: outcome unknown")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # Never sent: its flag cleared, or lost its cause, first (the alert is `skipped`).
        SKIPPED = "skipped", _("not sent: cleared first")

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="attempt_log"
    )
    digest = models.ForeignKey(
        "Digest", on_delete=models.CASCADE, null=True, blank=True, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"))
    state = models.CharField(_("outcome"), max_length=10, choices=State.choices)
    resend = models.BooleanField(
        _("resend after an unknown outcome"),
        default=False,
        help_text=_(
            "An earlier attempt was cut off during the SMTP exchange, so the message may have "
            "arrived already; this one carries the same Message-ID."
        ),
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["started", "sent", "failed", "skipped"]),
                name="alert_attempt_valid_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_state_display()} {self.error[:60]}".strip()


class Digest(models.Model):
    """A user's daily digest: one row per user and local day makes a second run a no-op."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=200)

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(fields=["user", "local_date"], name="digest_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.local_date}"


class AlertPreference(models.Model):
    """What a user watches and how they want to hear about it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    watched_exporters = models.ManyToManyField(Exporter, blank=True, related_name="watchers")
    # True: every exporter the user may see, now and later (what the role defaults mean);
    # False: only `watched_exporters`.
    watch_all = models.BooleanField(_("watch every exporter I may see"), default=False)
    immediate_kinds = models.JSONField(
        _("immediate alerts for"), default=list, blank=True, help_text=_("Flag kinds.")
    )
    digest = models.BooleanField(_("daily digest"), default=False)
    digest_hour = models.PositiveSmallIntegerField(_("digest hour"), default=8)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(_("language"), max_length=10, default="en")

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")
        constraints = [
            models.CheckConstraint(condition=Q(digest_hour__lte=23), name="preference_hour_valid"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        import zoneinfo

        bad = [k for k in self.immediate_kinds or [] if k not in FlagKind.values]
        if bad:
            raise ValidationError({"immediate_kinds": _("Unknown flag kind: %s") % ", ".join(bad)})
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc


class FlagTally(models.Model):
    """Open flags counted without counting them: signed deltas of the flags raised (+1) and
    cleared (-1), by exporter, authority (an application's flag; empty for a shipment's), kind
    and the hour (UTC) it happened, written by the scan in the statement's transaction
    (`monitoring.flag_tallies`). Each change is written twice: for its exporter and for all
    exporters (`exporter` empty), so a user who sees everything reads a few rows. The sum over a
    key is the number of open flags; the sums since an hour give the chart of open flags over
    time."""

    exporter = models.ForeignKey(
        Exporter, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=FlagKind.choices)
    hour = models.DateTimeField()
    n = models.IntegerField()

    class Meta:
        verbose_name = _("flag tally")
        verbose_name_plural = _("flag tallies")
        indexes = [models.Index(fields=["exporter", "hour"], name="flag_tally_exporter_hour")]

    def __str__(self) -> str:
        return f"{self.kind} {self.hour:%Y-%m-%d %H}h: {self.n:+d}"


class ApprovalMonth(models.Model):
    """The dashboard's approval times for one month gone by, so that the dashboard sorts only
    the current month's decisions: how many of an authority's applications were approved in a
    calendar month of a time zone (whatever became of the license since), and the median and
    90th percentile of the days from submission to approval. Per exporter (months with
    approvals only), and for all exporters together (`exporter` empty: every month of the
    window, approvals or none, so that its presence says the month was counted). Written for
    the time zones users chose by the forecast pass, which runs after every decision and every
    correction (`monitoring.approvals`); replaced whole for the authority each time."""

    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="+")
    exporter = models.ForeignKey(
        Exporter, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    time_zone = models.CharField(max_length=64)
    month = models.DateField()
    n = models.IntegerField()
    median = models.FloatField(null=True, blank=True)
    p90 = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("approval month")
        verbose_name_plural = _("approval months")
        indexes = [
            models.Index(fields=["time_zone", "month"], name="approval_month_zone"),
            models.Index(fields=["authority"], name="approval_month_authority"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.time_zone}): {self.n}"


class PasswordResetRequest(models.Model):
    """An address typed on the password-reset page, recorded for every address whether an
    account has it or not, and mailed by the worker (`monitoring.password_reset`)."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        NO_ACCOUNT = "no_account", _("no account has this address: nothing sent")
        THROTTLED = "throttled", _("too many for this address: nothing sent")
        FAILED = "failed", _("failed")

    email = models.EmailField(_("e-mail address"))
    # The language of the page it was asked on: the e-mail's, unless the user saved another.
    language = models.CharField(_("language"), max_length=10)
    requested_at = models.DateTimeField(_("requested at"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="password_reset_unsent",
                condition=Q(state="pending"),
            ),
            # The worker's limit: reset e-mails sent to one address in the last hour.
            models.Index(
                fields=["handled_at"], name="password_reset_sent", condition=Q(state="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.requested_at:%Y-%m-%d %H:%M}"


# --- webhooks ----------------------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    """The types of event a webhook can hear (stable codes: the SPEC's contract)."""

    APPLICATION_MOVED = "application.moved", _("an application moved")
    SHIPMENT_MOVED = "shipment.moved", _("a shipment moved")
    DUE_DATE_CHANGED = "due_date.changed", _("a due date changed")
    FLAG_RAISED = "flag.raised", _("a flag was raised")
    FLAG_CLEARED = "flag.cleared", _("a flag was cleared")
    MEASURE_CHANGED = "measure.changed", _("a measure was recorded or edited")


class Webhook(models.Model):
    """An integrator's endpoint: every event of the chosen types (`events`, empty: all) on the
    chosen exporters (`exporters`, empty: every exporter the owner may see) is POSTed to `url`,
    signed with `secret` (`monitoring.webhooks`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, blank=True)
    exporters = models.ManyToManyField(Exporter, blank=True, related_name="+")
    secret = models.CharField(_("secret"), max_length=128)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        indexes = [models.Index(fields=["owner"], name="webhook_owner")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row, written in the transaction of the change
    (set-based, `monitoring.webhooks`). Its `id` is the `X-Tracker-Delivery` header and the
    payload's `id`, the same on every retry; `body` is frozen at the first attempt."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed: given up")
        SKIPPED = "skipped", _("not sent: out of the owner's scope")

    id = models.UUIDField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    type = models.CharField(_("type"), max_length=20, choices=WebhookEvent.choices)
    event = models.ForeignKey(
        "licenses.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    measure_change = models.ForeignKey(
        "licenses.MeasureChange", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    # Claims so far (a compare-and-set on it leases the row: `monitoring.webhooks.send`).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    body = models.TextField(_("body"), blank=True)
    # The next attempt was asked for by hand (redelivery).
    manual = models.BooleanField(_("redelivery asked for"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="webhook_delivery_once"),
            models.UniqueConstraint(
                fields=["webhook", "measure_change"], name="webhook_delivery_measure_once"
            ),
            models.CheckConstraint(
                condition=Q(event__isnull=False) | Q(measure_change__isnull=False),
                name="webhook_delivery_has_subject",
            ),
        ]
        indexes = [
            # the sweep: pending rows by when they are due
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(state="pending"),
            ),
            models.Index(fields=["webhook", "-created_at"], name="webhook_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookAttempt(models.Model):
    """Every try to POST a delivery: when, the answer's status code (none: no answer), the
    error, how long it took, and whether a person asked for it (redelivery)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    manual = models.BooleanField(_("sent again by hand"), default=False)
    ok = models.BooleanField(_("delivered"), default=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S}"
