"""Flags and file-by deadlines follow their causes (connected in MonitoringConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.utils import timezone

from licenses.models import (
    Authority,
    CalendarDay,
    Event,
    EventKind,
    LicenseApplication,
    Status,
    WindowRule,
)
from licenses.signals import application_moved, decision_pass_finished, due_dates_changed
from shipments.models import Shipment

from . import scan

log = logging.getLogger(__name__)


# --- flags follow their causes, inside the transaction that changed them ----------------------
#
# Connected after shipments' `_follow` (monitoring is ready after shipments, and receivers run in
# the order they were connected), so that a moved application's shipments already show their
# new state when their flags are evaluated.
# `monitoring.scan.evaluate` costs a handful of queries when nothing changes.


@receiver(due_dates_changed, dispatch_uid="monitoring.flags_after_due_dates")
def _due_dates_changed(sender: Any, application_ids, now, **kwargs: Any) -> None:
    if application_ids:
        scan.evaluate_due_dates(now=now, application_ids=application_ids)


@receiver(application_moved, dispatch_uid="monitoring.flags_after_move")
def _application_moved(sender: Any, application, now, **kwargs: Any) -> None:
    scan.evaluate(now=now, application_ids=[application.pk])


# Every service that writes a shipment (create, edit, assign, ship/hold/release/cancel…) records
# an event for it: re-evaluate the shipment's flags then, with the service's `now`. (Shipments
# that follow their application are covered by `application_moved` above.)
SHIPMENT_EVENT_KINDS = {
    EventKind.CREATED,
    EventKind.EDITED,
    EventKind.ASSIGNED,
    EventKind.STATUS_CHANGED,
    EventKind.CORRECTION,
}


@receiver(post_save, sender=Event, dispatch_uid="monitoring.flags_after_shipment_event")
def _shipment_event(sender: Any, instance: Event, created: bool, **kwargs: Any) -> None:
    if (
        created
        and not kwargs.get("raw")
        and instance.shipment_id
        and instance.kind in SHIPMENT_EVENT_KINDS
    ):
        # The applications it is (or was) assigned to too: `expiring` counts the shipments
        # still to ship under a license.
        application_ids = {
            Shipment.objects.filter(pk=instance.shipment_id)
            .values_list("application_id", flat=True)
            .first(),
            (instance.data or {}).get("from_application"),
        } - {None}
        scan.evaluate(
            now=instance.recorded_at,
            application_ids=application_ids,  # type: ignore[arg-type]
            shipment_ids=[instance.shipment_id],
        )


# --- the file-by deadline follows its inputs (see monitoring.scan.refresh_file_by) -------------


@receiver(post_save, sender=Shipment, dispatch_uid="monitoring.file_by_on_save")
def _shipment_saved(sender: Any, instance: Shipment, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    now = timezone.now()
    if scan.refresh_file_by(now=now, shipments=Shipment.objects.filter(pk=instance.pk)):
        instance.file_by_date, instance.file_by_at = Shipment.objects.values_list(
            "file_by_date", "file_by_at"
        ).get(pk=instance.pk)


@receiver(post_save, sender=LicenseApplication, dispatch_uid="monitoring.file_by_on_draft_edit")
def _application_saved(sender: Any, instance: LicenseApplication, **kwargs: Any) -> None:
    # A draft's license type is an input of its shipments' deadlines.
    if not kwargs.get("raw") and instance.status == Status.DRAFT:
        now = timezone.now()
        changed = scan.refresh_file_by(
            now=now, shipments=Shipment.objects.filter(application_id=instance.pk)
        )
        scan.evaluate(now=now, shipment_ids=changed)


@receiver(post_save, sender=Authority, dispatch_uid="monitoring.file_by_on_authority")
def _authority_saved(sender: Any, instance: Authority, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw"):
        scan.forget_scanned_through()  # its zone or calendar: the scan's thresholds
        scan.refresh_authority(now=timezone.now(), authority_id=instance.pk)


@receiver(
    [post_save, post_delete], sender=CalendarDay, dispatch_uid="monitoring.file_by_on_calendar"
)
@receiver(post_save, sender=WindowRule, dispatch_uid="monitoring.file_by_on_rule")
def _window_input_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        if sender is CalendarDay:
            scan.forget_scanned_through()  # the scan's working-day thresholds
        scan.refresh_authority(now=timezone.now(), authority_id=instance.authority_id)


# A fast-track decision changes deadlines when its pass applies or un-applies it (logged in
# force, revoked, begun or ended by the daily job); saving its wording changes none.
@receiver(decision_pass_finished, dispatch_uid="monitoring.file_by_on_decision")
def _decision_pass_finished(sender: Any, decision, scope, now, inline, **kwargs: Any) -> None:
    if inline:
        scan.refresh_decision_scope(now=now, authority_id=decision.authority_id, scope=scope)
        return
    from .tasks import refresh_decision_file_by

    decision_id, moment = decision.pk, now.isoformat()
    transaction.on_commit(lambda: refresh_decision_file_by.delay(decision_id, moment), robust=True)


# --- the periodic tasks exist as soon as the database does -----------------------------------


def _ensure_schedules(sender: Any, **kwargs: Any) -> None:
    from .schedules import ensure_schedules

    try:
        ensure_schedules(reset=False)
    except DatabaseError:  # migrated only partly (e.g. `migrate shipments`): beat creates them
        log.info("Periodic tasks not created yet: django_celery_beat is not migrated.")


post_migrate.connect(
    _ensure_schedules, sender=apps.get_app_config("monitoring"), dispatch_uid="monitoring.schedules"
)
