"""Real services for the end-to-end tests: a Celery worker (and beat) in subprocesses on the
real Redis, and an SMTP server on localhost (aiosmtpd)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from kombu import pools

from config.celery_app import app as celery_app
from config.settings.base import broker_transport_options
from monitoring import alerts

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# What the worker logs (at INFO) when a task ends, whatever the outcome.
_RECEIVED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] received")
_FINISHED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] (?:succeeded|raised|retry|failed|ignored)")


def finished_runs(process: Process, task: str) -> int:
    """How many runs of `task` the worker has finished so far, by its log."""
    return sum(1 for name, _id in _FINISHED.findall(process.output()) if name == task)


def worker_idle(process: Process) -> bool:
    """Whether the worker has finished every task it received (tasks queued with a countdown
    are received at once and held until their time), by its log."""
    log = process.output()
    received = {task_id for _name, task_id in _RECEIVED.findall(log)}
    finished = {task_id for _name, task_id in _FINISHED.findall(log)}
    return bool(received) and received <= finished


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class HoldingInbox(Inbox):
    """Takes the first message, then keeps its sender waiting for the "250 OK" until released
    (so that the test can kill the worker in the middle of the SMTP exchange)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 1:
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return reply


class SMTPServer:
    """A real SMTP server on localhost that can be started late (to play a server that is down
    and comes back)."""

    def __init__(self, port: int | None = None, inbox: Inbox | None = None) -> None:
        self.port = port or free_port()
        self.inbox = inbox or Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Message]:
        return list(self.inbox.messages)


def worker_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def point_web_side_at(url: str) -> None:
    """Make this process (the web side) publish to another broker from now on."""
    pools.reset()  # kombu keeps connection and producer pools per process
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = broker_transport_options(url)
    celery_app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        celery_app.__dict__["amqp"]._producer_pool = None
    alerts._broker_paused_until = 0.0


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._file = log.open("w")
        self.popen = subprocess.Popen(
            args,
            cwd=PROJECT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._file.close()


@contextlib.contextmanager
def celery_processes(
    tmp_path: Path, *, smtp_port: int, beat: bool, extra_env: dict[str, str] | None = None
) -> Iterator[dict[str, Process]]:
    """A worker (and beat) on the test database and the real Redis, sending by SMTP to
    localhost:smtp_port; stopped, whatever happens, when the block ends."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.TEST_REDIS_URL,
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "SITE_URL": settings.SITE_URL,
        "E2E_ALERT_RETRY_BASE_SECONDS": "1",
        "E2E_ALERT_SWEEP_AFTER_SECONDS": "2",
        "E2E_ALERT_SWEEP_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    processes: dict[str, Process] = {}
    try:
        processes["worker"] = Process(
            "worker",
            [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            tmp_path / "worker.log",
        )
        if beat:
            processes["beat"] = Process(
                "beat",
                [*celery, "beat", "--loglevel=INFO", "--max-interval=1"],
                env,
                tmp_path / "beat.log",
            )
        wait_for(
            lambda: (
                "ready." in processes["worker"].output()
                or processes["worker"].popen.poll() is not None
            ),
            timeout=45,
            what="the Celery worker to start",
        )
        assert processes["worker"].popen.poll() is None, processes["worker"].output()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def result_on_sqlite(path: Path, script: str) -> str:
    """Migrate a fresh SQLite database at `path` (the embedded default), run `script` in
    `manage.py shell` on it, and return the line the script printed starting with RESULT."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=PROJECT, env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "shell", "-c", script],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
