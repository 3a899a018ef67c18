"""Web forms II reuses the small world of the web pages (two exporters, each with a consignee,
an application under review and a shipment) and keeps uploaded files in a temporary folder."""

from __future__ import annotations

import pytest

from ..api.conftest import api  # noqa: F401
from ..web.conftest import World, build_side, nobody, pinned_clock, world  # noqa: F401


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"
    return settings.MEDIA_ROOT
