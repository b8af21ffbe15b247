"""Respecting Slack's Retry-After for a whole method, not just the row that got the 429.

Slack rate-limits per method (and chat.postMessage also per channel). After a
429 the worker's client stops calling that method — and that channel — until
Retry-After has passed: rows that would call it are put back for exactly that
long without a request, instead of each earning its own 429 (Slack throttles
apps that keep knocking). The clock is the worker's, so tests move it by hand.

A pause alone still earns a 429 per Retry-After window when Slack's limit is
sustained (a backlog of 500 DMs against a 120/min method): every window the
worker spends the tokens that came back and knocks once more. So the client
also learns each method's pace (`MethodPace`): from the second 429 within a
minute it knows how many calls went through between the two — the method's
real rate — and from then on spaces that method's calls at 95 % of it, so a
backlog drains at the limit without further 429s.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from models import utcnow

from .clocks import PacerClock, RealClock

PAUSED = "ratelimited"


class RateLimitPauses:
    """Until when each method and each channel is paused (thread-safe; one per client)."""

    def __init__(self, clock: Callable[[], datetime] = utcnow):
        self.clock = clock
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def at(self, now: datetime) -> Iterator[None]:
        """Read the pauses on the timeline of `now` (the worker's batch time, e.g. `launchgate
        tick --at`), moving on with the clock while the batch is paced."""
        before = getattr(self._local, "offset", None)
        self._local.offset = now - self.clock()
        try:
            yield
        finally:
            self._local.offset = before

    def now(self) -> datetime:
        offset = getattr(self._local, "offset", None)
        return self.clock() + offset if offset is not None else self.clock()

    def record(self, method: str, channel: str | None, seconds: float) -> None:
        until = self.now() + timedelta(seconds=max(seconds, 1.0))
        with self._lock:
            for key in (f"method:{method}", f"channel:{channel}" if channel else None):
                if key and self._until.get(key, until) <= until:
                    self._until[key] = until

    def seconds_left(self, method: str, channel: str | None) -> float:
        now = self.now()
        with self._lock:
            ends = [self._until.get(f"method:{method}"), self._until.get(f"channel:{channel}") if channel else None]
        return max([(end - now).total_seconds() for end in ends if end is not None] + [0.0])


@dataclass
class _Pace:
    last_limited: float | None = None  # when the last real 429 came (pacer clock)
    ok_since: int = 0                  # calls that went through since then
    interval: float = 0.0              # learned spacing in seconds; 0 = none
    next_slot: float = 0.0


class MethodPace:
    """Per-method spacing learned from Slack's 429s (thread-safe; one per client).

    Two 429s at most `LEARN_WINDOW` apart with `n` calls accepted in between
    mean the method lets through n calls per that many seconds; calls are then
    spaced at `MARGIN` of that rate. A further 429 re-measures (slower). A pace
    lapses after `LAPSE` seconds without a 429, so a limit Slack lifted is not
    kept forever. Waiting uses the pacer's clock (virtual in tests and benches).
    """

    LEARN_WINDOW = 60.0
    LAPSE = 600.0
    MARGIN = 0.95

    def __init__(self, clock: PacerClock | None = None):
        self.clock = clock or RealClock()
        self._paces: dict[str, _Pace] = {}
        self._lock = threading.Lock()

    def wait(self, method: str) -> None:
        with self._lock:
            pace = self._paces.get(method)
            if pace is None or not pace.interval:
                return
            now = self.clock.monotonic()
            if now - pace.last_limited > self.LAPSE:
                pace.interval = 0.0
                return
            slot = max(now, pace.next_slot)
            pace.next_slot = slot + pace.interval
        if slot > now:
            self.clock.sleep(slot - now)

    def accepted(self, method: str) -> None:
        with self._lock:
            pace = self._paces.get(method)
            if pace is not None:
                pace.ok_since += 1

    def limited(self, method: str) -> None:
        with self._lock:
            now = self.clock.monotonic()
            pace = self._paces.setdefault(method, _Pace())
            if pace.last_limited is not None and pace.ok_since and 0 < now - pace.last_limited <= self.LEARN_WINDOW:
                pace.interval = (now - pace.last_limited) / pace.ok_since / self.MARGIN
                pace.next_slot = now
            pace.last_limited, pace.ok_since = now, 0

    def interval(self, method: str) -> float:
        """The learned spacing of `method` in seconds (0: none)."""
        with self._lock:
            pace = self._paces.get(method)
            return pace.interval if pace is not None else 0.0


def _channel(kwargs: dict) -> str | None:
    for part in ("data", "json", "params"):
        value = (kwargs.get(part) or {}).get("channel")
        if value:
            return str(value)
    return None


class PausingWebClient(WebClient):
    """A WebClient that answers a paused method itself, with a 429 that never reached Slack,
    and spaces a method's calls at the pace it learned from earlier 429s."""

    def __init__(self, *args, pauses: RateLimitPauses | None = None, pace: MethodPace | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pauses = pauses or RateLimitPauses()
        self.pace = pace or MethodPace()

    def api_call(self, api_method: str, **kwargs) -> SlackResponse:
        channel = _channel(kwargs)
        left = self.pauses.seconds_left(api_method, channel)
        if left > 0:
            raise SlackApiError(f"{api_method} paused for {left:.0f}s after a 429", SlackResponse(
                client=self, http_verb=kwargs.get("http_verb", "POST"), api_url=self.base_url + api_method,
                req_args={}, data={"ok": False, "error": PAUSED, "paused": True},
                headers={"Retry-After": f"{left:.3f}"}, status_code=429))
        self.pace.wait(api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                headers = exc.response.headers or {}
                seconds = float(headers.get("Retry-After", headers.get("retry-after", 1)) or 1)
                self.pauses.record(api_method, channel, seconds)
                self.pace.limited(api_method)
            else:
                self.pace.accepted(api_method)  # refused for another reason: it still went through the limit
            raise
        self.pace.accepted(api_method)
        return response
