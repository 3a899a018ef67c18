"""Creating and editing consignees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import full_clean

from ..models import Consignee


def consignee_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Consignee:
    consignee = Consignee(**fields)
    full_clean(consignee)
    consignee.save()
    return consignee


def consignee_update(
    *, consignee: Consignee, now: dt.datetime, actor: Any, **fields: Any
) -> Consignee:
    for name, value in fields.items():
        setattr(consignee, name, value)
    full_clean(consignee)
    consignee.save()
    return consignee
