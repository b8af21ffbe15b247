"""Respecting Slack's Retry-After for a whole method, not just the row that got the 429.

Slack rate-limits per method (and chat.postMessage also per channel). After a
429 the worker's client stops calling that method — and that channel — until
Retry-After has passed: rows that would call it are put back for exactly that
long without a request, instead of each earning its own 429 (Slack throttles
apps that keep knocking). The clock is the worker's, so tests move it by hand.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from models import utcnow

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
        """Read the pauses against `now` (the worker's batch time, e.g. `launchgate tick --at`)."""
        before = getattr(self._local, "now", None)
        self._local.now = now
        try:
            yield
        finally:
            self._local.now = before

    def now(self) -> datetime:
        return getattr(self._local, "now", None) or self.clock()

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


def _channel(kwargs: dict) -> str | None:
    for part in ("data", "json", "params"):
        value = (kwargs.get(part) or {}).get("channel")
        if value:
            return str(value)
    return None


class PausingWebClient(WebClient):
    """A WebClient that answers a paused method itself, with a 429 that never reached Slack."""

    def __init__(self, *args, pauses: RateLimitPauses | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pauses = pauses or RateLimitPauses()

    def api_call(self, api_method: str, **kwargs) -> SlackResponse:
        channel = _channel(kwargs)
        left = self.pauses.seconds_left(api_method, channel)
        if left > 0:
            raise SlackApiError(f"{api_method} paused for {left:.0f}s after a 429", SlackResponse(
                client=self, http_verb=kwargs.get("http_verb", "POST"), api_url=self.base_url + api_method,
                req_args={}, data={"ok": False, "error": PAUSED, "paused": True},
                headers={"Retry-After": f"{left:.3f}"}, status_code=429))
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                headers = exc.response.headers or {}
                seconds = float(headers.get("Retry-After", headers.get("retry-after", 1)) or 1)
                self.pauses.record(api_method, channel, seconds)
            raise
