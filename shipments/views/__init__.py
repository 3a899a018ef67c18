"""Pages for shipments, consignees and the CSV import. Reads go through the selectors, writes
through the services; a refused write becomes messages and field errors and changes nothing."""

from __future__ import annotations

from .consignees import ConsigneeCreate as ConsigneeCreate
from .consignees import ConsigneeDetail as ConsigneeDetail
from .consignees import ConsigneeEdit as ConsigneeEdit
from .consignees import ConsigneeList as ConsigneeList
from .consignees import _consignee as _consignee
from .imports import IMPORT_COLUMNS as IMPORT_COLUMNS
from .imports import ShipmentImport as ShipmentImport
from .imports import ShipmentImportTemplate as ShipmentImportTemplate
from .imports import import_limits as import_limits
from .measures import MeasureDetail as MeasureDetail
from .measures import MeasureList as MeasureList
from .shipments import MOVE_BUTTONS as MOVE_BUTTONS
from .shipments import MOVE_HELP as MOVE_HELP
from .shipments import MOVE_PERMISSION as MOVE_PERMISSION
from .shipments import MOVE_SERVICES as MOVE_SERVICES
from .shipments import ShipmentCorrect as ShipmentCorrect
from .shipments import ShipmentCreate as ShipmentCreate
from .shipments import ShipmentDetail as ShipmentDetail
from .shipments import ShipmentEdit as ShipmentEdit
from .shipments import ShipmentFileApplication as ShipmentFileApplication
from .shipments import ShipmentList as ShipmentList
from .shipments import ShipmentMove as ShipmentMove
from .shipments import _shipment as _shipment
from .shipments import shipment_context as shipment_context
from .shipments import shipment_flags as shipment_flags
