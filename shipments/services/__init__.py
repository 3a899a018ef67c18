"""Writes of shipments and consignees: every change goes through these functions, from every
surface. They refuse with `core.errors.DomainError` and change nothing then."""

from __future__ import annotations

from .consignees import consignee_create as consignee_create
from .consignees import consignee_update as consignee_update
from .corrections import _GONE as _GONE
from .corrections import LICENSED as LICENSED
from .corrections import SHIPMENT_DATED_FIELD as SHIPMENT_DATED_FIELD
from .corrections import _references as _references
from .corrections import application_correction_check as application_correction_check
from .corrections import shipment_correct as shipment_correct
from .corrections import shipment_correctable as shipment_correctable
from .corrections import shipment_latest_move as shipment_latest_move
from .drawdown import _release as _release
from .drawdown import _reserve as _reserve
from .filing import NOT_IN_FORCE as NOT_IN_FORCE
from .filing import may_file_application as may_file_application
from .filing import shipment_file_application as shipment_file_application
from .moves import _BEFORE_SHIPPING as _BEFORE_SHIPPING
from .moves import SHIPMENT_MOVES as SHIPMENT_MOVES
from .moves import ShipmentMove as ShipmentMove
from .moves import _check_shipped_after_approval as _check_shipped_after_approval
from .moves import _move as _move
from .moves import follow_application as follow_application
from .moves import legal_shipment_moves as legal_shipment_moves
from .moves import shipment_cancel as shipment_cancel
from .moves import shipment_deliver as shipment_deliver
from .moves import shipment_hold as shipment_hold
from .moves import shipment_release as shipment_release
from .moves import shipment_ship as shipment_ship
from .shipments import EDITABLE_STATUSES as EDITABLE_STATUSES
from .shipments import _reevaluate as _reevaluate
from .shipments import shipment_create as shipment_create
from .shipments import shipment_update as shipment_update
from .states import CLOSED_APPLICATION as CLOSED_APPLICATION
from .states import FOLLOWS as FOLLOWS
from .states import SS as SS
from .states import following_status as following_status
