"""Before the tests: can we reach PostgreSQL (and Redis)? Say plainly what to do if not."""

import os
import socket
import sys
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> tuple[str, int, bool]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return host, port, True
    except OSError:
        return host, port, False


def main() -> int:
    db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ok = True
    host, port, up = reachable(db, 5432)
    if not up:
        ok = False
        print(
            f"Cannot reach PostgreSQL at {host}:{port}. Start it (e.g. `pg_ctlcluster "
            "--skip-systemctl-redirect 15 main start`) or point DATABASE_URL at one; "
            "the tests create their own database there.",
            file=sys.stderr,
        )
    host, port, up = reachable(redis, 6379)
    if not up:
        ok = False
        print(
            f"Cannot reach Redis at {host}:{port}. Start it (e.g. `redis-server --daemonize yes`) "
            "or point REDIS_URL at one.",
            file=sys.stderr,
        )
    if ok:
        ensure_database(db)
    return 0 if ok else 1


def ensure_database(url: str) -> None:
    """Create the (non-test) database named in DATABASE_URL if it is missing, so that
    `makemigrations --check` can read the migration history without a warning."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not parsed.scheme.startswith("postgres") or not name:
        return
    import psycopg

    admin = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"Could not create database {name!r}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
