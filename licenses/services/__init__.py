"""Writes of the regulatory core: every change to an application, an exporter or a due date goes
through these functions (typed, keyword-only, named <entity>_<action>), from every surface.
They refuse with `core.errors.DomainError` and change nothing then."""

from __future__ import annotations

from .applications import EDITABLE_AFTER_DRAFT as EDITABLE_AFTER_DRAFT
from .applications import application_create as application_create
from .applications import application_update as application_update
from .applications import drawdown_update as drawdown_update
from .checks import _check_authority_reference as _check_authority_reference
from .checks import _check_items as _check_items
from .corrections import _undo as _undo
from .corrections import application_correct as application_correct
from .corrections import effective_moment as effective_moment
from .corrections import latest_move as latest_move
from .due_dates import _store_windows as _store_windows
from .due_dates import recompute_due_dates as recompute_due_dates
from .due_dates import save_due_dates as save_due_dates
from .exporters import exporter_create as exporter_create
from .exporters import exporter_update as exporter_update
from .measures import measure_create as measure_create
from .measures import measure_update as measure_update
from .moves import AMENDMENT_FIELDS as AMENDMENT_FIELDS
from .moves import CLOSES_PAUSE as CLOSES_PAUSE
from .moves import DATED_FIELD as DATED_FIELD
from .moves import MAY_EXHAUST as MAY_EXHAUST
from .moves import MOVE_LABELS as MOVE_LABELS
from .moves import MOVES as MOVES
from .moves import NOT_AMENDABLE as NOT_AMENDABLE
from .moves import Move as Move
from .moves import S as S
from .moves import _jsonable as _jsonable
from .moves import _move as _move
from .moves import application_accept as application_accept
from .moves import application_amend as application_amend
from .moves import application_approve as application_approve
from .moves import application_approve_amendment as application_approve_amendment
from .moves import application_exhaust as application_exhaust
from .moves import application_expire as application_expire
from .moves import application_provide_info as application_provide_info
from .moves import application_refer as application_refer
from .moves import application_refuse_amendment as application_refuse_amendment
from .moves import application_reinstate as application_reinstate
from .moves import application_reject as application_reject
from .moves import application_replenish as application_replenish
from .moves import application_request_info as application_request_info
from .moves import application_resubmit as application_resubmit
from .moves import application_return as application_return
from .moves import application_revoke as application_revoke
from .moves import application_submit as application_submit
from .moves import application_surrender as application_surrender
from .moves import application_suspend as application_suspend
from .moves import application_withdraw as application_withdraw
from .moves import check_moment as check_moment
from .moves import fully_drawn as fully_drawn
from .moves import legal_moves as legal_moves
from .moves import new_application_needed as new_application_needed
from .moves import not_legal_message as not_legal_message
