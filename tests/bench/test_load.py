"""The load test (`bench/load.py`, in `make bench` at 1,000,000 shipments): its clients against
the product served on the test database, so that the mix cannot rot (every request answers as
expected), its moves touch only the shipments it creates, and its report says PASS only when
the target is met."""

from __future__ import annotations

import datetime as dt
import random
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token

from bench import build, load, report, web
from licenses import roles
from monitoring.models import Alert, Flag
from shipments.models import Shipment
from tests.factories import ApplicationFactory, ExporterFactory, ShipmentFactory, UserFactory

# Served by live_server (another thread): transactional, with the seeded authorities put back.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def book():
    """The benchmark's officer (session and token) and a small book to read."""
    officer = UserFactory(username="bench-officer")
    officer.groups.add(Group.objects.get(name=roles.OFFICER))
    Token.objects.create(user=officer, key=build.OFFICER_TOKEN)
    exporter = ExporterFactory()
    for n in range(3):
        ApplicationFactory(exporter=exporter, reference=f"APP-LOAD-{n}")
        ShipmentFactory(exporter=exporter, reference=f"SHP-LOAD-{n}")
    return exporter


def target(live_server, run: str) -> load.Target:
    info = web.load_info()
    return load.Target(
        port=int(urlparse(live_server.url).port or 80),
        token=info["token"],
        shipments=info["shipments"],
        applications=info["applications"],
        exporter=info["exporter"],
        template=info["template"],
        mix=load.MIX,
        run=run,
        # A year ahead of the server's clock (the real one): no deadline near, no flag.
        ship_date=(dt.date.today() + dt.timedelta(days=365)).isoformat(),
    )


@live
def test_every_request_of_the_mix_answers_as_expected_and_moves_only_its_own_shipments(
    live_server, book
):
    before = dict(Shipment.objects.values_list("pk", "status"))
    sessions = web.sessions(2)
    result = load.phase(
        target(live_server, "t1"), sessions, clients=2, seconds=3600, think=0, seed=7, requests=40
    )
    assert result["errors"] == 0, result["error_samples"]
    assert result["requests"] == 80
    assert set(result["kinds"]) == set(load.KINDS)  # every kind was drawn and answered
    created = Shipment.objects.filter(reference__startswith="LOAD-t1-")
    assert created.count() == result["created"] > 0
    # Each ends cancelled (a cycle cut short by the end of the phase too), having raised
    # nothing; the book's own shipments are untouched.
    assert set(created.values_list("status", flat=True)) == {"cancelled"}
    assert result["left_uncancelled"] == 0
    assert not Flag.objects.filter(shipment__in=created).exists()
    assert not Alert.objects.filter(flag__shipment__in=created).exists()
    assert dict(Shipment.objects.exclude(pk__in=created).values_list("pk", "status")) == before
    assert web.end_sessions(sessions) == 2
    assert not Session.objects.filter(session_key__in=sessions).exists()


@live
def test_a_run_stopped_midway_leaves_no_shipment_to_ship(live_server, book):
    client = load.Client(target(live_server, "t2"), 0, 1, "", 0, random.Random(1))
    kind, method, path, api, body, expected = client.move()
    assert (kind, expected) == ("create", 201)
    status, content = client.call(method, path, api=api, body=body)
    assert status == 201, content
    client.after_move(kind, status, content)  # created, then the run stops
    assert Shipment.objects.get(reference__startswith="LOAD-t2-").status == "planned"
    assert web.load_cleanup("t2") == (1, 1)
    assert Shipment.objects.get(reference__startswith="LOAD-t2-").status == "cancelled"
    assert web.load_cleanup("t2") == (0, 1)


@pytest.mark.django_db
def test_folding_the_tallies_between_phases_keeps_every_count(book):
    from bench.worker import command_fold_tallies
    from licenses import tallies
    from licenses.models import StatusTally

    ShipmentFactory(exporter=book, reference="SHP-LOAD-MORE")  # more delta rows
    before = tallies.sums(None)
    rows = StatusTally.objects.count()
    assert command_fold_tallies({})["folded"] > 0
    assert tallies.sums(None) == before
    assert StatusTally.objects.count() < rows


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == pytest.approx(50.5)
    assert load.percentile(values, 95) == pytest.approx(95.05)
    assert load.percentile(values, 99) == pytest.approx(99.01)
    assert load.percentile([3.0], 95) == 3.0


def _phase(p50: float, p95: float, *, errors: int = 0, rps: float = 10.0) -> dict:
    stats = {"n": 100, "median_ms": p50, "p95_ms": p95, "p99_ms": p95 * 1.2, "max_ms": p95 * 2}
    return {
        "requests": 600,
        "seconds": 60.0,
        "rps": rps,
        "overall": stats,
        "kinds": {"dashboard": stats, "move": stats},
        "errors": errors,
        "created": 3,
        "client_cpu_s": 4.0,
    }


def _load(think: dict, saturation: dict) -> dict:
    single = _phase(40, 80)
    return {
        "database": "bench_1m",
        "workers": 4,
        "clients": 50,
        "think_s": 1.5,
        "mix": load.MIX,
        "without": [],
        "single": single,
        "think": think,
        "think_verdict": load.verdict(single, think),
        "saturation": saturation,
        "saturation_verdict": load.verdict(single, saturation),
    }


def test_the_verdict_needs_no_errors_and_a_p95_under_five_times_the_single_median():
    single = _phase(40, 80)
    assert load.verdict(single, _phase(60, 199))["ok"]
    assert not load.verdict(single, _phase(60, 200))["ok"]  # 5x: not under it
    assert not load.verdict(single, _phase(60, 100, errors=1))["ok"]
    assert load.verdict(single, _phase(60, 120))["kind_ratios"] == {"dashboard": 3.0, "move": 3.0}


def test_the_report_says_pass_and_fail_where_they_are():
    table = report.load_table(_load(_phase(60, 120), _phase(900, 2500, errors=2)))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    think = "Load, 50 clients, think time 1.5 s (exponential mean), 4 workers"
    saturation = "Load, 50 clients, no think time (saturation), 4 workers"
    assert rows[f"{think}: errors"].endswith("**PASS** |")
    assert "3.0x | **PASS**" in rows[f"{think}: latency p50 / p95 / p99, all requests"]
    assert rows[f"{saturation}: errors"].endswith("**FAIL** |")
    assert "62.5x | **FAIL**" in next(
        v for k, v in rows.items() if k.startswith(saturation + ": latency")
    )
    assert "60 / 120 / 144 ms" in rows[f"{think}: dashboard (100), p50 / p95 / p99"]
