"""Peak memory of one job in a fresh process: `python -m bench.memory scan|digest
[--tracemalloc]` with `BENCH_DATABASE` set; prints one JSON line.

Without `--tracemalloc` it reports the process's peak resident set (`ru_maxrss`, KiB on
Linux) after Django has started and the job's modules are imported (`before_kib`) and after the
job ran (`peak_kib`). With it, the peak of Python allocations during the job alone
(`tracemalloc`, which slows the job and is therefore measured in a process of its own). The job
runs in a transaction that is rolled back, like every benchmark measurement.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from bench import generate  # noqa: E402
from bench.worker import rolled_back  # noqa: E402
from monitoring import alerts, scan  # noqa: E402


def job_scan() -> object:
    return scan.scan(now=generate.NOW, incremental=True).raised


def job_digest() -> object:
    return alerts.send_digests(now=generate.NOW)


JOBS = {"scan": job_scan, "digest": job_digest}


def main() -> None:
    job = JOBS[sys.argv[1]]
    trace = "--tracemalloc" in sys.argv
    connection.ensure_connection()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    seconds, result = rolled_back(job)
    out = {
        "job": sys.argv[1],
        "result": result,
        "seconds": seconds,
        "wall": time.perf_counter() - started,
        "before_kib": before,
        "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if trace:
        out["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
