"""Build (or reuse) one benchmark database: `python -m bench.build --size N [--seed S]
[--newly-due K] [--rebuild]`, with `BENCH_DATABASE` naming it.

Steps: create the database, migrate, generate the data (`bench.generate`; its events linked
into their chains after, set-based), add the benchmark's users, run the baseline scan at
`generate.BASELINE` (untimed: it raises the whole backlog of flags, their events and alerts, as
a long-running installation would have them), VACUUM ANALYZE, and record what was built in a
table `bench_meta`. A database whose `bench_meta` says the same size, seed, K and generator is
reused (after `migrate`, which applies any migration added since); `--rebuild` drops it first.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
OFFICER_TOKEN = "bench0officer0token000000000000000000000"  # 40 characters


def server_url() -> str:
    return os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def generator_fingerprint() -> str:
    """What the generator does (its syntax tree: comments and layout do not count)."""
    digest = hashlib.sha256()
    for name in ("generate.py", "plan.py"):
        digest.update(ast.dump(ast.parse((HERE / name).read_text())).encode())
    return digest.hexdigest()[:16]


def read_meta(database: str) -> dict[str, str] | None:
    try:
        with psycopg.connect(f"{server_url()}/{database}", autocommit=True) as conn:
            rows = conn.execute("SELECT key, value FROM bench_meta").fetchall()
    except psycopg.Error:
        return None
    return dict(rows)


def drop_and_create(database: str) -> None:
    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def wanted_meta(size: int, seed: int, newly_due: int) -> dict[str, str]:
    return {
        "size": str(size),
        "seed": str(seed),
        "newly_due": str(newly_due),
        "generator": generator_fingerprint(),
    }


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def create_users(*, digest_users: int = 10, seed: int = 1) -> dict[str, int]:
    """A compliance officer (API token, dashboard; by role default immediate alerts for every
    exporter), and `digest_users` users who each watch ten exporters — the five largest and
    five others — and get the daily digest at midnight UTC."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from licenses import roles
    from licenses.models import Exporter
    from monitoring.models import AlertPreference

    User = get_user_model()
    rng = random.Random(seed)
    officer = User.objects.create_user(
        "bench-officer", "bench-officer@bench.example.com", "bench-password"
    )
    officer.groups.add(Group.objects.get(name=roles.OFFICER))
    Token.objects.create(user=officer, key=OFFICER_TOKEN)
    exporters = list(Exporter.objects.order_by("pk").values_list("pk", flat=True))
    for n in range(1, digest_users + 1):
        user = User.objects.create_user(f"bench-digest-{n}", f"digest{n}@bench.example.com", "x")
        user.groups.add(Group.objects.get(name=roles.MANAGER))
        pref = AlertPreference.objects.create(
            user=user, digest=True, digest_hour=0, time_zone="UTC", immediate_kinds=[]
        )
        pref.watched_exporters.set(exporters[:5] + rng.sample(exporters[5:], 5))
    return {"users": 1 + digest_users}


def build(*, size: int, seed: int, newly_due: int) -> dict:
    """In a Django process on the (empty) database: migrate, generate, users, then `finish`."""
    setup_django()
    from django.core.management import call_command

    from bench import generate

    timings = {}
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with events_linked_afterwards():
        counts = generate.generate(shipments=size, seed=seed, newly_due=newly_due)
    timings["generate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    link_generated_events()
    timings["link_events_s"] = time.perf_counter() - t
    counts.update(create_users())
    return finish(counts, timings)


@contextmanager
def events_linked_afterwards() -> Iterator[None]:
    """The generator COPYs millions of events: the trigger that links each row as it is
    inserted would cost it three times its time. It is off meanwhile (whatever happens), and
    `link_generated_events` links them all, set-based, after."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE licenses_event DISABLE TRIGGER licenses_event_chain")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE licenses_event ENABLE TRIGGER licenses_event_chain")


def link_generated_events() -> None:
    from django.db import connection, transaction

    from licenses.events import chain

    with transaction.atomic(), connection.cursor() as cursor:
        chain.link_stored(cursor)


def finish(counts: dict, timings: dict) -> dict:
    """The baseline scan (in full: it raises the whole backlog of flags, with their events and
    alerts, as a long-running installation has them) and VACUUM ANALYZE."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from bench import generate
    from monitoring import scan

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    baseline = scan.scan(now=generate.BASELINE)
    timings["baseline_scan_s"] = time.perf_counter() - t
    counts["baseline_flags_raised"] = baseline.raised
    counts["baseline_alerts"] = baseline.alerts
    t = time.perf_counter()
    connection.close()
    with psycopg.connect(_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    timings["vacuum_s"] = time.perf_counter() - t
    return {"counts": counts, "timings": timings}


def _url() -> str:
    return f"{server_url()}/{os.environ['BENCH_DATABASE']}"


def write_meta(database: str, meta: dict[str, str]) -> None:
    with psycopg.connect(f"{server_url()}/{database}", autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        conn.execute("DELETE FROM bench_meta")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_meta (key, value) VALUES (%s, %s)", list(meta.items())
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--newly-due", type=int, required=True)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--finish-only",
        action="store_true",
        help="The data are generated (a build stopped during its baseline scan): finish it.",
    )
    args = parser.parse_args()
    database = os.environ["BENCH_DATABASE"]
    wanted = wanted_meta(args.size, args.seed, args.newly_due)
    if args.finish_only:
        result = finish({}, {})
        write_meta(
            database,
            {
                **wanted,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "counts": json.dumps(result["counts"]),
                "timings": json.dumps(result["timings"]),
            },
        )
        print(json.dumps(result))
        return
    meta = read_meta(database)
    if not args.rebuild and meta and all(meta.get(k) == v for k, v in wanted.items()):
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(json.dumps({"reused": True, "meta": meta}))
        return
    if meta is not None and not args.rebuild:
        print(f"{database}: built with {meta}, want {wanted}: rebuilding", file=sys.stderr)
    drop_and_create(database)
    started = time.perf_counter()
    result = build(size=args.size, seed=args.seed, newly_due=args.newly_due)
    result["timings"]["total_s"] = time.perf_counter() - started
    meta = {
        **wanted,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "counts": json.dumps(result["counts"]),
        "timings": json.dumps(result["timings"]),
    }
    write_meta(database, meta)
    print(json.dumps({"reused": False, "meta": meta}))


if __name__ == "__main__":
    main()
