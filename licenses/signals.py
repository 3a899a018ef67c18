"""What licenses tell the rest of the product, so that it need not import them back.

- `application_moved(application, from_status, to_status, at, now, actor, event)`: sent inside
  the move's transaction; shipments follow their application's state.
- `due_dates_changed(application_ids, now)`: sent inside the transaction that stored new due
  dates; flags are re-evaluated for those applications.
- `decision_pass_finished(decision, scope, now, inline)`: a fast-track decision's pass (apply
  or un-apply) finished. The file-by deadlines of the shipments in its scope follow: at once
  when the pass ran `inline` (inside the caller's transaction), else in a task of their own
  queued once the pass commits.
"""

from django.dispatch import Signal

application_moved = Signal()
due_dates_changed = Signal()
decision_pass_finished = Signal()
