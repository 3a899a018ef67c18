"""BENCHMARKS.md from the runner's results (`var/bench-results.json`)."""

from __future__ import annotations

import statistics
from typing import Any

from bench.load import TARGET_RATIO
from bench.run import SEQ_SCAN, median, p95


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


def _kib(kib: float) -> str:
    return f"{kib / 1024:,.1f} MiB"


def scan_rows(r: dict[str, Any], row: Any) -> None:
    """The window scan's rows of the results table (`row(what, at_small, at_large, target,
    ratio, ok)` for each)."""
    small, large = (int(s) for s in sorted(r["names"], key=int))
    S, L = str(small), str(large)  # the JSON keys
    scan_t = r["scan"]["timings"]
    p_small, p_large = median(scan_t["product"][S]), median(scan_t["product"][L])
    f_small, f_large = median(scan_t["floor"][S]), median(scan_t["floor"][L])
    k = r["newly_due"]
    row(
        f"Window scan, {k:,} applications newly overdue: product (periodic scan), median",
        _ms(p_small),
        _ms(p_large),
        "",
        "",
        None,
    )
    row("Window scan: hand-written SQL floor, median", _ms(f_small), _ms(f_large), "", "", None)
    row(
        "Window scan: product / floor (at each size)",
        f"{p_small / f_small:.2f}x",
        f"{p_large / f_large:.2f}x",
        "<= 1.5x",
        f"{max(p_small / f_small, p_large / f_large):.2f}x (the larger)",
        max(p_small / f_small, p_large / f_large) <= 1.5,
    )
    row(
        f"Window scan: {large:,} / {small:,}",
        "",
        "",
        "<= 2x",
        f"{p_large / p_small:.2f}x",
        p_large / p_small <= 2,
    )
    seq = {
        size: [p for p in r["explain"][str(size)]["product"] if SEQ_SCAN.search(p["plan"])]
        for size in (small, large)
    }
    row(
        "Window scan: statements reading applications/shipments with a Seq Scan",
        str(len(seq[small])),
        str(len(seq[large])),
        "0 (index scans)",
        "",
        not seq[large],
    )
    row(
        "Window scan: SQL queries",
        str(r["explain"][str(small)]["queries"]),
        str(r["explain"][str(large)]["queries"]),
        "",
        "",
        None,
    )
    full = r["scan_full"]
    row(
        "(for information) full reconciliation scan (daily job), median",
        _ms(median(full[S])),
        _ms(median(full[L])),
        "",
        "",
        None,
    )


