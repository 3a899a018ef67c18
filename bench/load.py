"""The load test: concurrent signed-in clients against gunicorn, a part of `make bench` and
runnable alone:

    python -m bench.load [--database bench_1m] [--clients 50] [--seconds 60] [--think 1.5]
                         [--single-seconds 60] [--workers 4]

gunicorn serves `bench.wsgi` (production settings, DEBUG off) with `--workers` processes (4:
the production-like setup of issue 17) on 127.0.0.1. Every client is a thread with a
connection of its own, signed in as the benchmark's officer twice over: a session cookie of its
own for the web pages (`bench.web.sessions`, deleted afterwards) and the officer's token for
the API. Each request is drawn from one mix (`MIX`): the dashboard, the applications and
shipments lists, a shipment's or an application's page, the API lists of shipments and
applications with filters, and moves through the API.

The moves act only on shipments the load test creates itself, so that a run changes nothing
another measurement on the same database depends on: a client creates a shipment
(`POST /api/v1/shipments/`: a copy of an existing shipment's exporter, item, consignee and
destination, shipping a year from today, so that no flag and no alert is raised), then holds,
releases and cancels it, one move per draw; a shipment left unfinished when a phase ends is
cancelled (untimed), and so is any the run created without hearing back (a timed-out
answer). Every run therefore leaves some cancelled shipments `LOAD-…` and their events behind
(the event log is append-only), and nothing else — provided the code that serves them is the
code the database was migrated with: older code writes its rows without whatever newer
migrations added beside them (a summary table, a column kept in step with the shipment).

Three phases, one after the other on the same server, after an untimed warm-up:

1. **One client**, no pause between requests: the single-client latencies (the baseline).
2. **`--clients` clients** for `--seconds`, each pausing between requests for a think time
   drawn from an exponential distribution of mean `--think` seconds (a person reading the
   page before the next click; the first pause staggers their start). This is the target's
   run: no errors, and the 95th percentile under 5x the single-client median.
3. **The same clients with no pause** (a closed loop at saturation): what the server can
   deliver. Here every client always has a request waiting, so a request queues behind the
   others: its latency is about clients / throughput, whatever the server's speed — this
   phase measures the throughput, not the latency a person would see.

Before each phase the status and flag tallies are folded (`tallies.compact`,
`flag_tallies.compact`), as the periodic scan folds them every minute in production: no scan
runs during the load test, and without it the dashboard would sum the delta rows of every move
of every earlier run (15,000 rows after a few runs, 3.4 ms a dashboard, against about 50).

`--without KIND` (repeatable) leaves a kind of request out of the mix, to see what the others
do without it; the results and the report say so on every row.

A request counts as an error when its answer is not the one expected (200, 201 for a
creation; a redirect to the sign-in page is an error too), or when it failed or timed out
(`TIMEOUT`). The load generator runs on the same machine, and its CPU time is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import resource
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.run import ROOT, Server, Worker, log

TIMEOUT = 60.0  # seconds a client waits for an answer (gunicorn's own worker timeout is 30 s)
# How often each kind of request is drawn (out of 100). Reads dominate, as in a compliance
# team's day; one draw in five is a write.
MIX: dict[str, int] = {
    "dashboard": 10,
    "applications page": 10,
    "shipments page": 10,
    "detail page": 15,
    "API shipments": 20,
    "API applications": 15,
    "move": 20,
}
# A "move" draw is the next step of the client's own shipment: created, held, released,
# cancelled. Creations are reported apart from the three moves.
STEPS = ("create", "hold", "release", "cancel")
KINDS = [*(k for k in MIX if k != "move"), "create", "move"]
TARGET_RATIO = 5  # p95 under load under 5x the single-client median


@dataclass(frozen=True)
class Target:
    """What every client needs to know about the server and the data."""

    port: int
    token: str
    shipments: list[int]
    applications: list[int]
    exporter: int
    template: dict[str, Any]
    mix: dict[str, int]  # `MIX`, or a part of it
    run: str  # in the references of the shipments created, unique per run
    ship_date: str


@dataclass
class Sample:
    kind: str
    started: float  # since the phase started
    seconds: float
    status: int | None
    error: str = ""

    @property
    def cause(self) -> str:
        """What went wrong: the status answered, or the exception's name."""
        return str(self.status) if self.status is not None else self.error.split(": ")[1]


