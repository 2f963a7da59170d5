"""When a failed delivery is tried again: exponential backoff with jitter, about a day in all, then FAILED.

The k-th retry (k = 1..10) waits 5 s x 3^(k-1), at most 10 hours, each wait scaled by a random factor in
[0.8, 1.2] so that the retries of many events that failed together (an endpoint that was down) spread out
instead of arriving in a burst. Nominal waits: 5 s, 15 s, 45 s, 2m15s, 6m45s, 20m15s, 1h, 3h2m, 9h7m, 10h:
11 attempts over about 24.6 hours. Svix, which OpenMeter delivers through, tries 8 times over about 27 hours.
"""

from __future__ import annotations

import random
from datetime import timedelta

BASE = timedelta(seconds=5)
FACTOR = 3
CAP = timedelta(hours=10)
RETRIES = 10
JITTER = 0.2

NOMINAL = tuple(min(BASE * FACTOR**k, CAP) for k in range(RETRIES))


def retry_delay(attempts_made: int, rng: random.Random | None = None) -> timedelta | None:
    """How long after the ``attempts_made``-th failed attempt the next one is due; None when none is left."""
    if attempts_made < 1 or attempts_made > RETRIES:
        return None
    factor = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return NOMINAL[attempts_made - 1] * factor


def total_nominal() -> timedelta:
    """The nominal time from the first attempt to the last (documented as "about 24 hours")."""
    return sum(NOMINAL, timedelta())
