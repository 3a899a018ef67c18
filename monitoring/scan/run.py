"""Which subjects each kind runs over, and running it: the scan (in full, or incremental over
the windows time moved across since the previous scan, whose moment is the watermark
`ScanSettings.scanned_through`), and the targeted re-evaluation of a few subjects, of
applications with new due dates, and of shipments whose file-by deadlines moved."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db.models import Q
from django.db.models import Value as V

from core.lookups import ids_in
from licenses import tallies
from licenses.models import CLOCKED_STATUSES, Status
from shipments.models import Shipment, ShipmentStatus

from .. import flag_tallies
from ..models import APPLICATION_FLAGS, SHIPMENT_FLAGS, Flag, FlagKind, ScanSettings
from .apply import RANKED, KindResult, apply_kind, rank, retrying
from .due import TO_SHIP, USABLE_LICENSE, any_of, due_queryset, kept_shipments
from .file_by import refresh_file_by, refresh_file_by_moves
from .horizons import ThresholdInputs, Thresholds, thresholds

SS = ShipmentStatus
# Order of a full scan: applications first, so that the e-mails read in causal order.
KINDS = (*APPLICATION_FLAGS, *SHIPMENT_FLAGS)
# The kinds an application's stored deadlines decide, its due date and its reply deadline
# (`expiring` and `file_by` do not read them).
DUE_DATE_KINDS = (FlagKind.OVERDUE, FlagKind.DUE_SOON, FlagKind.AT_RISK, FlagKind.REPLY_DUE)
# Up to this many applications, `evaluate_due_dates` works out which flags differ first.
FEW = 20


@dataclass
class ScanResult:
    kinds: dict[str, KindResult] = field(default_factory=dict)
    file_by_filled: int = 0
    tallies_folded: int = 0  # status and flag tally rows folded (`tallies.compact`)
    file_by_changed: int = 0  # `refresh_decision_scope`: deadlines that moved
    since: dt.datetime | None = None  # incremental: the previous scan's `now`; None: in full

    @property
    def raised(self) -> int:
        return sum(len(k.raised) for k in self.kinds.values())

    @property
    def cleared(self) -> int:
        return sum(len(k.cleared) for k in self.kinds.values())

    @property
    def alerts(self) -> int:
        return sum(len(k.alert_ids) for k in self.kinds.values())

    def summary(self) -> str:
        parts = [
            f"{kind}: +{len(r.raised)} -{len(r.cleared)}"
            for kind, r in self.kinds.items()
            if r.raised or r.cleared
        ]
        return (", ".join(parts) or "nothing changed") + f"; {self.alerts} alert(s) queued"


# How far before the previous scan's `now` the periodic scan looks again: a move or new due
# dates committed by a transaction that was still open when that scan read (and evaluated with
# its own, earlier `now`) are seen by the next one.
OVERLAP = dt.timedelta(hours=1)


def scan(*, now: dt.datetime, incremental: bool = False) -> ScanResult:
    """Raise and clear flags.

    Full (the default; the daily job, `scan_windows --full`): every kind for everything.

    Incremental (the periodic job, `scan_windows`): what the passing of time since the
    previous scan (`ScanSettings.scanned_through`, less `OVERLAP`) can have changed. A flag's
    cause changes either because data changed — and every service that changes data
    re-evaluates its subjects in its own transaction (`evaluate`, from `monitoring.receivers`)
    — or because time passed, which moves only these boundaries:

    - `overdue`: due dates that ended in (since, now];
    - `due_soon`: the same (they leave it for `overdue`), and due dates that entered an
      authority's horizon (between its `due_soon_until` then and now);
    - `expiring`: validities that entered an authority's horizon (its local date turned);
    - `file_by`: file-by deadlines that ended in (since, now];
    - `reply_due`: reply deadlines that entered an authority's horizon (once late it stays);
    - `at_risk` compares a due date with a ship date and never changes with time alone.

    So each kind reads only the subjects whose deadline lies in its window, through the same
    partial indexes, and its cost follows the work due, not the size of the tables. With no
    previous scan recorded (a new installation, changed scan settings, an edited authority or
    calendar) or a clock that went back, it runs in full. The daily job's full scan also
    reconciles anything written by a path that bypassed the services.
    """
    result = ScanResult()
    # The full scan: a shipment whose deadline was never computed (written by a path that
    # bypassed the services) gets it first, so that `file_by` sees it.
    if not incremental:
        result.file_by_filled = len(
            refresh_file_by(
                now=now,
                shipments=Shipment.objects.filter(
                    status=SS.PLANNED, deadline__isnull=True, license_required=True
                ),
            )
        )
    result.tallies_folded = tallies.compact() + flag_tallies.compact(now=now)
    inputs = ThresholdInputs.read()
    th = thresholds(now=now, inputs=inputs)
    since = inputs.settings.scanned_through if incremental else None
    scopes: dict[str, Q | None]
    if since is None or since > now:
        scopes = dict.fromkeys(KINDS)
    else:
        result.since = since
        scopes = time_scopes(th, thresholds(now=since - OVERLAP, inputs=inputs))
    for kind in KINDS:
        if kind in scopes:
            result.kinds[kind] = retrying(partial(apply_kind, kind, th, scope=scopes[kind]))
    _advance(now)
    return result


def time_scopes(th: Thresholds, earlier: Thresholds) -> dict[str, Q | None]:
    """For each kind that time can change between `earlier.now` and `th.now`, the subjects
    whose deadline lies in the window it moved across (see `scan`); kinds it cannot change
    are absent."""
    lo, now = earlier.now, th.now
    ended = Q(due_at__gt=lo, due_at__lte=now)
    before = {a.authority.pk: a for a in earlier.authorities}
    entering: list[Q] = []
    replies: list[Q] = []
    turning: list[Q] = []
    for a in th.authorities:
        b = before.get(a.authority.pk)
        if b is None:  # an authority added meanwhile: its whole horizon
            entering.append(Q(authority_id=a.authority.pk, due_at__lte=a.due_soon_until))
            replies.append(Q(authority_id=a.authority.pk, reply_due_at__lte=a.due_soon_until))
            turning.append(Q(authority_id=a.authority.pk, valid_until__lte=a.expiring_until))
            continue
        if a.due_soon_until != b.due_soon_until:
            low, high = sorted((a.due_soon_until, b.due_soon_until))
            entering.append(Q(authority_id=a.authority.pk, due_at__gt=low, due_at__lte=high))
            replies.append(
                Q(authority_id=a.authority.pk, reply_due_at__gt=low, reply_due_at__lte=high)
            )
        if a.expiring_until != b.expiring_until:
            first, last = sorted((a.expiring_until, b.expiring_until))
            turning.append(
                Q(authority_id=a.authority.pk, valid_until__gt=first, valid_until__lte=last)
            )
    # Each scope names the states its partial index covers, so that the subjects in the window
    # are found through it (a subject that left those states was re-evaluated when it moved).
    pending = Q(status__in=CLOCKED_STATUSES)
    scopes: dict[str, Q | None] = {
        FlagKind.OVERDUE: pending & ended,
        FlagKind.DUE_SOON: pending & any_of([ended, *entering]),  # type: ignore[operator]
        FlagKind.FILE_BY: Q(
            status=SS.PLANNED,
            deadline__planned=True,
            deadline__file_by_at__gt=lo,
            deadline__file_by_at__lte=now,
        ),
    }
    if replies:
        # `reply_due` holds once late too: only deadlines entering the horizon raise it.
        scopes[FlagKind.REPLY_DUE] = Q(status=Status.INFO_REQUESTED) & any_of(replies)  # type: ignore[operator]
    if turning:
        scopes[FlagKind.EXPIRING] = Q(status__in=USABLE_LICENSE) & any_of(turning)  # type: ignore[operator]
    return scopes


def scanned_through() -> dt.datetime | None:
    """The `now` of the latest scan, or None when the next periodic scan must run in full."""
    return ScanSettings.objects.filter(pk=1).values_list("scanned_through", flat=True).first()


def _advance(now: dt.datetime) -> None:
    """Record that everything is flagged as of `now` (never moving the mark back)."""
    moved = (
        ScanSettings.objects.filter(pk=1)
        .filter(Q(scanned_through__isnull=True) | Q(scanned_through__lt=now))
        .update(scanned_through=now)
    )
    if not moved and not ScanSettings.objects.filter(pk=1).exists():
        ScanSettings.objects.bulk_create(
            [ScanSettings(pk=1, scanned_through=now)], ignore_conflicts=True
        )


def forget_scanned_through() -> None:
    """An input of the scan's thresholds changed (an authority's zone or calendar): the next
    periodic scan runs in full."""
    ScanSettings.objects.filter(pk=1).update(scanned_through=None)


def evaluate(
    *,
    now: dt.datetime,
    application_ids: Iterable[int] = (),
    shipment_ids: Iterable[int] = (),
    kinds: Iterable[str] = KINDS,
) -> ScanResult:
    """Re-evaluate the flags of a few subjects, inside the caller's transaction (a move, new due
    dates, a shipment edit). The shipments of the given applications are included.

    Cheap when nothing changes: one query says which flags the subjects should carry, one which
    they carry; only a kind that differs runs its raise/clear statements (which check the
    condition again, so both paths agree by construction). `kinds` limits it to the kinds the
    change can affect (new due dates: `DUE_DATE_KINDS`).
    """
    wanted = [kind for kind in KINDS if kind in set(kinds)]
    app_ids = sorted(set(application_ids))
    ship_ids = set(shipment_ids)
    if app_ids:
        ship_ids |= set(
            Shipment.objects.filter(ids_in("application_id", app_ids)).values_list("pk", flat=True)
        )
    ship_list = sorted(ship_ids)
    result = ScanResult()
    if not app_ids and not ship_list:
        return result
    th = thresholds(now=now)
    # Which flags the subjects should carry (and which may stay open although not due): one
    # UNION query per subject type.
    should: set[tuple[str, int]] = set()
    kept: set[tuple[str, int]] = set()
    for subject_kinds, ids in ((APPLICATION_FLAGS, app_ids), (SHIPMENT_FLAGS, ship_list)):
        kinds = [kind for kind in subject_kinds if kind in wanted]
        if not ids or not kinds:
            continue
        parts = [
            due_queryset(kind, th)
            .filter(ids_in("pk", ids))
            .annotate(k=V(kind))
            .values_list("pk", "k")
            for kind in kinds
        ]
        for kind in kinds:
            keep = kept_shipments(kind)
            if keep is not None:
                parts.append(
                    keep.filter(ids_in("pk", ids))
                    .annotate(k=V(f"keep:{kind}"))
                    .values_list("pk", "k")
                )
        for pk, label in parts[0].union(*parts[1:], all=True):
            if label.startswith("keep:"):
                kept.add((label.removeprefix("keep:"), pk))
            else:
                should.add((label, pk))
    carried: set[tuple[str, int]] = {
        (flag_kind, app or ship)
        for flag_kind, app, ship in Flag.objects.filter(cleared_at__isnull=True, kind__in=wanted)
        .filter(ids_in("application_id", app_ids) | ids_in("shipment_id", ship_list))
        .values_list("kind", "application_id", "shipment_id")
    }
    differing: dict[str, list[int]] = defaultdict(list)
    for differing_kind, pk in (should - carried) | (carried - should - kept):
        differing[differing_kind].append(pk)
    for kind in wanted:
        if kind in differing:
            result.kinds[kind] = apply_kind(kind, th, only=sorted(differing[kind]))
    # A ranked flag (`at_risk`, `likely_late`, `license_expires`) that stays open keeps what
    # the dashboard orders it by up to date (its ship date, due date or license's end may have
    # moved without clearing it).
    staying = carried & (should | kept)
    for ranked in RANKED:
        ids = sorted(pk for kind, pk in staying if kind == ranked)
        if ids:
            rank(ranked, th, only=ids)
    return result


def evaluate_due_dates(*, now: dt.datetime, application_ids: Sequence[int]) -> ScanResult:
    """Re-evaluate the flags that due dates decide (`DUE_DATE_KINDS`) for applications whose
    due date was just stored (`due_dates_changed`: a fast-track or rule pass, a recompute),
    inside the caller's transaction. Thousands of applications at a time: each kind is raised
    and cleared directly over the applications (and, for `at_risk`, their shipments, found by
    their application), without first working out which of them differ as `evaluate` does
    for a few subjects — the raise and clear statements check the condition anyway."""
    result = ScanResult()
    ids = sorted(set(application_ids))
    if not ids:
        return result
    if len(ids) <= FEW:
        # A move's own due date: first ask which flags differ (two queries when none does).
        return evaluate(now=now, application_ids=ids, kinds=DUE_DATE_KINDS)
    th = thresholds(now=now)
    for kind in DUE_DATE_KINDS:
        scope = ids_in("pk" if kind in APPLICATION_FLAGS else "application_id", ids)
        result.kinds[kind] = apply_kind(kind, th, scope=scope)
    return result


def evaluate_forecasts(*, now: dt.datetime, application_ids: Sequence[int]) -> ScanResult:
    """New forecasts were stored for these applications: their shipments' `likely_late`,
    raised and cleared directly over them (set-based, like `evaluate_due_dates`)."""
    result = ScanResult()
    ids = sorted(set(application_ids))
    if ids:
        th = thresholds(now=now)
        result.kinds[FlagKind.LIKELY_LATE] = apply_kind(
            FlagKind.LIKELY_LATE, th, scope=ids_in("application_id", ids)
        )
    return result


def refresh_authority(*, now: dt.datetime, authority_id: int) -> ScanResult:
    """An input of an authority's windows changed: recompute the file-by deadlines of its
    shipments before shipping and re-evaluate those that changed."""
    return refresh_decision_scope(now=now, authority_id=authority_id, scope=None)


def refresh_decision_scope(
    *, now: dt.datetime, authority_id: int, scope: dict[str, set] | None
) -> ScanResult:
    """A fast-track decision was applied or un-applied (`scope`: its scope), or another input
    of an authority's windows changed (`scope` None: all its shipments): recompute the file-by
    deadlines of the shipments before shipping that it can reach and re-evaluate the `file_by`
    flag of those whose deadline crossed `now` (`refresh_file_by_moves`: no other move can
    change it; a decision's follow-up moves hundreds of thousands of deadlines, of which a few
    percent cross). A decision reaches a shipment through the exporter, item and destination its
    scope names; one that names applications reaches no shipment's deadline (a deadline is for
    an application not filed yet)."""
    shipments = Shipment.objects.filter(status__in=TO_SHIP, item__authority_id=authority_id)
    if scope is not None:
        if scope.get("applications"):
            return ScanResult()
        if scope.get("destinations"):
            shipments = shipments.filter(destination__in=sorted(scope["destinations"]))
        if scope.get("items"):
            shipments = shipments.filter(ids_in("item_id", scope["items"]))
        if scope.get("exporters"):
            shipments = shipments.filter(ids_in("exporter_id", scope["exporters"]))
    moved = refresh_file_by_moves(now=now, shipments=shipments)
    # A deadline decides `file_by` alone, and only one that crossed `now` can change it.
    result = evaluate(now=now, shipment_ids=moved.crossed, kinds=(FlagKind.FILE_BY,))
    result.file_by_changed = len(moved.changed)
    return result
