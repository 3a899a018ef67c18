"""Fast-track decisions: log, preview, apply, un-apply (end or revocation), and the daily job.
A decision changes the review window of the pending applications it covers while it is in
force. Which window governs is the clock's business (`licenses.clock.governing_window`): a
decision counts while it is in force and not revoked. *Applying* or *un-applying* a decision
therefore means recomputing the pending applications its scope touches:  1. Candidates: the
pending applications of the decision's authority that its scope touches,    read in chunks of
ids ascending, rows locked so that a concurrent move waits for us. 2.
`licenses.clock.recompute` computes their windows and due dates (a fixed number of    queries
per chunk, whatever its size). 3. `licenses.services.save_due_dates` stores what changed (one
UPDATE, one INSERT of events    per chunk): each event is `fast_track_applied` or
`fast_track_removed`, names the decision    and holds the old and new due date; it sends
`due_dates_changed` inside the transaction so    that flags are re-evaluated at once. 4. The
effect is stored on the decision: how many due dates moved and the median change in    days,
counted from those events (so a pass that was interrupted and run again counts right).  The
`applied` flag says whether the effect is in place. It flips with a compare-and-set (`UPDATE
… WHERE applied = <what I read>`), so logging, the daily job and revocation apply or un-apply
a decision once, however many of them run at the same time. Scopes larger than
`settings.FAST_TRACK_INLINE_LIMIT` applications (default 2,000) are handed, on commit, to a
Celery task (`licenses.tasks.recompute_decision_scope`) that works chunk by chunk, each chunk
its own transaction, and records its progress on the decision (`progress_total`,
`progress_done`, `progress_finished_at`). Recomputing is idempotent: running a pass twice
changes nothing the second time."""

from __future__ import annotations

from .apply import STALE_PASS as STALE_PASS
from .apply import _pass_note as _pass_note
from .apply import _queue as _queue
from .apply import _start_pass as _start_pass
from .apply import chunk_size as chunk_size
from .apply import decision_recompute_scope as decision_recompute_scope
from .apply import inline_limit as inline_limit
from .consequences import ConsequenceRow as ConsequenceRow
from .consequences import Consequences as Consequences
from .consequences import decision_consequences as decision_consequences
from .effect import DecisionEffect as DecisionEffect
from .effect import Figures as Figures
from .effect import _effect_from_events as _effect_from_events
from .effect import _median as _median
from .effect import decision_effect as decision_effect
from .effect import decision_figures as decision_figures
from .effect import decision_state as decision_state
from .log import ISO_ALPHA2 as ISO_ALPHA2
from .log import CheckedScope as CheckedScope
from .log import _check_may_write as _check_may_write
from .log import _switch as _switch
from .log import decision_check as decision_check
from .log import decision_edit as decision_edit
from .log import decision_log as decision_log
from .log import decision_revoke as decision_revoke
from .log import decisions_daily as decisions_daily
from .preview import SAMPLE_SIZE as SAMPLE_SIZE
from .preview import Preview as Preview
from .preview import PreviewRow as PreviewRow
from .preview import _change_days as _change_days
from .preview import decision_preview as decision_preview
from .scope import APPLIED as APPLIED
from .scope import CLOCK_FIELDS as CLOCK_FIELDS
from .scope import MAX_WINDOW_DAYS as MAX_WINDOW_DAYS
from .scope import RECOMPUTED_FIELDS as RECOMPUTED_FIELDS
from .scope import REMOVED as REMOVED
from .scope import _Candidate as _Candidate
from .scope import _ids as _ids
from .scope import _user as _user
from .scope import candidates as candidates
from .scope import make_scope as make_scope
from .scope import scope_of as scope_of
