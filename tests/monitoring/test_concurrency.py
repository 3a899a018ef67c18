"""Any number of scans, sweeps and digest jobs may run at once: four of each, in threads with
their own database connections, on the same data."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import OperationalError, connection

from licenses.models import Event
from monitoring import alerts, scan
from monitoring.models import ALERTING_FLAGS, Alert, Digest, Flag
from monitoring.scan.apply import retrying

from . import bulk

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NOW = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)


def run_together(work, n: int = 4) -> list:
    """Run `work` in n threads released at the same instant; return what each returned."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.fixture
def book(officer, manager):
    """Three hundred applications with their shipments, as a few years of work leave them;
    an officer (immediate alerts for everything) and a manager (the digest) are watching."""
    bulk.load(300, now=NOW, exporters=10)


def test_four_concurrent_scans_raise_each_flag_and_each_alert_exactly_once(book):
    results = run_together(lambda: scan.scan(now=NOW))

    flags = list(Flag.objects.values_list("kind", "application_id", "shipment_id", "cleared_at"))
    assert len(flags) > 20
    per_subject = Counter((kind, app or ship) for kind, app, ship, _cleared in flags)
    assert max(per_subject.values()) == 1  # one flag per subject and kind, never two
    assert all(cleared is None for *_rest, cleared in flags)
    # Together the four runs raised each flag once; what one raised the others did not.
    assert sum(r.raised for r in results) == len(flags)

    th = scan.thresholds(now=NOW)
    for kind in scan.KINDS:
        due = set(scan.due_queryset(kind, th).values_list("pk", flat=True))
        assert {s for (k, s) in per_subject if k == kind} == due, kind

    # One alert per raised flag and recipient, and one event per flag.
    expected_alerts = 0
    for flag in Flag.objects.filter(kind__in=ALERTING_FLAGS):
        expected_alerts += len(
            alerts.recipients(exporter_ids=[flag.exporter_id], kind=flag.kind)[flag.exporter_id]
        )
    assert Alert.objects.count() == expected_alerts
    assert sum(r.alerts for r in results) == expected_alerts
    assert Event.objects.filter(kind="flag_raised").count() == len(flags)

    # And the four of them again change nothing.
    again = run_together(lambda: scan.scan(now=NOW))
    assert sum(r.raised + r.cleared + r.alerts for r in again) == 0


def test_four_concurrent_sweeps_send_each_alert_once(book):
    scan.scan(now=NOW)
    pending = Alert.objects.count()
    assert pending > 0
    mail.outbox = []
    results = run_together(lambda: alerts.sweep(now=NOW + dt.timedelta(minutes=5), limit=1000))
    assert sum(r.sent for r in results) == pending
    assert len(mail.outbox) == pending
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == pending
    assert not Alert.objects.exclude(state="sent").exists()


def test_four_concurrent_digest_jobs_send_each_users_digest_once(book, manager):
    scan.scan(now=NOW)
    mail.outbox = []
    at_eight = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    results = run_together(lambda: alerts.send_digests(now=at_eight))
    assert sum(results) == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert Digest.objects.count() == 1


def test_a_scan_chosen_as_a_deadlock_victim_runs_that_kind_again():
    outcomes = iter([OperationalError("deadlock detected"), "done"])

    def work():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retrying(work) == "done"

    def deadlocked():
        raise OperationalError("deadlock detected")

    connection.in_atomic_block = True  # inside a caller's transaction: it must fail as a whole
    try:
        with pytest.raises(OperationalError):
            retrying(deadlocked)
    finally:
        connection.in_atomic_block = False
