"""The sandbox's virtual clock: real time plus an offset that only grows.

The bot runs on it (`build_runtime(clock=…)`), the workspace stamps messages with it, and the
page's buttons move it forward: "Next working morning", "+1 day", "+1 week", "Launch day".
"""
from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MORNING = time(9, 30)  # just after the default WORKDAY_START, so nudges are due


class VirtualClock:
    def __init__(self, offset: float = 0.0):
        self._lock = threading.Lock()
        self.offset = timedelta(seconds=offset)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self.offset

    __call__ = now

    def epoch(self) -> float:
        return self.now().timestamp()

    def move_to(self, at: datetime) -> datetime:
        """Jump forward to `at` (never back: the bot's due times assume time only grows)."""
        with self._lock:
            real = datetime.now(timezone.utc)
            if at > real + self.offset:
                self.offset = at - real
            return real + self.offset


def next_working_morning(now: datetime, tz: str) -> datetime:
    """The next Monday–Friday 09:30 in `tz` strictly after `now`."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date()
    while True:
        candidate = datetime.combine(day, MORNING, tzinfo=zone)
        if candidate > now and candidate.weekday() < 5:
            return candidate.astimezone(timezone.utc)
        day += timedelta(days=1)


def morning_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, MORNING, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
