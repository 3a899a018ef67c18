"""`make bench` / `python -m bench.run`: build (or reuse) the benchmark databases, measure, and
write BENCHMARKS.md.

    python -m bench.run [--size 1000000] [--small 100000] [--reps 7] [--rebuild]
                        [--output BENCHMARKS.md] [--only scan]
                        [--clients 50] [--load-seconds 60] [--think 1.5]

Two databases: `bench_<size>` (default `bench_1m`) and `bench_<small>` (default `bench_100k`),
the latter for the scale ratios. Both are built once with the same seed and the same number
K of applications that become overdue in the measured minute (1 % of the large database's
pending applications) and reused by later runs (`--rebuild` drops them first). Every timing is
repeated `--reps` times (at least 5), alternating the databases and the product with its floor,
and reported as the median (and the 95th percentile for latencies). Last, the load test
(`bench/load.py`): `--clients` signed-in clients for `--load-seconds` against gunicorn with 4
workers on the large database, with think times of mean `--think` seconds and then with none.

`--only scan` measures the window scan alone (its floor, the full scan, EXPLAIN) and prints its
rows of the table instead of writing BENCHMARKS.md; the results go to `var/bench-scan.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.plan import SEED, pending_count

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SEQ_SCAN = re.compile(r"Seq Scan on (licenses_licenseapplication|shipments_shipment)\b")


def database_name(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"bench_{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"bench_{size // 1000}k"
    return f"bench_{size}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * 0.95
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def env_for(database: str) -> dict[str, str]:
    return {**os.environ, "BENCH_DATABASE": database, "DJANGO_SETTINGS_MODULE": "bench.settings"}


class Worker:
    """A `bench.worker` process on one database."""

    def __init__(self, database: str):
        self.database = database
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.worker"],
            cwd=ROOT,
            env=env_for(database),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: str, **args: Any) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"command": command, **args}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"{self.database} {command}: {answer['error']}\n{answer['trace']}")
        return answer

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M).group(1))  # type: ignore[union-attr]
    out = {
        "cpu": f"{models[0] if models else platform.processor()} x {os.cpu_count()} "
        "(shared with other sessions)",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import psycopg

        with psycopg.connect(
            os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432") + "/postgres"
        ) as conn:
            out["postgresql"] = conn.execute("SELECT version()").fetchone()[0]  # type: ignore[index]
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("shared_buffers", "work_mem", "effective_cache_size")
            }
            out["postgresql settings"] = ", ".join(f"{k}={v}" for k, v in settings.items())
    except Exception as exc:  # reported, not fatal
        out["postgresql"] = f"unknown ({exc})"
    return out


# --- building ---------------------------------------------------------------------------------


def ensure_database(size: int, newly_due: int, *, rebuild: bool) -> dict:
    database = database_name(size)
    command = [PYTHON, "-m", "bench.build", "--size", str(size), "--seed", str(SEED)]
    command += ["--newly-due", str(newly_due)] + (["--rebuild"] if rebuild else [])
    log(f"{database}: build or reuse ({size:,} shipments)")
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=env_for(database), capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"building {database} failed")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    answer["seconds"] = time.perf_counter() - started
    log(f"{database}: {'reused' if answer['reused'] else 'built'} in {answer['seconds']:.0f} s")
    return answer


# --- HTTP ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    database: str
    workers: int = 2
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "bench.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env_for(self.database),
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc: Any) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def sequential(port: int, path: str, headers: dict[str, str], n: int, warmup: int = 3) -> dict:
    """Latencies of `n` requests, one after the other on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies = []
    status = None
    size = 0
    for i in range(warmup + n):
        started = time.perf_counter()
        conn.request("GET", path, headers={"Host": "localhost", **headers})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        status, size = response.status, len(body)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        if i >= warmup:
            latencies.append(elapsed)
    conn.close()
    return {
        "n": n,
        "median_ms": median(latencies) * 1000,
        "p95_ms": p95(latencies) * 1000,
        "status": status,
        "bytes": size,
    }


