"""The daily job: the fast-track decisions that begin or end, the licenses whose validity
ended, whether open shipments need a license (today moved), every file-by deadline, the API's
expired idempotency keys, then a full scan."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db.models import Q

from core.errors import ConcurrentUpdate, DomainError, IllegalMove
from core.idempotency import purge_expired
from licenses import tallies
from licenses.clock import end_of_day, local_date
from licenses.fasttrack import decisions_daily
from licenses.models import Authority, LicenseApplication, Status
from licenses.services import application_expire
from licenses.services.forecasts import forecasts_refresh
from shipments.models import Shipment
from shipments.services.requirements import evaluate_requirements

from .. import flag_tallies
from .due import TO_SHIP, any_of
from .file_by import refresh_file_by
from .run import ScanResult, scan

log = logging.getLogger(__name__)


@dataclass
class DailyResult:
    decisions: dict[str, list[int]] = field(default_factory=dict)  # `decisions_daily`'s
    expired: list[int] = field(default_factory=list)
    requirements_changed: int = 0  # shipments whose need for a license changed, or moved
    file_by_changed: int = 0
    forecasts_changed: int = 0  # applications whose stored forecast moved
    tally_drift: int = 0  # status tallies the recount corrected (0 unless a path missed one)
    keys_purged: int = 0  # the API's idempotency keys older than 24 hours, deleted
    scan: ScanResult | None = None

    def summary(self) -> str:
        return (
            f"fast-track: {self.decisions}; "
            f"expired: {len(self.expired)}; "
            f"license requirements changed: {self.requirements_changed}; "
            f"file-by deadlines changed: {self.file_by_changed}; "
            f"status tallies corrected: {self.tally_drift}; "
            f"idempotency keys purged: {self.keys_purged}; "
            f"scan: {self.scan.summary() if self.scan else '-'}"
        )


# A license ends with its validity, also while suspended or while an amendment waits (the
# request lapses with it).
EXPIRING_STATUSES = (Status.APPROVED, Status.SUSPENDED, Status.AMENDMENT_REQUESTED)


def expire_licenses(*, now: dt.datetime) -> list[int]:
    """Move licenses (approved, suspended or with an amendment requested) whose validity has
    ended (in their authority's time zone) to `expired`, each in its own transaction through
    `application_expire` (events; shipments follow; `monitoring.receivers` clears their
    flags). Returns the ids it expired."""
    days = [(a.pk, local_date(now, a.tz)) for a in Authority.objects.all()]
    per_authority = any_of(Q(authority_id=pk, valid_until__lt=today) for pk, today in days)
    if per_authority is None:
        return []
    latest = max(today for _pk, today in days)
    due = (
        LicenseApplication.objects.filter(
            per_authority, status__in=EXPIRING_STATUSES, valid_until__lt=latest
        )
        .select_related("authority")
        .order_by("pk")
    )
    expired = []
    for application in due:
        assert application.valid_until is not None
        ended = end_of_day(application.valid_until, application.authority.tz)
        at = max(ended, application.last_moved_at) if application.last_moved_at else ended
        try:
            application_expire(application=application, now=now, at=min(at, now))
        except (IllegalMove, ConcurrentUpdate):
            continue  # moved by someone else meanwhile
        except DomainError as exc:  # e.g. its last move is dated after now: a person must look
            log.error("Could not expire application %s: %s", application.pk, exc)
            continue
        expired.append(application.pk)
    return expired


def run_daily(*, now: dt.datetime) -> DailyResult:
    """The daily job: decisions that begin or end, expiry, license requirements (a measure or
    a suspension begins or ends with the date alone, and today's need moves: `control_change`),
    file-by deadlines, forecasts (the time waited moves them; `likely_late` follows), a recount
    of the status tallies (`licenses.tallies.rebuild`: any drift is logged and corrected), the
    API's idempotency keys past their 24 hours deleted (they are ignored already), then a
    scan."""
    result = DailyResult()
    result.decisions = decisions_daily(now=now)
    result.expired = expire_licenses(now=now)
    requirements = evaluate_requirements(now=now)
    result.requirements_changed = len({*requirements.changed, *requirements.moved_ids})
    result.file_by_changed = len(
        refresh_file_by(now=now, shipments=Shipment.objects.filter(status__in=TO_SHIP))
    )
    result.forecasts_changed = len(forecasts_refresh(now=now))
    drift = tallies.rebuild()
    if drift:
        log.warning("Status tallies differed from a recount (corrected): %s", drift)
    flag_drift = flag_tallies.rebuild(now=now)
    if flag_drift:
        log.warning("Flag tallies of %s keys differed from a recount (corrected)", flag_drift)
    result.tally_drift = len(drift) + flag_drift
    result.keys_purged = purge_expired(now=now)
    result.scan = scan(now=now)
    return result
