"""Sending one webhook outbox row: sign per Standard Webhooks, POST, keep the endpoint's health.

Signing uses the `standardwebhooks` package: `webhook-id` (the event id, the same on
every retry and replay), `webhook-timestamp` (this attempt, wall clock, so receivers'
five-minute replay window holds) and `webhook-signature` — one `v1,…` per secret, two
while a secret is being rotated. Any non-2xx answer or network error is a failure
the worker retries with backoff; `WEBHOOK_PAUSE_AFTER` failures in a row pause the
endpoint (its rows wait, uncounted), admins are told once, and one row probes it
again after a while: the first success resumes it and nothing queued is lost.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlmodel import select
from standardwebhooks import Webhook

from bot.db import is_postgres, unit_of_work
from bot.services import audit, directory, effects
from bot.services.context import AppContext
from bot.services.outbox import Kind, enqueue
from models import OutboxMessage, WebhookEndpointState

from .renderers import Defer

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
USER_AGENT = "launchgate-webhooks/1.0"
FIRST_PROBE = timedelta(minutes=15)
LONGEST_PROBE = timedelta(hours=6)


class WebhookFailed(OSError):
    """A failed attempt; an OSError so the worker retries it with backoff like a network error."""


def signed_request(endpoint, event: dict, at: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt."""
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    at = at or datetime.now(timezone.utc)
    signatures = " ".join(Webhook(secret).sign(event["id"], at, data) for secret in endpoint.secrets)
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": event["id"],
               "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures}
    return data.encode(), headers


def post(endpoint, event: dict, timeout: float) -> httpx.Response:
    """One attempt. httpx is imported here, by the first webhook sent, not at start-up (~15 ms of
    a cold start; most installs send none)."""
    import httpx

    body, headers = signed_request(endpoint, event)
    return httpx.post(endpoint.url, content=body, headers=headers, timeout=timeout, follow_redirects=False,
                      trust_env=False)


def _state(session, endpoint_id: str) -> WebhookEndpointState:
    stmt = select(WebhookEndpointState).where(WebhookEndpointState.endpoint_id == endpoint_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    state = session.exec(stmt).first()
    if state is None:
        state = WebhookEndpointState(endpoint_id=endpoint_id)
        session.add(state)
    return state


def send(ctx: AppContext, row: OutboxMessage) -> tuple[str, str]:
    endpoint = next((e for e in effects.endpoints(ctx.engine) if e.id == row.recipient), None)
    if endpoint is None:
        raise WebhookFailed(f"endpoint {row.recipient} is not in the webhooks file any more")
    now = ctx.now()
    with unit_of_work(ctx.engine) as session:
        state = session.get(WebhookEndpointState, endpoint.id)
        if state is not None and state.paused_until is not None and now < state.paused_until:
            raise Defer((state.paused_until - now).total_seconds(), f"endpoint {endpoint.id} paused")
    import httpx

    try:
        response = post(endpoint, row.payload["event"], ctx.settings.webhook_timeout_seconds)
        error = None if 200 <= response.status_code < 300 else f"http {response.status_code}"
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}"
    if error is None:
        _succeeded(ctx, endpoint.id, now)
        return endpoint.id[:32], str(response.status_code)
    _failed(ctx, endpoint.id, error, now)
    raise WebhookFailed(error)


def _succeeded(ctx: AppContext, endpoint_id: str, now: datetime) -> None:
    with unit_of_work(ctx.engine) as session:
        state = _state(session, endpoint_id)
        resumed = state.paused_at is not None
        state.consecutive_failures, state.last_success_at = 0, now
        state.paused_at = state.paused_until = None
        if resumed:
            audit.record(session, actor="launchgate", action="webhook.resumed", entity="webhook",
                         after={"endpoint": endpoint_id}, at=now)
            _tell_admins(session, f"✅ Webhook endpoint `{endpoint_id}` answers again; queued events are "
                                  "being delivered.", f"webhook-resumed:{endpoint_id}:{now.isoformat()}")


def _failed(ctx: AppContext, endpoint_id: str, error: str, now: datetime) -> None:
    with unit_of_work(ctx.engine) as session:
        state = _state(session, endpoint_id)
        state.consecutive_failures += 1
        state.last_error, state.last_failure_at = error, now
        if state.paused_at is not None:  # a probe failed: wait longer
            waited = max(now - state.paused_at, FIRST_PROBE)
            state.paused_until = now + min(waited, LONGEST_PROBE)
        elif state.consecutive_failures >= ctx.settings.webhook_pause_after:
            state.paused_at, state.paused_until = now, now + FIRST_PROBE
            log.warning("webhook endpoint %s paused after %d failures: %s", endpoint_id,
                        state.consecutive_failures, error)
            audit.record(session, actor="launchgate", action="webhook.paused", entity="webhook",
                         after={"endpoint": endpoint_id, "failures": state.consecutive_failures, "error": error},
                         at=now)
            _tell_admins(session, f"⚠️ Webhook endpoint `{endpoint_id}` failed {state.consecutive_failures} times "
                                  f"in a row (`{error}`) and is paused. Its events are kept and retried every "
                                  f"little while; `launchgate webhooks status` shows it.",
                         f"webhook-paused:{endpoint_id}:{now.isoformat()}")


def _tell_admins(session, text: str, key: str) -> None:
    for admin in directory.members(session, directory.ADMIN):
        enqueue(session, Kind.ADMIN_ALERT, admin, {"text": text}, dedupe_key=f"{key}:{admin}"[:200])