@dataclass
class Client:
    """One signed-in user: its own connection, session and random draws."""

    target: Target
    number: int  # its number in the phase
    phase: int  # the phase's number (its seed): with `number`, in its shipments' references
    session: str
    think: float
    rng: random.Random
    samples: list[Sample] = field(default_factory=list)
    shipment: int | None = None  # the shipment it is moving
    step: int = 0
    created: list[int] = field(default_factory=list)
    cancelled: set[int] = field(default_factory=set)
    connection: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                "127.0.0.1", self.target.port, timeout=TIMEOUT
            )
        return self.connection

    def call(
        self, method: str, path: str, *, api: bool, body: dict | None = None
    ) -> tuple[int, bytes]:
        headers = {"Host": "localhost", "Accept-Language": "en"}
        if api:
            headers["Authorization"] = f"Token {self.target.token}"
            headers["Accept"] = "application/json"
        else:
            headers["Cookie"] = f"sessionid={self.session}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = self._connection()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except Exception:
            connection.close()  # a fresh connection for the next request
            self.connection = None
            raise
        if response.will_close:
            connection.close()
            self.connection = None
        return response.status, content

    def draw(self) -> tuple[str, str, str, bool, dict | None, int]:
        """The next request: (kind, method, path, api, body, the status expected)."""
        t, rng = self.target, self.rng
        kind = rng.choices(list(t.mix), weights=list(t.mix.values()))[0]
        if kind == "dashboard":
            return kind, "GET", "/", False, None, 200
        if kind == "applications page":
            path = rng.choice(["/applications/", "/applications/?authority=MOFCOM&status=accepted"])
            return kind, "GET", path, False, None, 200
        if kind == "shipments page":
            path = rng.choice(["/shipments/", "/shipments/?status=awaiting_license"])
            return kind, "GET", path, False, None, 200
        if kind == "detail page":
            if rng.random() < 0.5:
                return kind, "GET", f"/shipments/{rng.choice(t.shipments)}/", False, None, 200
            return kind, "GET", f"/applications/{rng.choice(t.applications)}/", False, None, 200
        if kind == "API shipments":
            path = rng.choice(
                [
                    "/api/v1/shipments/?status=awaiting_license&page_size=50",
                    f"/api/v1/shipments/?exporter={t.exporter}&status=planned&page_size=50",
                    "/api/v1/shipments/?flag=at_risk&page_size=50",
                ]
            )
            return kind, "GET", path, True, None, 200
        if kind == "API applications":
            path = rng.choice(
                [
                    "/api/v1/applications/?authority=MOFCOM&status=accepted&page_size=50",
                    "/api/v1/applications/?flag=overdue&page_size=50",
                    f"/api/v1/applications/?exporter={t.exporter}&page_size=50",
                ]
            )
            return kind, "GET", path, True, None, 200
        return self.move()

    def move(self) -> tuple[str, str, str, bool, dict | None, int]:
        step = STEPS[self.step]
        if step == "create":
            n = len(self.created) + 1
            body = {
                **self.target.template,
                "reference": f"LOAD-{self.target.run}-{self.phase}-{self.number:02d}-{n:04d}",
                "planned_ship_date": self.target.ship_date,
            }
            return "create", "POST", "/api/v1/shipments/", True, body, 201
        path = f"/api/v1/shipments/{self.shipment}/{step}/"
        return "move", "POST", path, True, {}, 200

    def after_move(self, kind: str, status: int | None, content: bytes) -> None:
        """Advance the shipment's life; a failed step gives it up (it is cancelled at the
        end)."""
        if kind not in ("create", "move"):
            return
        expected = 201 if kind == "create" else 200
        if status != expected:
            self.shipment, self.step = None, 0
            return
        if kind == "create":
            self.shipment = int(json.loads(content)["id"])
            self.created.append(self.shipment)
        elif STEPS[self.step] == "cancel":
            self.cancelled.add(self.shipment)  # type: ignore[arg-type]
        self.step = (self.step + 1) % len(STEPS)
        if self.step == 0:
            self.shipment = None

    def run(self, *, started: float, until: float, requests: int | None = None) -> None:
        """Draw and send requests until `until` (or `requests` of them), pausing `think`
        seconds on average before each."""
        done = 0
        while requests is None or done < requests:
            if self.think:
                time.sleep(self.rng.expovariate(1 / self.think))
            if time.perf_counter() >= until:
                break
            kind, method, path, api, body, expected = self.draw()
            begun = time.perf_counter()
            status: int | None = None
            content = b""
            error = ""
            try:
                status, content = self.call(method, path, api=api, body=body)
                if status != expected:
                    error = f"{method} {path}: {status} {content[:200]!r}"
            except Exception as exc:  # counted, never fatal: a timeout is an error
                error = f"{method} {path}: {type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - begun
            self.samples.append(Sample(kind, begun - started, elapsed, status, error))
            self.after_move(kind, status if not error else None, content)
            done += 1

    def finish(self) -> None:
        """Cancel what it created and did not cancel (untimed)."""
        for pk in self.created:
            if pk not in self.cancelled:
                try:
                    status, _ = self.call(
                        "POST", f"/api/v1/shipments/{pk}/cancel/", api=True, body={}
                    )
                except Exception:
                    continue
                if status == 200:
                    self.cancelled.add(pk)
        if self.connection is not None:
            self.connection.close()


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100), interpolated between the closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "mean_ms": statistics.fmean(seconds) * 1000,
        "median_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 95) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "max_ms": max(seconds) * 1000,
    }


