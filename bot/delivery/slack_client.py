"""The one place a WebClient is built: every call goes to SLACK_API_URL."""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler

from .rate_limits import MethodPace, PausingWebClient, RateLimitPauses


def make_client(token: str, api_url: str, timeout: int = 10, *, wait_on_rate_limit: bool = False,
                clock=None, pace_clock=None) -> WebClient:
    """Short connection blips are retried in place (slack_sdk's handler).

    The outbox worker's client (default) never sleeps on 429 or 5xx: the worker
    reschedules the row and goes on with the batch. The client Bolt's listeners
    use (`wait_on_rate_limit`) answers a person in the moment (a modal, Home, an
    ephemeral) with no row to reschedule, so it waits Slack's `Retry-After` once
    with slack_sdk's RateLimitErrorRetryHandler before giving up. The worker's client
    pauses a method (and channel) after a 429 until Retry-After passes and, once it has
    measured a method's sustained limit, spaces its calls below it (rate_limits.py);
    `pace_clock` is what that spacing waits on (the worker's pacer clock).
    """
    handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=1)]
    if wait_on_rate_limit:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
        return WebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=handlers)
    return PausingWebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=handlers,
                            pauses=RateLimitPauses(clock) if clock else None, pace=MethodPace(pace_clock))