def wrk(port: int, path: str, headers: dict[str, str], seconds: int = 10) -> dict | None:
    """Requests per second under concurrent load (wrk: 2 threads, 8 connections)."""
    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    for name, value in {"Host": "localhost", **headers}.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    )
    rps = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return {
        "rps": float(rps.group(1)) if rps else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "raw": done.stdout,
    }


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    results: dict[str, Any] = {"machine": machine(), "args": vars(args)}
    newly_due = pending_count(shipments=args.size, seed=SEED) // 100
    sizes = [args.small, args.size]
    names = {size: database_name(size) for size in sizes}
    results["newly_due"] = newly_due
    results["names"] = names
    results["builds"] = {
        size: ensure_database(size, newly_due, rebuild=args.rebuild) for size in sizes
    }
    workers = {size: Worker(names[size]) for size in sizes}
    try:
        for size in sizes:
            log(f"{names[size]}: baseline scan")
            results.setdefault("prepare", {})[size] = workers[size].ask("prepare")
            results.setdefault("counts", {})[size] = workers[size].ask("counts")
            verify = workers[size].ask("scan_verify")
            results.setdefault("verify", {})[size] = verify
            if not all(verify["same"].values()):
                raise SystemExit(f"the scan floor differs from the product: {verify}")
        for size in sizes:
            log(f"{names[size]}: vacuum")
            workers[size].ask("vacuum")
        # The scan and its floor, side by side: both sizes, alternating.
        timings: dict[str, dict[int, list[float]]] = {"product": {}, "floor": {}}
        summaries: dict[str, dict[int, Any]] = {"product": {}, "floor": {}}
        # The scan is cheap to repeat: more repetitions steady its medians on a shared machine.
        for rep in range(max(args.reps, 15)):
            order = sizes if rep % 2 == 0 else sizes[::-1]
            for size in order:
                workers[size].ask("vacuum")  # each repetition starts from the same clean state
                kinds = ("product", "floor") if rep % 2 == 0 else ("floor", "product")
                for which in kinds:
                    answer = workers[size].ask(f"scan_{which}")
                    timings[which].setdefault(size, []).append(answer["seconds"])
                    summaries[which][size] = answer["summary"]
            log(f"scan repetition {rep + 1}")
        results["scan"] = {"timings": timings, "summaries": summaries}
        full: dict[int, list[float]] = {}
        for _rep in range(5):
            for size in sizes:
                full.setdefault(size, []).append(workers[size].ask("scan_full")["seconds"])
        results["scan_full"] = full
        log("scan: explain")
        results["explain"] = {size: workers[size].ask("scan_explain") for size in sizes}
        if args.only == "scan":
            return results
        results["web"] = measure_web(args, workers, names)
        results["fasttrack"] = measure_fasttrack(args, workers, sizes)
        results["forecasts"] = measure_forecasts(workers, sizes)
    finally:
        for worker in workers.values():
            worker.close()
    results["memory"] = measure_memory(sizes, names, reps=3)
    # Last: its moves create (and cancel) shipments of their own, which nothing above counts.
    from bench import load

    results["load"] = load.measure(
        database=names[args.size],
        clients=args.clients,
        seconds=args.load_seconds,
        think=args.think,
    )
    return results


