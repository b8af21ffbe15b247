"""A sustained rate limit per Web API method, as Slack enforces its tiers: a token bucket
refilling at `per_minute`, holding at most `burst` calls; a call finding it empty gets HTTP 429
with `Retry-After` (whole seconds until a call would go through) and changes nothing."""
from __future__ import annotations

import math
from collections.abc import Callable


class TokenBucket:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float]):
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.at = clock()

    def take(self) -> int:
        """0 when the call may go through (it uses a token); otherwise the Retry-After in seconds."""
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate))
