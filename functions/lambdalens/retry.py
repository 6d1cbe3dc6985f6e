"""When to try again: exponential backoff with full jitter, bounded by the Lambda's deadline.

One policy for every retry loop: the indexer's ``_bulk`` requests
(:class:`~lambdalens.indexing.indexer.BulkIndexer`) and the alert publisher's SNS calls
(:class:`~lambdalens.alerts.publisher.Publisher`, configured by its
:class:`~lambdalens.alerts.publisher.RetryPolicy`). A loop asks :meth:`Backoff.wait` before
each retry; it sleeps and says yes only while there is an attempt left and the sleep ends
before the :class:`Deadline`.

Example
-------
>>> deadline = Deadline(lambda: 5_000, margin_ms=1_000)      # 4 s of work left
>>> backoff = Backoff(base_ms=100, max_ms=400, max_attempts=2, sleep=lambda s: None)
>>> backoff.wait(1, deadline), backoff.wait(2, deadline), backoff.wait(3, deadline)
(True, True, False)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Deadline:
    """The time left before the Lambda must stop, minus a safety margin.

    ``remaining_ms`` is usually ``context.get_remaining_time_in_millis``.
    """

    remaining_ms: Callable[[], int]
    margin_ms: int = 10_000

    def left_ms(self) -> int:
        """Milliseconds of work left before the margin (never negative)."""
        return max(0, self.remaining_ms() - self.margin_ms)

    def expired(self) -> bool:
        return self.left_ms() <= 0

    @classmethod
    def after(cls, seconds: float, margin_ms: int = 0) -> Deadline:
        """A deadline ``seconds`` from now (CLI, tests)."""
        end = time.monotonic() + seconds
        return cls(lambda: int((end - time.monotonic()) * 1000), margin_ms)


@dataclass
class Backoff:
    """Full-jitter exponential backoff: attempt ``n`` sleeps uniform(0, min(max, base * 2**(n-1))).

    See "Exponential Backoff And Jitter" (AWS Architecture Blog): full jitter spreads
    retries of many concurrent callers (shards, containers) so they do not hit a service in
    lockstep.
    """

    base_ms: int = 200
    max_ms: int = 10_000
    max_attempts: int = 10
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def delay_ms(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.max_ms, self.base_ms * 2 ** max(0, attempt - 1)))

    def wait(self, attempt: int, deadline: Deadline) -> bool:
        """Sleep before retry ``attempt`` (1-based); False when there is no time or no attempt left."""
        if attempt > self.max_attempts:
            return False
        left = deadline.left_ms()
        delay = min(self.delay_ms(attempt), left)
        if left - delay <= 0:
            return False
        self.sleep(delay / 1000)
        return True
