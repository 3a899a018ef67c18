"""The window scan: raise and clear flags, set-based, idempotent and safe to run concurrently.

The cousin of healthchecks' `sendalerts`: every deadline the scan compares with is a stored,
indexed column (`LicenseApplication.due_at`, `.valid_until`, `FilingDeadline.file_by_at`), each kind
of flag is one query that says which subjects are *due* now (`due_applications`,
`due_shipments`), and a partial unique constraint (one open flag per subject and kind) makes a
second scan, or a second worker, a no-op.

Flags and their causes (`now` is passed in; "today" is the authority's local date):

- `overdue` — a pending application (submitted, accepted, information requested) whose
  `due_at` has passed. While information is requested `due_at` is empty, so it is not overdue.
  Before acceptance at an authority whose clock starts there, `due_at` is the acceptance
  deadline: missing it is overdue too.
- `due_soon` — a pending application not yet overdue whose due date is within
  `ScanSettings.due_soon_working_days` working days of today on its authority's calendar
  (the threshold is computed once per authority with `licenses.calendars`, never by walking
  days). An application becoming overdue leaves `due_soon`.
- `expiring` — an approved license whose `valid_until` is within
  `ScanSettings.expiring_within_days` calendar days of today, with at least one shipment still
  to ship under it (planned, awaiting license, cleared or on hold). An exhausted license is
  left out: nothing more can be drawn on it.
- `at_risk` — a shipment before shipping (planned, awaiting license or cleared) whose
  application is pending and due *after* the shipment's planned ship date (the due date is the
  local day `due_at` ends, in the authority's time zone). Decisions:
  * `on_hold`: a held shipment is out of the flow by the officer's choice and its ship date is
    not live, so it is neither `at_risk` nor `file_by`; its flags clear when it is held and
    are re-evaluated when it is released.
  * `info_requested`: the clock is stopped and there is no due date to compare. A pause can
    only move a due date later, so an open `at_risk` flag stays open while information is
    requested (it is not cleared and raised again, which would notify twice for one cause);
    none is raised until the information is provided and the due date is known again.
  * before acceptance (MOFCOM) the due date is the acceptance deadline, as the specification
    defines it; the full window is compared once the application is accepted.
- `file_by` — a shipment in state `planned` (no application in force: none, a draft, or one
  that was rejected, withdrawn or expired) whose last day to file (`file_by_date`) has ended.
  The last day to file counts back from the planned ship date the window that would govern it
  (`licenses.clock.governing_window` on an unsaved application built from the shipment's
  exporter, item and destination, with the license type of its draft application, else
  individual) and, where the clock starts at acceptance, the acceptance window before that
  (`licenses.calendars.subtract_days`, in the authority's unit). It is stored in its narrow
  table (`shipments.FilingDeadline`: `file_by_date`, and `file_by_at`, the instant that day
  ends, behind an index) and
  recomputed whenever an input changes — see `refresh_file_by`.
- `control_change` — before shipping, the shipment's need for a license on its planned ship
  date differs from today's (`license_required` ≠ `license_required_today`).
- `license_expires` — before shipping (held ones included), its application's license
  (approved, exhausted, suspended or with an amendment requested) is valid until a day before
  its planned ship date. It compares two stored dates, so time alone never changes it: moves
  and edits re-evaluate it.
- `likely_late` — before shipping, its application pending and its stored forecast `p50`
  (`licenses.services.forecasts`) after the planned ship date. New forecasts re-evaluate it
  (`evaluate_forecasts`); it is not e-mailed at once.

Algorithm of one kind (`apply.apply_kind`), in one transaction:

1. Raise: read the due subjects that carry no open flag of the kind (`candidates_query`, with
   what caused it), then ``INSERT INTO flag … VALUES … ON CONFLICT DO NOTHING RETURNING id``:
   concurrent scans queue on the partial unique index and the loser inserts nothing, so the
   RETURNING rows are exactly the flags this run raised.
2. Clear: ``UPDATE flag SET cleared_at = now WHERE <open> AND subject NOT IN <those of the
   flagged subjects that are still due> RETURNING id``: a compare-and-set on
   `cleared_at IS NULL`; a concurrent clear of the same row re-checks it after the first
   commits and updates nothing.
3. One `flag_raised` / `flag_cleared` event per returned row on the subject's timeline.
4. For the kinds that alert (`ALERTING_FLAGS`: `overdue`, `at_risk`, `file_by`, `reply_due`,
   `control_change`, `license_expires`), the alert rows (the outbox, one per recipient) in the same
   transaction, and their sending queued after commit.

The same functions re-evaluate a few subjects inside the transaction of a move or of new due
dates (`evaluate`, called from `monitoring.receivers`); `scan` runs every kind for everything.
Both work on PostgreSQL and on SQLite (3.35+, which has RETURNING and ON CONFLICT).

The modules, one job each (a module imports only those listed before it):

- `horizons` — each authority's thresholds at a moment (`thresholds`; the module has another
  name so that `scan.thresholds` is always the function);
- `due` — the conditions: which subjects should carry a flag of each kind now;
- `statements` — the SQL of a kind's raise and clear, for PostgreSQL and SQLite;
- `file_by` — the file-by deadline: computed, stored, recomputed when an input changes;
- `apply` — one kind applied: its statements, events and alerts in one transaction;
- `run` — which subjects each kind runs over: the scan (in full or incremental, and its
  watermark), `evaluate`, `evaluate_due_dates`, `refresh_decision_scope`;
- `daily` — the daily job.
"""

from .apply import (
    KindResult,
)
from .daily import (
    DailyResult,
    expire_licenses,
    run_daily,
)
from .due import (
    BEFORE_SHIPPING,
    TO_SHIP,
    due_applications,
    due_queryset,
    due_shipments,
    kept_shipments,
)
from .file_by import (
    file_by_dates,
    refresh_file_by,
)
from .horizons import (
    AuthorityDay,
    ThresholdInputs,
    Thresholds,
    thresholds,
)
from .run import (
    DUE_DATE_KINDS,
    KINDS,
    OVERLAP,
    ScanResult,
    evaluate,
    evaluate_due_dates,
    evaluate_forecasts,
    forget_scanned_through,
    refresh_authority,
    refresh_decision_scope,
    scan,
    scanned_through,
    time_scopes,
)
from .statements import (
    candidates_query,
    clear_statement,
    raise_statement,
    recorded_clear_statement,
    recorded_raise_statement,
)

__all__ = [
    "BEFORE_SHIPPING",
    "DUE_DATE_KINDS",
    "KINDS",
    "OVERLAP",
    "TO_SHIP",
    "AuthorityDay",
    "DailyResult",
    "KindResult",
    "ScanResult",
    "ThresholdInputs",
    "Thresholds",
    "candidates_query",
    "clear_statement",
    "due_applications",
    "due_queryset",
    "due_shipments",
    "evaluate",
    "evaluate_due_dates",
    "evaluate_forecasts",
    "expire_licenses",
    "file_by_dates",
    "forget_scanned_through",
    "kept_shipments",
    "raise_statement",
    "recorded_clear_statement",
    "recorded_raise_statement",
    "refresh_authority",
    "refresh_decision_scope",
    "refresh_file_by",
    "run_daily",
    "scan",
    "scanned_through",
    "thresholds",
    "time_scopes",
]
