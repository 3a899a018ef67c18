"""A tally of what a write set off in the layers above: flags raised and cleared, alerts queued.

A preview that runs the real write inside a savepoint and rolls it back (`licenses.fasttrack.
decision_consequences`) must say what the apps above this one did in reaction — and this app
never imports them. So it opens a tally (`tallying()`); while it is open, `monitoring` reports
each kind it applied and each outbox row it wrote (`report_flags`, `report_alerts`). With no
tally open, reporting costs nothing. The tally lives in a context variable: another request, or
another thread, never adds to it.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Tally:
    raised: Counter[str] = field(default_factory=Counter)  # flag kind -> flags raised
    cleared: Counter[str] = field(default_factory=Counter)  # flag kind -> flags cleared
    alerts: int = 0  # outbox rows: one e-mail each
    recipients: set[str] = field(default_factory=set)  # their addresses, lower case


_current: contextvars.ContextVar[Tally | None] = contextvars.ContextVar(
    "licenses_consequences", default=None
)


@contextmanager
def tallying() -> Iterator[Tally]:
    """Collect what the layers above report while the block runs (nested tallies: the inner
    one collects, the outer one sees nothing of it)."""
    tally = Tally()
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)


def active() -> bool:
    """Whether a tally is open (a reporter may skip the work of counting otherwise)."""
    return _current.get() is not None


def report_flags(kind: str, *, raised: int, cleared: int) -> None:
    tally = _current.get()
    if tally is not None:
        tally.raised[kind] += raised
        tally.cleared[kind] += cleared


def report_alerts(recipients: Iterable[str]) -> None:
    """One address per alert row written (so the same address twice counts two e-mails)."""
    tally = _current.get()
    if tally is not None:
        for address in recipients:
            tally.alerts += 1
            tally.recipients.add(address.strip().lower())