def measure_memory(sizes: list[int], names: dict[int, str], *, reps: int) -> dict:
    out: dict[str, Any] = {}
    for job in ("scan", "digest"):
        for size in sizes:
            runs = []
            for _ in range(reps):
                done = subprocess.run(
                    [PYTHON, "-m", "bench.memory", job],
                    cwd=ROOT,
                    env=env_for(names[size]),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            traced = subprocess.run(
                [PYTHON, "-m", "bench.memory", job, "--tracemalloc"],
                cwd=ROOT,
                env=env_for(names[size]),
                capture_output=True,
                text=True,
                check=True,
            )
            out.setdefault(job, {})[size] = {
                "peak_kib": median([r["peak_kib"] for r in runs]),
                "before_kib": median([r["before_kib"] for r in runs]),
                "result": runs[0]["result"],
                "tracemalloc_peak_bytes": json.loads(traced.stdout.strip().splitlines()[-1])[
                    "tracemalloc_peak_bytes"
                ],
            }
            log(f"memory {job} {names[size]}: {out[job][size]}")
    return out


def measure_web(
    args: argparse.Namespace, workers: dict[int, Worker], names: dict[int, str]
) -> dict:
    """The dashboard, the API list and its plain view at the large size, served by gunicorn on
    loopback."""
    size = args.size
    out: dict[str, Any] = {}
    session = workers[size].ask("session")
    log("dashboard: uncached renders")
    out["dashboard_cold"] = workers[size].ask("dashboard_cold", reps=args.reps)["seconds"]
    out["dashboard_queries"] = session["dashboard_queries"]
    api = workers[size].ask("api_info")
    out["api_info"] = api
    with Server(names[size]) as server:
        cookie = {"Cookie": f"sessionid={session['sessionid']}"}
        log("dashboard: sequential requests")
        out["dashboard"] = sequential(server.port, "/", cookie, n=args.requests)
        token = {"Authorization": f"Token {api['token']}"}
        for name, path in (("api", api["path"]), ("plain", api["plain_path"])):
            log(f"{name}: sequential requests")
            out[name] = sequential(server.port, path, token, n=args.requests)
        for rep in range(3):  # alternate the two under load, three times each
            for name, path in (("api", api["path"]), ("plain", api["plain_path"])):
                log(f"{name}: wrk {rep + 1}/3")
                load = wrk(server.port, path, token)
                out.setdefault(f"{name}_wrk", []).append(load)
    return out


def measure_fasttrack(
    args: argparse.Namespace, workers: dict[int, Worker], sizes: list[int]
) -> dict:
    info = workers[args.size].ask("fasttrack_info")
    timings: dict[str, list[float]] = {"product": [], "floor": []}
    counts: dict[str, Any] = {}
    file_by: list[dict] = []  # the product's follow-up task, timed apart
    # Five repetitions (the minimum): at 1,000,000 shipments the product's pass takes minutes.
    for rep in range(5):
        kinds = ("product", "floor") if rep % 2 == 0 else ("floor", "product")
        for which in kinds:
            workers[args.size].ask("vacuum")
            answer = workers[args.size].ask(f"fasttrack_{which}")
            timings[which].append(answer["seconds"])
            counts[which] = answer["summary"]
            if which == "product":
                file_by.append(answer["summary"])
        log(f"fast-track repetition {rep + 1}/5: {timings['product'][-1]:.1f} s product")
    workers[args.size].ask("vacuum")  # leave no dead rows to the next section or run
    same = counts["product"]["written"] == counts["floor"]["written"]
    if not same:
        raise SystemExit(f"the fast-track floor wrote other rows than the product: {counts}")
    return {**info, "timings": timings, "counts": counts, "same": same, "file_by": file_by}


def measure_forecasts(workers: dict[int, Worker], sizes: list[int]) -> dict:
    """Every forecast recomputed (and `likely_late` raised), product and floor alternating,
    five times at each size; both must write the same rows."""
    timings: dict[str, dict[int, list[float]]] = {"product": {}, "floor": {}}
    written: dict[str, dict[int, Any]] = {"product": {}, "floor": {}}
    for rep in range(5):
        for size in sizes:
            kinds = ("product", "floor") if rep % 2 == 0 else ("floor", "product")
            for which in kinds:
                answer = workers[size].ask(f"forecasts_{which}")
                timings[which].setdefault(size, []).append(answer["seconds"])
                written[which][size] = answer["summary"]["written"]
        log(f"forecasts repetition {rep + 1}/5")
    for size in sizes:  # leave no dead rows to the next section (the load test reads them)
        workers[size].ask("vacuum")
    same = written["product"] == written["floor"]
    if not same:
        raise SystemExit(f"the forecast floor wrote other rows than the product: {written}")
    return {"timings": timings, "written": written, "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", 1_000_000)))
    parser.add_argument("--small", type=int, default=int(os.environ.get("SMALL", 100_000)))
    parser.add_argument("--reps", type=int, default=int(os.environ.get("REPS", 7)))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("REQUESTS", 50)))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("CLIENTS", 50)))
    parser.add_argument(
        "--load-seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", 60))
    )
    parser.add_argument(
        "--think",
        type=float,
        default=float(os.environ.get("THINK", 1.5)),
        help="mean think time of the load test's clients, seconds",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        default=os.environ.get("REBUILD", "") not in ("", "0"),
    )
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--only", choices=["scan"], help="measure the window scan alone")
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("at least 5 repetitions")
    started = time.perf_counter()
    results = run(args)
    results["seconds"] = time.perf_counter() - started
    results["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    (ROOT / "var").mkdir(exist_ok=True)
    if args.only == "scan":
        from bench.report import scan_table

        (ROOT / "var" / "bench-scan.json").write_text(json.dumps(results, indent=1, default=str))
        print(scan_table(json.loads(json.dumps(results, default=str))))
        log(f"measured the scan in {results['seconds']:.0f} s")
        return
    (ROOT / "var" / "bench-results.json").write_text(json.dumps(results, indent=1, default=str))
    from bench.report import render

    Path(args.output).write_text(render(json.loads(json.dumps(results, default=str))))
    log(f"wrote {args.output} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