def scan_table(r: dict[str, Any]) -> str:
    """The window scan's rows alone, as a Markdown table (`python -m bench.run --only scan`)."""
    small, large = (int(s) for s in sorted(r["names"], key=int))
    rows: list[list[str]] = []

    def row(what: str, at_small: str, at_large: str, target: str, ratio: str, ok: bool | None):
        rows.append([what, at_small, at_large, target, ratio, _verdict(ok)])

    scan_rows(r, row)
    table = [
        f"| measurement | at {small:,} | at {large:,} | target | ratio | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    return "\n".join(table + ["| " + " | ".join(cells) + " |" for cells in rows])


def _lat(stats: dict[str, Any]) -> str:
    return f"{stats['median_ms']:,.0f} / {stats['p95_ms']:,.0f} / {stats['p99_ms']:,.0f} ms"


def _errors(phase: dict[str, Any]) -> str:
    """How many, and what they were: statuses answered, or the exceptions' names."""
    causes = phase.get("error_causes") or {}
    if not causes:
        return f"{phase['errors']:,}"
    return f"{phase['errors']:,} ({', '.join(f'{c}: {n:,}' for c, n in causes.items())})"


def load_rows(load: dict[str, Any], row: Any) -> None:
    """The load test's rows (`bench/load.py`): the single-client baseline, the clients with
    their think time (the target's run, overall and kind by kind), and the same clients with
    none (the saturation throughput)."""
    single, think = load["single"], load["think"]
    n, workers = load["clients"], load["workers"]
    base = single["overall"]["median_ms"]
    # A run with kinds of request left out of the mix says so on every row.
    part = f" (mix without {', '.join(load['without'])})" if load.get("without") else ""
    row(
        f"Load{part}, one client, no think time: requests per second; latency p50 / p95 / p99",
        "",
        f"{single['rps']:.1f}/s; {_lat(single['overall'])}",
        "",
        "",
        None,
    )
    what = (
        f"Load{part}, {n} clients, think time {load['think_s']:g} s (exponential mean), "
        f"{workers} workers"
    )

    def phase(what: str, run: dict, latency: str) -> None:
        """A run's throughput, errors and overall latency against the target."""
        row(
            f"{what}: requests per second ({run['requests']:,} in {run['seconds']:.0f} s)",
            "",
            f"{run['rps']:.1f}/s",
            "",
            "",
            None,
        )
        row(f"{what}: errors", "", _errors(run), "0", "", run["errors"] == 0)
        ratio = run["overall"]["p95_ms"] / base
        row(
            f"{what}: {latency}",
            "",
            _lat(run["overall"]),
            f"p95 < {TARGET_RATIO}x single-client median ({base:,.0f} ms)",
            f"{ratio:.1f}x",
            ratio < TARGET_RATIO,
        )

    phase(what, think, "latency p50 / p95 / p99, all requests")
    for kind, stats in think["kinds"].items():
        alone = single["kinds"].get(kind)
        if not alone or not stats["n"]:
            continue
        ratio = stats["p95_ms"] / alone["median_ms"]
        row(
            f"{what}: {kind} ({stats['n']:,}), p50 / p95 / p99",
            "",
            _lat(stats),
            f"p95 < {TARGET_RATIO}x its single-client median ({alone['median_ms']:,.0f} ms)",
            f"{ratio:.1f}x",
            ratio < TARGET_RATIO,
        )
    saturation = load.get("saturation")
    if saturation:
        what = f"Load{part}, {n} clients, no think time (saturation), {workers} workers"
        phase(what, saturation, f"latency p50 / p95 / p99 (queueing: about {n} / throughput)")
        # Little's law: a client spends (think + response) per request, so the server keeps up
        # with at most throughput x (think + response) clients before they queue. The lone
        # client's mean response is its run's length over its requests (it never paused).
        mean = single["seconds"] / single["requests"]
        carried = saturation["rps"] * (load["think_s"] + mean)
        row(
            f"Clients this server carries at {load['think_s']:g} s think time before they queue "
            "(saturation throughput x (think time + single-client mean))",
            "",
            f"{carried:.0f}",
            f"{n}",
            "",
            None,
        )


def load_table(load: dict[str, Any]) -> str:
    """The load test's rows alone, as a Markdown table (`python -m bench.load`)."""
    rows: list[list[str]] = []

    def row(what: str, _small: str, value: str, target: str, ratio: str, ok: bool | None):
        rows.append([what, value, target, ratio, _verdict(ok)])

    load_rows(load, row)
    table = [
        "| measurement | figure | target | ratio | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    return "\n".join(table + ["| " + " | ".join(cells) + " |" for cells in rows])


def load_method(load: dict[str, Any]) -> str:
    """How the load figures are measured, for BENCHMARKS.md."""
    mix = ", ".join(f"{kind} {weight} %" for kind, weight in load["mix"].items())
    think = load["think"]
    created = load.get("created")  # every shipment of the run, including the warm-up's
    if created is None:
        created = sum(load[p]["created"] for p in ("single", "think", "saturation") if p in load)
    return (
        f"gunicorn (`bench.wsgi`, {load['workers']} workers) on `{load['database']}`; "
        f"{load['clients']} client threads (`bench/load.py`), each with a connection and a "
        "session of its own (the officer's token for the API), after a 10 s warm-up. "
        f"Mix: {mix}; a move is the next step of the client's own shipment (created through "
        "the API, held, released, cancelled), so that a run leaves behind only cancelled "
        f"shipments of its own and their events ({created:,} this time). One client with no pause "
        f"first ({load['single']['seconds']:.0f} s), then the clients for "
        f"{think['seconds']:.0f} s with exponential think times of mean {load['think_s']:g} s "
        "(the target's run), then the same clients with no pause (the saturation "
        "throughput; each request waits behind the others, so its latency is about clients "
        "/ throughput). An error is any answer other than the one expected (200; 201 for a "
        "creation), a failure or a 60 s timeout. The load generator shares the machine's "
        f"two cores (its CPU time: {think['client_cpu_s']:.1f} s in the think-time run)."
    )


def render(r: dict[str, Any]) -> str:
    small, large = (int(s) for s in sorted(r["names"], key=int))
    S, L = str(small), str(large)  # the JSON keys
    names = r["names"]
    reps = len(r["scan"]["timings"]["product"][L])
    rows: list[list[str]] = []

    def row(what: str, at_small: str, at_large: str, target: str, ratio: str, ok: bool | None):
        rows.append([what, at_small, at_large, target, ratio, _verdict(ok)])

    scan_rows(r, row)
    k = r["newly_due"]
    full = r["scan_full"]
    fc = r.get("forecasts")
    if fc:
        fcp = {k: median(v) for k, v in fc["timings"]["product"].items()}
        fcf = {k: median(v) for k, v in fc["timings"]["floor"].items()}
        row(
            "Forecasts: every one recomputed, likely_late raised: product / floor (median of 5)",
            f"{_ms(fcp[S])} / {_ms(fcf[S])}",
            f"{_ms(fcp[L])} / {_ms(fcf[L])}",
            "<= 2x; under 60 s",
            f"{fcp[L] / fcf[L]:.2f}x",
            fcp[L] / fcf[L] <= 2 and fcp[L] < 60,
        )
        written = fc["written"]["product"][L]
        row(
            "Forecasts: rows both wrote (forecasts / with a p50 / likely_late open)",
            "",
            f"{written['forecasts']:,} / {written['with_p50']:,} / {written['likely_late']:,}",
            "the same",
            "",
            fc["same"],
        )
    ft = r["fasttrack"]
    fp, ff = median(ft["timings"]["product"]), median(ft["timings"]["floor"])
    row(
        f"Fast-track recompute of {ft['pending']:,} pending applications: product / floor"
        f" (median of {len(ft['timings']['product'])})",
        "",
        f"{_ms(fp)} / {_ms(ff)}",
        "<= 2x",
        f"{fp / ff:.2f}x",
        fp / ff <= 2,
    )
    written = ft["counts"]["product"]["written"]
    row(
        "Fast-track: rows both wrote (due-date events / flags raised / flags cleared / alerts)",
        "",
        f"{written['due_date_events']:,} / {written['flags_raised']:,} / "
        f"{written['flags_cleared']:,} / {written['alerts']:,}",
        "the same",
        "",
        ft["same"],
    )
    fb = [c["file_by_seconds"] for c in ft.get("file_by", [])]
    if fb:
        row(
            "(for information) its follow-up task: file-by deadlines of the "
            f"{ft['counts']['product']['file_by_changed']:,} shipments in scope, median",
            "",
            _ms(median(fb)),
            "",
            "",
            None,
        )
    web = r["web"]
    dash = web["dashboard"]
    info = web["api_info"]
    api, plain = web["api"], web["plain"]
    api_rps = median([w["rps"] for w in web["api_wrk"]])
    plain_rps = median([w["rps"] for w in web["plain_wrk"]])
    row(
        "API list: latency median / p95",
        "",
        f"{api['median_ms']:.1f} / {api['p95_ms']:.1f} ms",
        "",
        "",
        None,
    )
    row(
        "Plain view, same 50 rows: latency median / p95",
        "",
        f"{plain['median_ms']:.1f} / {plain['p95_ms']:.1f} ms",
        "",
        "",
        None,
    )
    row(
        "API list: requests per second (wrk, 8 connections) vs plain view",
        "",
        f"{api_rps:.0f} / {plain_rps:.0f}",
        ">= 50%",
        f"{api_rps / plain_rps:.0%}",
        api_rps / plain_rps >= 0.5,
    )
    row(
        "API list / plain view: SQL queries per request",
        "",
        f"{info['queries']} / {info['plain_queries']}",
        "",
        "",
        None,
    )
    ratio = dash["median_ms"] / api["median_ms"]
    row(
        "Dashboard: median / API list median",
        "",
        f"{ratio:.1f}x",
        "<= 5x",
        f"{ratio:.1f}x",
        ratio <= 5,
    )
    row(
        "Dashboard `/` (signed-in officer): latency median / p95",
        "",
        f"{dash['median_ms']:,.0f} / {dash['p95_ms']:,.0f} ms",
        "<= 5x API list median",
        "",
        None,
    )
    cold = web.get("dashboard_cold")
    if cold:
        cold_ratio = median(cold) * 1000 / web["api"]["median_ms"]
        row(
            "Dashboard computed afresh (cache emptied: the first request after a change), "
            "median / API list median",
            "",
            f"{_ms(median(cold))} ({cold_ratio:.1f}x)",
            "<= 2x",
            f"{cold_ratio:.1f}x",
            cold_ratio <= 2,
        )
    row(
        "Dashboard: SQL queries (cached page / afresh)",
        "",
        str(web["dashboard_queries"]),
        "",
        "",
        None,
    )
    load = r.get("load")
    if load:
        load_rows(load, row)
    mem = r["memory"]
    for job, label in (("scan", "periodic scan"), ("digest", "digest job (send_digests)")):
        a, b = (
            mem[job][str(small)] if str(small) in mem[job] else mem[job][small],
            (mem[job][str(large)] if str(large) in mem[job] else mem[job][large]),
        )
        ratio = b["peak_kib"] / a["peak_kib"]
        row(
            f"Memory, {label}: peak RSS of a fresh process (ru_maxrss)",
            _kib(a["peak_kib"]),
            _kib(b["peak_kib"]),
            "within 20%",
            f"{ratio:.2f}x",
            ratio <= 1.2,
        )
        ratio = b["tracemalloc_peak_bytes"] / a["tracemalloc_peak_bytes"]
        row(
            f"Memory, {label}: peak of Python allocations during the job (tracemalloc)",
            _kib(a["tracemalloc_peak_bytes"] / 1024),
            _kib(b["tracemalloc_peak_bytes"] / 1024),
            "within 20%",
            f"{ratio:.2f}x",
            ratio <= 1.2,
        )
    table = [
        f"| measurement | at {small:,} | at {large:,} | target | ratio | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    table += ["| " + " | ".join(cells) + " |" for cells in rows]

    counts = r["counts"]
    count_rows = [
        "| rows | " + " | ".join(f"`{names[str(s)]}`" for s in (small, large)) + " |",
        "| --- | --- | --- |",
    ]
    c_small, c_large = counts[S], counts[L]
    for key in c_large:
        count_rows.append(f"| {key} | {c_small[key]:,} | {c_large[key]:,} |")

    m = r["machine"]
    explain_large = r["explain"][L]
    excerpts = []
    for plan in explain_large["product"]:
        first = plan["sql"].split(" FROM ")[0][:90]
        lines = [ln for ln in plan["plan"].splitlines() if "Scan" in ln][:4]
        excerpts.append(f"-- {first} …\n" + "\n".join(lines))
    floor_excerpts = []
    for plan in explain_large["floor"]:
        lines = [ln for ln in plan["plan"].splitlines() if "Scan" in ln][:4]
        floor_excerpts.append(f"-- floor: {plan['sql']}\n" + "\n".join(lines))
    summaries = r["scan"]["summaries"]
    seed = 2026
    ft = r["fasttrack"]
    product_summary = summaries["product"][str(large)]
    misses = _misses(r)
    n_ft = len(ft["timings"]["product"])
    n_cold = len(web.get("dashboard_cold") or [])
    dash_line = f"{dash['n']} sequential requests after 3 warm-ups, {dash['bytes']:,} bytes each"
    load_text = f"- **Load.** {load_method(load)}\n" if load else ""

    return f"""# Benchmarks

Measured by `make bench` (`python -m bench.run`) on {r["finished"]}; the run took
{r["seconds"] / 60:.0f} minutes (databases reused). Every timing is the median of repeated runs,
at least five: the window scan and its floor {reps} each, alternating; the full scan
{len(full[L])}; the fast-track pass and its floor {n_ft} each, alternating; the dashboard
computed afresh {n_cold}. Latencies: median and 95th percentile of {dash["n"]} sequential
requests. Ratios compare figures measured side by side in the same run. Nothing here is
extrapolated: a figure that could not be measured says so.

## Results

{chr(10).join(table)}

{misses}
## The machine

| | |
| --- | --- |
{chr(10).join(f"| {k} | {v} |" for k, v in m.items())}

## The data

Both databases come from `bench/generate.py` with seed {seed}
(see its docstring for the shape): exporters skewed in size, MOFCOM 75 % / BIS 12.5 % /
ECJU 12.5 %, ten destinations, every application state (40 % pending), general licenses with
consistent drawdown, information requests with their open clock pause, due dates and file-by
deadlines computed by the product's calendar arithmetic, the event history of every move, and
the flags, events and alerts of a baseline scan.

{chr(10).join(count_rows)}

## How each figure is measured

- **Window scan.** The baseline scan runs once at 15:59:30 UTC on 1 December 2026 (untimed;
  it raises the backlog and records the scan's watermark). The measured scan is the periodic
  job (`monitoring.scan.scan(now=…, incremental=True)`, what `scan_windows` and the Celery beat
  task run) one minute later, at 16:00:30 UTC — midnight in Shanghai, when exactly
  K = {k:,} MOFCOM applications (1 % of the {large:,}-shipment database's pending applications;
  the same K in both databases) reach the end of their due date. The generator keeps every
  other deadline off that minute, so the work is the same at both sizes: raise {k:,} `overdue`
  flags with their events and {product_summary["alerts"]:,} alert rows, clear the same
  applications' `due_soon` flags with their events. Product: `{product_summary}`.
  The floor (`bench/floor.py`) does the same work as hand-written SQL — one statement per kind
  and direction (INSERT … SELECT … RETURNING chained into the event and alert inserts, the
  recipients found in SQL) — on the same database in the same run, alternating with the
  product; before timing, the runner checks that both write exactly the same flag, event and
  alert rows. Each run is inside a transaction that is rolled back, so every repetition does
  the same work (the event log is append-only: nothing is ever deleted); the written tables
  are vacuumed (untimed) before each repetition, so none pays for the dead rows of another.
- **Fast-track recompute.** A decision shortening MOFCOM's window from 45 to 20 working days
  for every pending application, logged at 16:00:30 UTC on 1 December 2026: the product is
  `decision_log` and then the Celery task's function (`licenses.tasks.recompute_decision_scope`,
  chunks of 10,000) called in the same transaction — new windows and due dates, their
  `fast_track_applied` events, and the flags of the moved applications and their shipments
  (`overdue`, `due_soon`, `at_risk`) raised and cleared straight away with their events and
  alert rows. The floor (`bench/fasttrack.py`) does the same work as straight SQL: the new due
  dates precomputed untimed with the same calendar arithmetic, then one UPDATE of the
  applications, one INSERT of the events, the decision's effect, and the scan floor's flag
  statements over the moved applications. The runner checks both wrote the same numbers of
  rows. Each repetition is rolled back and starts from a vacuumed state. The file-by
  deadlines of the shipments in scope are the pass's follow-up task
  (`monitoring.tasks.refresh_decision_file_by`, queued when the pass commits); it is timed
  apart, in the same transaction after the pass.
- **EXPLAIN.** Every statement of the measured scan that reads `licenses_licenseapplication`
  or `shipments_shipment`, explained on the {large:,} database (excerpts below).
- **Memory.** Each job in a fresh process (`python -m bench.memory scan|digest`): the peak
  resident set (`ru_maxrss`; median of 3 processes) and, in a separate process, the peak of
  Python allocations during the job (`tracemalloc`). The digest job is `send_digests` at
  16:00:30 UTC for ten users who each watch ten exporters (the five largest and five others).
- **Dashboard.** gunicorn (`bench.wsgi`, 2 workers, `bench/settings.py`: production settings,
  DEBUG off) on 127.0.0.1, the officer's session cookie, {dash_line}, one keep-alive
  connection (`http.client`).
{load_text}
## EXPLAIN excerpts (periodic scan, {large:,} shipments)

```
{chr(10).join(excerpts)}
```

The floor's statements:

```
{chr(10).join(floor_excerpts)}
```

## Rerun

```
make bench                 # SIZE=1000000 by default; also builds/reuses bench_100k
make bench REBUILD=1       # drop and build the databases again
.venv/bin/python -m bench.run --only scan   # the window scan alone; prints its rows
.venv/bin/python -m bench.load --database bench_1m --clients 50 --seconds 60   # the load test alone
```

Building the {large:,}-shipment database takes about {_build_minutes(r, large)} on this machine, the
{small:,} one about {_build_minutes(r, small)}; a run on existing databases about
{r["seconds"] / 60:.0f} minutes. Raw figures of the last run: `var/bench-results.json`.
"""


def _misses(r: dict[str, Any]) -> str:
    """What the numbers above do not show on their own (written from the profiles taken while
    fixing; the figures themselves are all in the table)."""
    notes = []
    ft = r["fasttrack"]
    fp, ff = median(ft["timings"]["product"]), median(ft["timings"]["floor"])
    notes.append(
        "- **The fast-track floor does the product's whole pass.** Applying a decision "
        "re-evaluates the flags of the moved applications straight away (issue 5), so the "
        "floor writes those flags, their events and alert rows too, in the scan floor's "
        "SQL, and the runner checks both wrote the same numbers of rows. An earlier floor "
        "wrote only the due dates and their events; that part alone took 4.75 s at "
        "1,000,000 in an earlier run, about a sixth of the product's pass. The file-by "
        "deadlines the decision moves are not part of the pass: they follow in their own "
        "task, timed above for information."
    )
    if fp / ff > 2:
        notes.append(
            "- **Fast-track recompute misses its target.** What the pass spends over the "
            "floor: reading the candidates as model instances and computing their due dates "
            "in Python (the floor's are precomputed), and the scoped clear of `at_risk` "
            "flags, which checks every shipment of a chunk rather than only the flagged ones."
        )
    web = r["web"]
    cold = web.get("dashboard_cold")
    if cold:
        cold_ratio = median(cold) * 1000 / web["api"]["median_ms"]
        verdict = "meets" if cold_ratio <= 2 else "misses"
        notes.append(
            f"- **The dashboard computed afresh {verdict} its target** ({median(cold):,.2f} s, "
            f"{cold_ratio:.1f}x the API list median, target 2x). Its counts by state, open "
            "flags, pending and overdue by authority, at-risk list, chart of open flags, "
            "per-authority "
            "history and approval-time months gone by come from summaries kept by the "
            "services, the scan and the forecast pass, and each work-queue section reads its "
            "first rows from an index in its order (README, *The dashboard's summaries*). What "
            "a fresh computation still pays: the work queue's query of eleven parts (planned "
            "and run on every view; built once per process), with its count of the last days "
            "to file still to come (about ten thousand index entries at a million shipments), "
            "the current month's approvals, "
            f"{str(web['dashboard_queries']).split('/')[-1].strip()} queries with the "
            "session's, and drawing the page (its rows and charts by Jinja2 fragments). "
            "The page is also cached per user until an event is recorded or the minute turns."
        )
    if not notes:
        return ""
    return "## What the table does not say on its own\n\n" + "\n".join(notes) + "\n\n"


def _build_minutes(r: dict[str, Any], size: int) -> str:
    builds = r["builds"]
    build = builds[str(size)]
    timings = build["meta"].get("timings")
    if not timings:
        return "(unknown)"
    import json

    recorded = json.loads(timings)
    total = recorded.get("total_s")
    if total:
        minutes = round(total / 60)
        return "1 minute" if minutes <= 1 else f"{minutes} minutes"
    scan_s = recorded.get("baseline_scan_s")
    return (
        "(not recorded in full: that build was finished in a second step, whose baseline scan "
        f"took {scan_s / 60:.0f} minutes)"
        if scan_s
        else "(not recorded)"
    )


__all__ = ["p95", "render", "statistics"]
