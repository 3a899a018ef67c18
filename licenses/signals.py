"""What licenses tell the rest of the product, so that it need not import them back.

- `application_moved(application, from_status, to_status, at, now, actor, event)`: sent inside
  the move's transaction; shipments follow their application's state.
- `application_correcting(application, event, move, undo, to_status, at, now)`: sent inside
  a correction's transaction before anything is written: `event` is the move corrected, and
  the application will be in `to_status` with the move dated `at` (None for an undo).
  Listeners refuse a correction that would leave their objects in a state the application no
  longer allows by raising a `DomainError`, which rolls the correction back.
- `due_dates_changed(application_ids, now)`: sent inside the transaction that stored new due
  dates; flags are re-evaluated for those applications.
- `decision_pass_finished(decision, scope, now, inline)`: a fast-track decision's pass (apply
  or un-apply) finished. The file-by deadlines of the shipments in its scope follow: at once
  when the pass ran `inline` (inside the caller's transaction), else in a task of their own
  queued once the pass commits.
- `changed(now, application_ids=(), shipment_ids=(), file_by_ids=(), draft_ids=(),
  authority_id=None, thresholds=False)`: sent by the services (only by them, never on
  `post_save`) after a write, inside its transaction, so that what depends on it is
  re-evaluated with the caller's `now`: the flags of `application_ids` and `shipment_ids`;
  the file-by deadlines (and flags) of the shipments created or edited (`file_by_ids`) and of
  the shipments of `draft_ids` (a draft's license type is an input); those of all the
  shipments of `authority_id` when an input of its windows changed (the authority, its
  calendar, a review-window rule); `thresholds` when the scan's working-day thresholds
  changed (an authority's zone or calendar). An application's move sends it after
  `application_moved`, so its shipments have followed when flags are evaluated.
- `measure_changed(authority_id, item_ids, now)`: sent by the measure services inside the
  transaction that logged or changed a measure (its period, suspensions, items, destinations
  or kind); `item_ids` are the items it names before and after the change. Shipments of those
  items re-evaluate, set-based, whether they need a license, and follow.
- `measure_recorded(change, now)`: sent by the measure services inside the transaction that
  logged or edited a measure (any field), with the `MeasureChange` row that records it.
- `forecasts_changed(application_ids, now)`: sent inside the transaction that stored new
  forecasts (`licenses.services.forecasts`); the `likely_late` flags of their shipments follow.
- `history_tallied(authority_id, now)`: sent inside the forecast pass's transaction for an
  authority once it stored that authority's history (after every decision and correction
  there, and daily); the dashboard's stored approval months follow.
"""

from django.dispatch import Signal

application_moved = Signal()
application_correcting = Signal()
due_dates_changed = Signal()
decision_pass_finished = Signal()
changed = Signal()
measure_changed = Signal()
measure_recorded = Signal()
forecasts_changed = Signal()
history_tallied = Signal()
