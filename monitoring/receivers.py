"""Flags and file-by deadlines follow their causes, as the services announce them (connected in
MonitoringConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from core.lookups import ids_in
from licenses.signals import (
    changed,
    decision_pass_finished,
    due_dates_changed,
    forecasts_changed,
    history_tallied,
    measure_recorded,
)
from shipments.models import Shipment

from . import approvals, scan

log = logging.getLogger(__name__)


# --- flags and file-by deadlines follow their causes, inside the transaction that changed them --
#
# Only services send these signals, with the caller's `now`: a plain `Model.save()` re-evaluates
# nothing (no business rule hangs on `post_save`: `bulk_create` would skip it and the order of
# receivers would become behaviour). `monitoring.scan.evaluate` costs a handful of queries when
# nothing changes.


@receiver(due_dates_changed, dispatch_uid="monitoring.flags_after_due_dates")
def _due_dates_changed(sender: Any, application_ids, now, **kwargs: Any) -> None:
    if application_ids:
        scan.evaluate_due_dates(now=now, application_ids=application_ids)


@receiver(forecasts_changed, dispatch_uid="monitoring.flags_after_forecasts")
def _forecasts_changed(sender: Any, application_ids, now, **kwargs: Any) -> None:
    if application_ids:
        scan.evaluate_forecasts(now=now, application_ids=application_ids)


@receiver(history_tallied, dispatch_uid="monitoring.approval_months")
def _history_tallied(sender: Any, authority_id, now, **kwargs: Any) -> None:
    approvals.write_months(authority_id=authority_id, now=now)


@receiver(changed, dispatch_uid="monitoring.after_change")
def _changed(
    sender: Any,
    now,
    application_ids=(),
    shipment_ids=(),
    file_by_ids=(),
    draft_ids=(),
    authority_id=None,
    thresholds=False,
    **kwargs: Any,
) -> None:
    """Re-evaluate exactly what a service changed (see `licenses.signals.changed`): first the
    file-by deadlines (an input of the `file_by` flag), then the flags."""
    if thresholds:
        scan.forget_scanned_through()
    if authority_id is not None:
        scan.refresh_authority(now=now, authority_id=authority_id)
    if file_by_ids:
        # one array parameter: a measure's change may name a hundred thousand shipments
        scan.refresh_file_by(now=now, shipments=Shipment.objects.filter(ids_in("pk", file_by_ids)))
    shipment_ids = sorted({*shipment_ids, *file_by_ids})
    if draft_ids:
        # a draft's license type: only the shipments whose deadline moved need their flags
        moved = scan.refresh_file_by(
            now=now, shipments=Shipment.objects.filter(application_id__in=sorted(set(draft_ids)))
        )
        shipment_ids = sorted({*shipment_ids, *moved})
    application_ids = sorted(set(application_ids) - {None})
    if application_ids or shipment_ids:
        scan.evaluate(now=now, application_ids=application_ids, shipment_ids=shipment_ids)


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


# A measure recorded or edited: the webhooks that listen to `measure.changed` hear of it.
@receiver(measure_recorded, dispatch_uid="monitoring.webhooks_on_measure")
def _measure_recorded(sender: Any, change, now, **kwargs: Any) -> None:
    from .webhooks import queue_measure_change

    queue_measure_change(change, now=now)


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
