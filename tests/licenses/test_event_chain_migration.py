"""The migration links the events stored before it exactly as the trigger (PostgreSQL) or the
writer (SQLite) links new ones: record a small history with the chain in place, migrate back
to before it (the links and the chains' rows are dropped), migrate forward again (the stored
events are linked by the migration), and compare; then verify_events passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.slow

HISTORY = """
import datetime as dt, json, zoneinfo
from decimal import Decimal
from licenses import services
from licenses.models import Authority, ControlledItem, Exporter
from monitoring import scan
from shipments import services as shipping
tz = zoneinfo.ZoneInfo("Asia/Shanghai")
day = lambda d: dt.datetime(2026, 9, d, 10, tzinfo=tz)
exporter = Exporter.objects.create(name="Chain", registration_number="C-1", country="CN")
consignee = shipping.consignee_create(
    now=day(1), actor=None, exporter=exporter, name="Magnets GmbH", country="DE", end_use="x"
)
for n in range(3):
    app = services.application_create(
        now=day(1), actor=None, items=[ControlledItem.objects.get(code="1C902")],
        exporter=exporter, authority=Authority.objects.get(code="MOFCOM"), destination="DE",
        reference=f"CH-{n}", authority_reference=f"CASE-CH-{n}", quantity=Decimal(100),
        value=Decimal(1000), currency="USD",
    )
    shipping.shipment_create(
        now=day(2), actor=None, exporter=exporter, reference=f"CH-S-{n}",
        item=ControlledItem.objects.get(code="1C902"), quantity=Decimal(10),
        value=Decimal(100), currency="USD", destination="DE", consignee=consignee,
        planned_ship_date=dt.date(2026, 12, 20), application=app,
    )
    services.application_submit(application=app, at=day(3), now=day(3), actor=None,
                                note="Ünïcode “quoted” \\\\ =1+1")
    services.application_accept(application=app, at=day(5 + n), now=day(5 + n), actor=None)
scan.scan(now=dt.datetime(2026, 12, 20, 10, tzinfo=tz))
"""

DUMP = """
import json
from licenses.models import Event, EventChain
print("LINKS " + json.dumps({
    "events": sorted(Event.objects.values_list("id", "seq", "prev_hash", "hash")),
    "chains": sorted(EventChain.objects.values_list(
        "subject_type", "subject_id", "length", "prev_hash", "head", "last_event_id")),
}))
"""


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def links(env: dict[str, str]) -> dict:
    out = manage(env, "shell", "-c", DUMP)
    [line] = [line for line in out.splitlines() if line.startswith("LINKS ")]
    return json.loads(line[len("LINKS ") :])


@pytest.fixture
def database_url(request, tmp_path):
    """A database of its own (the test database is left alone)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chain.sqlite3'}"
        return
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")
    base, _, _name = server.rpartition("/")
    name = f"test_chain_migration_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_the_migration_links_stored_events_as_they_were_linked_when_written(database_url):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
    }
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", HISTORY)
    written = links(env)
    assert len(written["events"]) > 20 and len(written["chains"]) == 6
    manage(env, "migrate", "licenses", "0014", "-v0")  # links and chains dropped
    manage(env, "migrate", "-v0")  # the stored events linked by the migration
    assert links(env) == written
    assert "Intact: 6 chains" in manage(env, "verify_events")
    # The append-only triggers are back (SQLite rebuilt the table twice on the way).
    refused = manage(
        env,
        "shell",
        "-c",
        "from django.db import connection\n"
        "try:\n"
        "    connection.cursor().execute('DELETE FROM licenses_event')\n"
        "    print('deleted')\n"
        "except Exception as exc:\n"
        "    print('refused:', exc)\n",
    )
    assert "refused: the event log is append-only" in refused
