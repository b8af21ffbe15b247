"""`launchgate webhooks …`: send a signed test ping, replay dead letters, show endpoint health, make a secret."""
from __future__ import annotations

import base64
import os
import sys
import uuid
from datetime import datetime, timezone

from bot import cli_support
from bot.cli_support import Refused, guarded


def _parse_at(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"--since: '{value}' is not an ISO-8601 time like 2027-03-01T09:00Z") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def register(sub) -> None:
    hooks = sub.add_parser("webhooks", help="outgoing webhooks (webhooks.yaml)").add_subparsers(
        dest="action", required=True)
    test = hooks.add_parser("test", help="send a signed ping to URL (a configured endpoint's secrets, or --secret)")
    test.add_argument("url")
    test.add_argument("--secret", help="whsec_… to sign with (default: the secrets of the endpoint with this URL)")
    test.set_defaults(func=guarded(cmd_test))
    replay = hooks.add_parser("replay", help="queue dead-lettered events again")
    replay.add_argument("--since", required=True, help="events that occurred at or after this ISO-8601 time")
    replay.add_argument("--endpoint", help="only this endpoint id")
    replay.set_defaults(func=guarded(cmd_replay))
    hooks.add_parser("status", help="per endpoint: paused or not, queued and dead-lettered events").set_defaults(
        func=guarded(cmd_status))
    hooks.add_parser("secret", help="print a new random whsec_ secret").set_defaults(func=cmd_secret)


def _endpoints(settings):
    from bot.webhooks.config import WebhookConfigError, load_endpoints

    try:
        return load_endpoints(settings.webhooks_file)
    except WebhookConfigError as exc:
        raise Refused(f"webhooks file: {exc}") from None


def cmd_test(args) -> int:
    import httpx

    from bot.delivery.webhook_sender import post
    from bot.webhooks.config import Endpoint
    from bot.webhooks.events import VERSION

    settings = cli_support.settings()
    endpoint = next((e for e in _endpoints(settings) if e.url == args.url), None)
    secrets = [args.secret] if args.secret else endpoint.secrets if endpoint else None
    if not secrets:
        raise Refused(f"{args.url} is not an endpoint in {settings.webhooks_file}; pass --secret whsec_…")
    try:
        target = Endpoint(id=endpoint.id if endpoint else "test", url=args.url, secrets=secrets)
    except ValueError as exc:
        raise Refused(f"--secret: {exc.errors()[0]['msg']}") from None
    ping = {"id": f"evt_{uuid.uuid4().hex}", "type": "ping", "version": VERSION,
            "occurred_at": datetime.now(timezone.utc).isoformat(), "actor": {"type": "system"}, "launch": None,
            "data": {"message": "launchgate webhooks test"}}
    try:
        response = post(target, ping, settings.webhook_timeout_seconds)
    except httpx.HTTPError as exc:
        print(f"{args.url}: no answer ({type(exc).__name__})", file=sys.stderr)
        return 1
    ok = 200 <= response.status_code < 300
    print(f"{args.url}: HTTP {response.status_code} for ping {ping['id']}" + ("" if ok else " (not 2xx)"),
          file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_replay(args) -> int:
    from sqlalchemy import update

    from bot.db import make_engine, migrate, unit_of_work
    from bot.services.outbox import Kind
    from models import OutboxMessage, OutboxStatus, WebhookEndpointState, utcnow

    settings = cli_support.settings()
    since = _parse_at(args.since)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    now = utcnow()
    try:
        with unit_of_work(engine) as session:
            where = [OutboxMessage.kind == Kind.WEBHOOK, OutboxMessage.status == OutboxStatus.DEAD,
                     OutboxMessage.created_at >= since]
            if args.endpoint:
                where.append(OutboxMessage.recipient == args.endpoint)
            count = session.execute(update(OutboxMessage).where(*where).values(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None,
                claimed_by=None, last_error=None)).rowcount
            states = update(WebhookEndpointState).values(paused_until=now)
            if args.endpoint:
                states = states.where(WebhookEndpointState.endpoint_id == args.endpoint)
            session.execute(states.where(WebhookEndpointState.paused_at.is_not(None)))  # probe paused ones now
    finally:
        engine.dispose()
    scope = f" for {args.endpoint}" if args.endpoint else ""
    print(f"{count} dead-lettered event(s){scope} since {since.isoformat(timespec='minutes')} queued again; "
          "the running bot (or `launchgate tick`) delivers them with their original ids")
    return 0


def cmd_status(args) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from bot.db import make_engine, migrate, unit_of_work
    from bot.services.outbox import Kind
    from models import OutboxMessage, OutboxStatus, WebhookEndpointState

    settings = cli_support.settings()
    endpoints = _endpoints(settings)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            counts = dict(((r, s), n) for r, s, n in session.exec(
                select(OutboxMessage.recipient, OutboxMessage.status, func.count())
                .where(OutboxMessage.kind == Kind.WEBHOOK).group_by(OutboxMessage.recipient, OutboxMessage.status)))
            states = {s.endpoint_id: s for s in session.exec(select(WebhookEndpointState))}
    finally:
        engine.dispose()
    if not endpoints:
        print(f"no endpoints in {settings.webhooks_file}")
    for e in endpoints:
        state = states.get(e.id)
        health = (f"PAUSED since {state.paused_at.isoformat(timespec='minutes')} ({state.last_error})"
                  if state and state.paused_at else "ok")
        print(f"{e.id}: {e.url} · {health} · queued {counts.get((e.id, OutboxStatus.PENDING), 0)} · "
              f"dead {counts.get((e.id, OutboxStatus.DEAD), 0)} · events {', '.join(e.events)}")
    return 0


def cmd_secret(args) -> int:
    print("whsec_" + base64.b64encode(os.urandom(32)).decode())
    return 0
