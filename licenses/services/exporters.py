"""Creating and editing exporters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import full_clean

from ..models import (
    Exporter,
)


def exporter_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Exporter:
    """A new exporter, validated like any model (the caller checks the actor may create one)."""
    exporter = Exporter(**fields)
    full_clean(exporter)
    exporter.save()
    return exporter


def exporter_update(*, exporter: Exporter, now: dt.datetime, actor: Any, **fields: Any) -> Exporter:
    for name, value in fields.items():
        setattr(exporter, name, value)
    full_clean(exporter)
    exporter.save()
    return exporter