def summarise(samples: list[Sample], *, elapsed: float) -> dict[str, Any]:
    """Requests per second, latencies overall and per kind (answered requests, errors
    included), and the errors."""
    answered = [s for s in samples if s.status is not None]
    errors = [s for s in samples if s.error]
    # Up to three examples of each kind of failure (a status, or an exception's name).
    examples: dict[str, list[str]] = {}
    for s in errors:
        if len(examples.setdefault(s.cause, [])) < 3:
            examples[s.cause].append(s.error)
    return {
        "requests": len(samples),
        "seconds": elapsed,
        "rps": len(samples) / elapsed if elapsed else 0.0,
        "overall": latency([s.seconds for s in answered]),
        "kinds": {
            kind: latency([s.seconds for s in answered if s.kind == kind])
            for kind in KINDS
            if any(s.kind == kind for s in samples)
        },
        "statuses": dict(Counter(str(s.status) for s in samples)),
        "errors": len(errors),
        "error_kinds": dict(Counter(s.kind for s in errors)),
        "error_causes": dict(Counter(s.cause for s in errors)),
        "error_samples": [e for group in examples.values() for e in group],
    }


def phase(
    target: Target,
    sessions: list[str],
    *,
    clients: int,
    seconds: float,
    think: float,
    seed: int,
    requests: int | None = None,
) -> dict[str, Any]:
    """`clients` clients for `seconds` (or `requests` each), then their cleanup."""
    crowd = [
        Client(target, n, seed, sessions[n % len(sessions)], think, random.Random(seed * 1000 + n))
        for n in range(clients)
    ]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    until = started + seconds
    threads = [
        threading.Thread(
            target=c.run, kwargs={"started": started, "until": until, "requests": requests}
        )
        for c in crowd
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    load_after = os.getloadavg()[0]
    for c in crowd:
        c.finish()
    out = summarise([s for c in crowd for s in c.samples], elapsed=elapsed)
    out.update(
        clients=clients,
        think_s=think,
        created=sum(len(c.created) for c in crowd),
        left_uncancelled=sum(len(set(c.created) - c.cancelled) for c in crowd),
        client_cpu_s=(after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime),
        load_average=[load_before, load_after],
    )
    return out


def verdict(single: dict[str, Any], loaded: dict[str, Any]) -> dict[str, Any]:
    """The target: no errors, and the p95 under load under 5x the single-client median,
    overall and kind by kind."""
    base = single["overall"]["median_ms"]
    ratios = {
        kind: loaded["kinds"][kind]["p95_ms"] / single["kinds"][kind]["median_ms"]
        for kind in loaded["kinds"]
        if kind in single["kinds"] and loaded["kinds"][kind]["n"]
    }
    ratio = loaded["overall"]["p95_ms"] / base
    return {
        "ratio": ratio,
        "kind_ratios": ratios,
        "ok": loaded["errors"] == 0 and ratio < TARGET_RATIO,
    }


def measure(
    *,
    database: str,
    clients: int = 50,
    seconds: float = 60,
    think: float = 1.5,
    single_seconds: float = 60,
    workers: int = 4,
    warmup_seconds: float = 10,
    saturation: bool = True,
    without: tuple[str, ...] = (),
    seed: int = 2026,
) -> dict[str, Any]:
    """The three phases on `database` (see the module's docstring). `without` leaves kinds
    of request out of the mix (to see what the others do without them; said in the
    results)."""
    unknown = set(without) - set(MIX)
    if unknown:
        raise ValueError(f"no such kind of request: {sorted(unknown)}; kinds: {list(MIX)}")
    mix = {kind: weight for kind, weight in MIX.items() if kind not in without}
    run = f"{int(time.time()):x}"
    out: dict[str, Any] = {
        "database": database,
        "workers": workers,
        "clients": clients,
        "seconds": seconds,
        "think_s": think,
        "mix": mix,
        "without": list(without),
        "run": run,
    }
    worker = Worker(database)
    sessions: list[str] = []
    try:
        info = worker.ask("load_info")
        sessions = worker.ask("sessions", n=clients)["sessions"]
        with Server(database, workers=workers) as server:
            target = Target(
                port=server.port,
                token=info["token"],
                shipments=info["shipments"],
                applications=info["applications"],
                exporter=info["exporter"],
                template=info["template"],
                mix=mix,
                run=run,
                ship_date=(dt.datetime.now(dt.UTC).date() + dt.timedelta(days=365)).isoformat(),
            )
            log(f"load: warm-up ({workers} clients, {warmup_seconds:.0f} s)")
            phase(target, sessions, clients=workers, seconds=warmup_seconds, think=0, seed=seed)
            out["tallies_folded"] = [worker.ask("fold_tallies")["folded"]]
            log(f"load: one client, {single_seconds:.0f} s")
            out["single"] = phase(
                target, sessions, clients=1, seconds=single_seconds, think=0, seed=seed + 1
            )
            out["tallies_folded"].append(worker.ask("fold_tallies")["folded"])
            log(f"load: {clients} clients, think time {think} s, {seconds:.0f} s")
            out["think"] = phase(
                target, sessions, clients=clients, seconds=seconds, think=think, seed=seed + 2
            )
            out["think_verdict"] = verdict(out["single"], out["think"])
            if saturation:
                out["tallies_folded"].append(worker.ask("fold_tallies")["folded"])
                log(f"load: {clients} clients, no think time, {seconds:.0f} s")
                out["saturation"] = phase(
                    target, sessions, clients=clients, seconds=seconds, think=0, seed=seed + 3
                )
                out["saturation_verdict"] = verdict(out["single"], out["saturation"])
    finally:
        # Whatever happened: the clients signed out, and no shipment of this run left to ship.
        if sessions:
            worker.ask("end_sessions", sessions=sessions)
        cleanup = worker.ask("load_cleanup", run=run)
        out["cancelled_after"], out["created"] = cleanup["cancelled"], cleanup["created"]
        worker.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bench_1m"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.5, help="mean think time, seconds")
    parser.add_argument("--single-seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--no-saturation", action="store_true", help="skip the run with no think time"
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=list(MIX),
        help="leave a kind of request out of the mix (repeatable)",
    )
    args = parser.parse_args()
    from bench.report import load_table
    from bench.run import machine

    results = measure(
        database=args.database,
        clients=args.clients,
        seconds=args.seconds,
        think=args.think,
        single_seconds=args.single_seconds,
        workers=args.workers,
        saturation=not args.no_saturation,
        without=tuple(args.without),
    )
    results["machine"] = machine()
    results["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    (var / "bench-load.json").write_text(json.dumps(results, indent=1, default=str))
    # The last full run's results keep their other sections; the load section is replaced.
    full = var / "bench-results.json"
    if full.exists() and not args.without:
        merged = json.loads(full.read_text())
        merged["load"] = results
        full.write_text(json.dumps(merged, indent=1, default=str))
    print(load_table(results))
    log("load: results in var/bench-load.json")


if __name__ == "__main__":
    main()
