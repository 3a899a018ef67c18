"""The demo loads realistic data once, and the embedded default (SQLite) works end to end."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from licenses.calendars import count_days
from licenses.clock import calendar_for
from licenses.models import Event, Exporter, LicenseApplication, Status
from shipments.models import Shipment, ShipmentStatus

ROOT = Path(__file__).resolve().parent.parent


def snapshot() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


ITEM_CODE = re.compile(r"^(\d[A-E]\d{3}(\.[a-z])?|\d{10})$")  # list code, or customs number


@pytest.mark.django_db
def test_the_demo_is_whole_coherent_and_running_it_twice_changes_nothing(settings):
    """One load (the demo is the slow part), every promise of the demo checked on it."""
    settings.DEMO = True
    out = io.StringIO()
    call_command("demo", stdout=out)
    # Every state the demo reached went through the services, whose events kept the status
    # tallies: the daily job's recount at its end found nothing to correct.
    assert "status tallies corrected: 0;" in out.getvalue()
    first = snapshot()
    call_command("demo", stdout=io.StringIO())
    assert snapshot() == first
    it_holds_every_state_and_flag()
    every_authority_has_two_years_of_decided_history()
    its_item_codes_are_real_list_codes()
    every_record_is_created_before_its_first_move()
    its_events_are_chained()


def its_events_are_chained() -> None:
    out = io.StringIO()
    call_command("verify_events", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Intact: ")
    assert f"{Event.objects.count():,} events verified" in out.getvalue()


def it_holds_every_state_and_flag() -> None:
    from licenses.models import Measure, PauseReason
    from monitoring.models import Flag, FlagKind

    states = set(LicenseApplication.objects.values_list("status", flat=True))
    assert states == set(Status.values)
    assert set(Shipment.objects.values_list("status", flat=True)) == set(ShipmentStatus.values)
    assert Event.objects.filter(kind="correction").exists()
    assert LicenseApplication.objects.filter(due_at__lt=timezone.now()).exists(), "none overdue"
    # The demo ends with the daily job as of today: the flags open are those true now.
    open_kinds = set(Flag.objects.filter(cleared_at=None).values_list("kind", flat=True))
    assert open_kinds == set(FlagKind.values)
    # Two years of decisions: the pending applications whose clock runs get a forecast.
    forecast = LicenseApplication.objects.filter(forecast_p50__isnull=False)
    assert set(forecast.values_list("authority__code", flat=True)) == {"MOFCOM", "BIS", "ECJU"}
    call_command("scan_windows", stdout=io.StringIO())
    assert set(Flag.objects.filter(cleared_at=None).values_list("kind", flat=True)) == open_kinds
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
    # Pending work at every authority, not only at MOFCOM.
    pending = LicenseApplication.objects.filter(
        status__in=[Status.SUBMITTED, Status.ACCEPTED, Status.INFO_REQUESTED]
    )
    assert set(pending.values_list("authority__code", flat=True)) == {"MOFCOM", "BIS", "ECJU"}
    assert set(Exporter.objects.values_list("country", flat=True)) >= {"CN", "US", "GB"}


def every_authority_has_two_years_of_decided_history() -> None:
    """Enough decided applications at each authority for forecasts from history (20), approved
    and rejected, filed over about two years; shipments shipped and delivered over it."""
    now = timezone.now()
    for code in ("MOFCOM", "BIS", "ECJU"):
        decided = LicenseApplication.objects.filter(authority__code=code).exclude(decided_at=None)
        assert decided.count() >= 20, code
        assert decided.filter(status=Status.REJECTED).exists(), code
        assert decided.exclude(status=Status.REJECTED).exists(), code
        oldest = decided.order_by("submitted_at").first()
        assert oldest is not None and oldest.submitted_at is not None
        assert now - oldest.submitted_at > dt.timedelta(days=600), code
        # Decided in times around and beyond the authority's window.
        authority = oldest.authority
        calendar = calendar_for(authority)
        taken = [
            count_days(
                calendar=calendar,
                start=(a.accepted_at or a.submitted_at).astimezone(authority.tz).date(),
                end=a.decided_at.astimezone(authority.tz).date(),
                unit=authority.window_unit,
            )
            for a in decided
        ]
        assert min(taken) < authority.window_days < max(taken), (code, sorted(taken))
    delivered = Shipment.objects.filter(status=ShipmentStatus.DELIVERED).order_by("shipped_at")
    assert delivered.count() >= 10
    assert delivered.last().shipped_at - delivered.first().shipped_at > dt.timedelta(days=300)
    # Every MOFCOM acceptance carries the case number of its notice.
    accepted = LicenseApplication.objects.filter(authority__code="MOFCOM").exclude(accepted_at=None)
    assert accepted.exists()
    assert not accepted.filter(Q(authority_reference="") | Q(authority_reference=None)).exists()


def its_item_codes_are_real_list_codes() -> None:
    from licenses.models import ControlledItem

    named = ControlledItem.objects.filter(
        Q(applications__isnull=False) | Q(shipments__isnull=False)
    ).distinct()
    assert named.count() >= 10
    assert {i.authority.code for i in named} == {"MOFCOM", "BIS", "ECJU"}
    bad = [i.code for i in named if not ITEM_CODE.match(i.code)]
    assert not bad, f"not a control-list code or customs number: {bad}"


def every_record_is_created_before_its_first_move() -> None:
    """Each application and shipment: created (recorded then) before its first move; its moves
    recorded in the order they happened, none recorded before it happened; each shipment
    planned before its ship date."""
    created: dict[tuple[str, int], dt.datetime] = {}
    moves: dict[tuple[str, int], list[Event]] = {}
    for event in Event.objects.exclude(application=None, shipment=None).order_by("pk"):
        subject = (
            ("shipment", event.shipment_id) if event.shipment_id else ("app", event.application_id)
        )
        assert event.occurred_at <= event.recorded_at, event
        if event.kind == "created":
            created[subject] = event.recorded_at
        elif event.kind == "status_changed":
            moves.setdefault(subject, []).append(event)
    assert len(created) == LicenseApplication.objects.count() + Shipment.objects.count()
    for subject, made in moves.items():
        assert created[subject] <= made[0].occurred_at, subject
        happened = [e.occurred_at for e in made]
        assert happened == sorted(happened), subject
    for shipment in Shipment.objects.all():
        tz = shipment.item.authority.tz
        assert created[("shipment", shipment.pk)].astimezone(tz).date() < (
            shipment.planned_ship_date
        ), shipment.reference


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
    """Migrate, load the demo, scan and recompute on SQLite, as `make run` does with nothing set;
    the events' chains verify."""
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
    # The event writer links every event on SQLite too (no trigger there).
    verified = run(["verify_events"], env)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    assert verified.stdout.startswith("Intact: ")
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
            "        print('refused:', exc)\n"
            "from django.contrib.auth import get_user_model\n"
            "from django.test import Client\n"
            "client = Client()\n"
            "client.force_login(get_user_model().objects.get(username='officer'))\n"
            "page = client.get('/', HTTP_HOST='127.0.0.1')\n"
            "print(page.status_code, b'My work' in page.content)\n",
        ],
        env,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    lines = check.stdout.strip().splitlines()[-7:]
    assert lines[0] == "wal"
    assert int(lines[1]) > 0
    assert int(lines[2]) > 0, "the scan raised the demo's flags"
    assert lines[3] == "2 0", "field__any falls back to IN on SQLite"
    assert lines[4].startswith("refused: the event log is append-only")
    assert lines[5].startswith("refused: the event log is append-only")
    # the dashboard, work queue first, renders on SQLite (no LIMIT inside a UNION there)
    assert lines[6] == "200 True"


def test_make_run_gives_every_process_the_served_address_for_links():
    """honcho gives each process a PORT of its own (the worker, which sends the e-mails, gets
    the web's plus 100): `make run` sets SITE_URL from the port served, unless it is set."""
    shown = subprocess.run(
        ["make", "-n", "run", "PORT=8091"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SITE_URL"},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    [line] = [line for line in shown.splitlines() if "honcho start" in line]
    assert 'SITE_URL="${SITE_URL:-http://127.0.0.1:8091}"' in line
    assert "runserver 127.0.0.1:${PORT:-8000}" in (ROOT / "Procfile.local").read_text()
