"""The demo loads realistic data once, and the embedded default (SQLite) works end to end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from licenses.models import Event, LicenseApplication, Status
from shipments.models import Shipment, ShipmentStatus

ROOT = Path(__file__).resolve().parent.parent


def snapshot() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.mark.django_db
def test_the_demo_has_every_state_and_running_it_twice_changes_nothing(settings):
    settings.DEMO = True
    call_command("demo", stdout=io.StringIO())
    first = snapshot()
    call_command("demo", stdout=io.StringIO())
    assert snapshot() == first
    states = set(LicenseApplication.objects.values_list("status", flat=True))
    assert states == set(Status.values)
    assert set(Shipment.objects.values_list("status", flat=True)) == set(ShipmentStatus.values)
    assert Event.objects.filter(kind="correction").exists()
    assert LicenseApplication.objects.filter(due_at__lt=timezone.now()).exists(), "none overdue"


@pytest.mark.django_db
def test_the_demo_raises_every_kind_of_flag_and_shows_the_law_in_more_detail(settings):
    from licenses.models import Measure, PauseReason
    from monitoring.models import Flag, FlagKind

    settings.DEMO = True
    call_command("demo", stdout=io.StringIO())
    call_command("scan_windows", stdout=io.StringIO())
    open_kinds = set(Flag.objects.filter(cleared_at=None).values_list("kind", flat=True))
    assert open_kinds == set(FlagKind.values)
    reasons = set(
        LicenseApplication.objects.exclude(pause_reason=None).values_list("pause_reason", flat=True)
    )
    assert {PauseReason.INFORMATION, PauseReason.EXPERT_REVIEW} <= reasons
    assert LicenseApplication.objects.exclude(reply_due_at=None).exists()
    # A measure whose suspension ends before some planned shipments: one before the end ships
    # without a license, one after it needs one.
    gallium = Measure.objects.get(reference__startswith="Demo:")
    shipments = Shipment.objects.filter(item__in=gallium.items.all(), application=None)
    assert {(s.license_required, s.status) for s in shipments} == {
        (False, ShipmentStatus.CLEARED),
        (True, ShipmentStatus.PLANNED),
    }
    assert {a for a in LicenseApplication.objects.values_list("authority__code", flat=True)} >= {
        "MOFCOM",
        "ECJU",
    }


@pytest.mark.django_db
def test_the_demo_is_refused_where_demo_is_off(settings):
    from django.core.management.base import CommandError

    settings.DEMO = False
    with pytest.raises(CommandError):
        call_command("demo")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_embedded_default_runs_on_sqlite(tmp_path):
    """Migrate, load the demo, scan and recompute on SQLite, as `make run` does with nothing set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'smoke.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "documents"),
    )
    for step in (["migrate", "--noinput"], ["demo"], ["scan_windows"], ["recompute_due_dates"]):
        result = run(step, env)
        assert result.returncode == 0, result.stderr[-3000:]
    check = run(
        [
            "shell",
            "-c",
            "from django.db import connection\n"
            "print(connection.cursor().execute('PRAGMA journal_mode').fetchone()[0])\n"
            "from licenses.models import LicenseApplication as A\n"
            "print(A.objects.exclude(due_at=None).count())\n"
            "from monitoring.models import Flag\n"
            "print(Flag.objects.filter(cleared_at=None).count())\n"
            "ids = list(A.objects.values_list('pk', flat=True)[:2])\n"
            "print(A.objects.filter(pk__any=ids).count(), A.objects.filter(pk__any=[]).count())\n"
            "for sql in ('UPDATE licenses_event SET note=1', 'DELETE FROM licenses_event'):\n"
            "    try:\n"
            "        connection.cursor().execute(sql)\n"
            "        print('rewritten')\n"
            "    except Exception as exc:\n"
            "        print('refused:', exc)\n",
        ],
        env,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    lines = check.stdout.strip().splitlines()[-6:]
    assert lines[0] == "wal"
    assert int(lines[1]) > 0
    assert int(lines[2]) > 0, "the scan raised the demo's flags"
    assert lines[3] == "2 0", "field__any falls back to IN on SQLite"
    assert lines[4].startswith("refused: the event log is append-only")
    assert lines[5].startswith("refused: the event log is append-only")
