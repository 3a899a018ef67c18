"""Fixtures of the window-scan tests."""

from __future__ import annotations

import pytest
from django.core import mail

from ..factories import ExporterFactory


@pytest.fixture
def exporter(db):
    return ExporterFactory(
        name="Ganzhou Rare Earth Trading Co., Ltd.", contact_emails=["compliance@ganzhou.example"]
    )


@pytest.fixture(autouse=True)
def _empty_outbox():
    mail.outbox = []
