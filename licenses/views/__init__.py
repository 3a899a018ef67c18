"""Pages for exporters, applications, documents and fast-track decisions. Reads go through the
selectors, writes through the services; a refused write becomes messages and field errors and
changes nothing."""

from __future__ import annotations

from .applications import DOCUMENT_PERMISSION as DOCUMENT_PERMISSION
from .applications import MOVE_BUTTONS as MOVE_BUTTONS
from .applications import MOVE_HELP as MOVE_HELP
from .applications import MOVE_PERMISSION as MOVE_PERMISSION
from .applications import MOVE_SERVICES as MOVE_SERVICES
from .applications import MOVE_SLUGS as MOVE_SLUGS
from .applications import ApplicationCreate as ApplicationCreate
from .applications import ApplicationDetail as ApplicationDetail
from .applications import ApplicationEdit as ApplicationEdit
from .applications import ApplicationList as ApplicationList
from .applications import _application as _application
from .applications import _correctable as _correctable
from .applications import _flags as _flags
from .applications import detail_context as detail_context
from .documents import DocumentDownload as DocumentDownload
from .documents import DocumentUpload as DocumentUpload
from .documents import documents_anchor as documents_anchor
from .exporters import ExporterAudit as ExporterAudit
from .exporters import ExporterCreate as ExporterCreate
from .exporters import ExporterDetail as ExporterDetail
from .exporters import ExporterEdit as ExporterEdit
from .exporters import ExporterList as ExporterList
from .exporters import may_create_exporter as may_create_exporter
from .fast_track import DECISION_STATE_CSS as DECISION_STATE_CSS
from .fast_track import EVENT_LIMIT as EVENT_LIMIT
from .fast_track import FastTrackCreate as FastTrackCreate
from .fast_track import FastTrackDetail as FastTrackDetail
from .fast_track import FastTrackList as FastTrackList
from .fast_track import FastTrackRevoke as FastTrackRevoke
from .fast_track import _decision as _decision
from .fast_track import _writable_decision as _writable_decision
from .fast_track import authority_day as authority_day
from .fast_track import change_text as change_text
from .fast_track import decision_page as decision_page
from .fast_track import logged_message as logged_message
from .moves import ApplicationCorrect as ApplicationCorrect
from .moves import ApplicationMove as ApplicationMove
