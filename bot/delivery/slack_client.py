"""The one place a WebClient is built: every call goes to SLACK_API_URL."""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler


def make_client(token: str, api_url: str, timeout: int = 10) -> WebClient:
    """Short connection blips are retried in place (slack_sdk's handler);
    429 and 5xx are rescheduled by the outbox so no thread sleeps on them."""
    return WebClient(
        token=token,
        base_url=api_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )
