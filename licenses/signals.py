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
"""

from django.dispatch import Signal

application_moved = Signal()
application_correcting = Signal()
due_dates_changed = Signal()
decision_pass_finished = Signal()
