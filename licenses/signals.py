"""What licenses tell the rest of the product, so that it need not import them back.

- `application_moved(application, from_status, to_status, at, now, actor, event)`: sent inside
  the move's transaction; shipments follow their application's state.
- `due_dates_changed(application_ids, now)`: sent inside the transaction that stored new due
  dates; flags are re-evaluated for those applications.
"""

from django.dispatch import Signal

application_moved = Signal()
due_dates_changed = Signal()
