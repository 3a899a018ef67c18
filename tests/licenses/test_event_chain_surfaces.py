"""The chain where people meet it: the README's SQL finds what verify_events finds, and the
admin's event page shows each event's link."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from ..factories import ApplicationFactory
from ..helpers import accepted, submitted
from .test_event_chain import tamper

pytestmark = pytest.mark.django_db


# --- from SQL alone, as the README shows ----------------------------------------------------


def readme_checks() -> list[str]:
    """The two SQL queries of the README's *A tamper-evident record*."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("In SQL alone")[1].split("```sql")[1].split("```")[0]
    return [query for query in block.split(";") if query.strip()]


def found_by(query: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return [row[0] for row in cursor.fetchall()]


def test_the_readmes_sql_finds_a_changed_event_and_a_broken_link():
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    accepted(app, "2026-09-03")
    changed_query, links_query = readme_checks()
    assert found_by(changed_query) == [] and found_by(links_query) == []
    first, second, third = app.events.filter(shipment=None).order_by("seq")[:3]
    tamper("UPDATE licenses_event SET note = 'rewritten' WHERE id = %s", [first.pk])
    assert found_by(changed_query) == [first.pk]
    tamper("DELETE FROM licenses_event WHERE id = %s", [second.pk])
    assert found_by(links_query) == [third.pk]


def test_the_admin_shows_an_events_link_in_its_chain(client, superuser):
    app = ApplicationFactory()
    submitted(app, "2026-09-01")
    event = app.events.order_by("seq").last()
    client.force_login(superuser)
    page = client.get(f"/admin/licenses/event/{event.pk}/change/").content.decode()
    assert event.hash in page and event.prev_hash in page
