"""What the generator draws before it touches a database: sizes, states and how many
applications are pending (`pending_count`, so that the runner knows K = 1 % of the 1,000,000
database's pending applications before building either database). No Django here."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SEED = 2026

DESTINATIONS = ["DE", "JP", "US", "KR", "FR", "NL", "GB", "IT", "IN", "VN"]
STATES = [
    ("draft", 5),
    ("submitted", 12),
    ("accepted", 24),
    ("info_requested", 6),
    ("approved", 30),
    ("rejected", 5),
    ("withdrawn", 5),
    ("expired", 10),
    ("exhausted", 3),
]
AUTHORITY_SHARES = [("MOFCOM", 6), ("BIS", 1), ("ECJU", 1)]
PENDING = {"submitted", "accepted", "info_requested"}
DUE = {"submitted", "accepted"}  # pending with a due date (information requested: none)
TO_SHIP = {"planned", "awaiting_license", "cleared", "on_hold"}


@dataclass(frozen=True)
class Sizes:
    shipments: int

    @property
    def exporters(self) -> int:
        return max(20, self.shipments // 5000)

    @property
    def individual(self) -> int:
        return int(self.shipments * 0.28)

    @property
    def general(self) -> int:
        return max(1, int(self.shipments * 0.045))


def states(sizes: Sizes, seed: int) -> Iterator[tuple[str, str]]:
    """Each application's authority and state, in id order, from a stream of its own (so that
    `pending_count` can replay it without building anything)."""
    rng = random.Random(seed * 7919 + 1)
    authority_pool = [c for c, w in AUTHORITY_SHARES for _ in range(w)]
    state_pool = [s for s, w in STATES for _ in range(w)]
    for app_id in range(1, sizes.individual + sizes.general + 1):
        code = rng.choice(authority_pool)
        status = rng.choice(state_pool)
        if status == "exhausted" and app_id <= sizes.individual:
            status = "approved"  # an individual license is never drawn down
        yield code, status


def pending_count(*, shipments: int, seed: int = SEED) -> int:
    """How many pending applications `generate(shipments=…, seed=…)` writes."""
    return sum(status in PENDING for _code, status in states(Sizes(shipments), seed))
