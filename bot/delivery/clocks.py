"""What the worker's pacing waits on: wall time in production, a virtual clock in tests and benches."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class PacerClock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """Wall time: the pacer really waits (production)."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)


class VirtualClock:
    """Waiting without waiting: `sleep` moves this clock on, so pacing keeps its arithmetic
    (who waits how long) while tests and benches spend no real seconds in it.

    Calling it gives the same moment as a UTC datetime (from `start`), so one virtual clock
    can drive the pacer, the runtime's clock and the stand-in's rate limits together."""

    def __init__(self, start: datetime = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)) -> None:
        self.now = 0.0
        self.slept = 0.0
        self.start = start

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.now)
