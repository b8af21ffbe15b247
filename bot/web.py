"""The WSGI application served by waitress: Slack events, health, metrics."""
from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from bot import metrics, metrics_readiness, payload_shape
from bot.api import make_api
from bot.db import read_only
from bot.health import Probe, check
from bot.services import outbox_admin
from models import OutboxMessage, OutboxStatus, utcnow


log = logging.getLogger(__name__)


def make_wsgi_app(bolt_app: App | None, engine: Engine, clock=utcnow, ctx=None, probes: tuple[Probe, ...] = ()):
    """Without a Bolt app (Socket Mode) only /healthz, /metrics and (given `ctx`) the answering API answer.

    /healthz is 503 with the reason when the database cannot take a write or a probe
    reports a problem (delivery paused on a refused token, the Socket Mode connection
    down), and reports the oldest undelivered outbox row's age (a Slack outage is not
    unhealthy: the outbox is doing its job).
    """
    slack = SlackRequestHandler(bolt_app, path="/slack/events") if bolt_app else None
    api = make_api(ctx) if ctx is not None else None
    # Bolt checks signatures itself; this copy only decides 401 vs "signed but malformed".
    verifier = SignatureVerifier(bolt_app._signing_secret) if bolt_app else None  # noqa: SLF001

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            health = check(engine, clock(), probes)
            status = "200 OK" if health.ok else "503 Service Unavailable"
            body = json.dumps(health.body()).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/metrics" and method == "GET":
            _refresh_gauges(engine, clock())
            body = generate_latest() + metrics_readiness.exposition(engine, clock)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
            return [body]
        if path.startswith("/api/") and api is not None:
            return api(environ, start_response)
        if path == "/slack/events" and slack is not None:
            refused = _malformed(environ, verifier)
            if refused:
                return _plain(start_response, *refused)
            return slack(environ, start_response)
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


MAX_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack
TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _malformed(environ, verifier: SignatureVerifier | None = None) -> tuple[str, str] | None:
    """Requests Bolt's verifier would crash on (500 + traceback) instead of refusing.

    A non-numeric `X-Slack-Request-Timestamp` makes slack_sdk's `int()` raise and a
    body that is not UTF-8 fails Bolt's WSGI adapter: both are refused here as
    unauthenticated (401) / bad (400), quietly. The body is read once and handed
    on, so Bolt still checks the signature of exactly these bytes.
    """
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    if stamp is not None and not TIMESTAMP.fullmatch(stamp):
        return "401 Unauthorized", "invalid request"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "bad content length"
    if length < 0 or length > MAX_BODY:
        return "413 Payload Too Large", "request too large"
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", "body is not UTF-8"
    payload = _parsed(text, environ.get("CONTENT_TYPE") or "")
    if payload is None or not _shaped(payload):
        # Bolt would crash building its request from it. Unsigned: 401 as usual; signed
        # (a broken client): 200 with nothing done.
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if verifier is None or not stamp or not signature or not verifier.is_valid(body, stamp, signature):
            return "401 Unauthorized", "invalid request"
        log.info("ignored a signed but malformed request")
        return "200 OK", ""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return None


def _parsed(text: str, content_type: str) -> dict | None:
    """The request as Bolt will read it (JSON body, `payload=` JSON, or form fields);
    None when that would raise inside Bolt."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(text or "null")
        elif text.startswith("payload="):
            fields = parse_qs(text, keep_blank_values=True).get("payload") or [""]
            data = json.loads(fields[0] or "null")
        else:
            return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _shaped(payload: dict) -> bool:
    try:
        payload_shape.check(payload)
    except payload_shape.Malformed:
        return False
    return True


def _plain(start_response, status: str, text: str):
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _refresh_gauges(engine: Engine, now) -> None:
    """Gauges read from the database at scrape time, so every replica reports the truth."""
    try:
        with read_only(engine) as session:
            pending = session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            ).one()
            oldest = outbox_admin.oldest_undelivered_age(session, now)
            dead = outbox_admin.dead_count(session)
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_UNDELIVERED.set(oldest or 0)
        metrics.OUTBOX_DEAD_ROWS.set(dead)
    except SQLAlchemyError:
        pass  # /healthz reports the database; metrics still answer


def serve_http(wsgi_app, port: int, threads: int = 8, listening: Callable[[], None] | None = None):
    """waitress: a production WSGI server with a thread pool. `listening` runs once the port
    is bound (the scheduler's first tick waits for it, so /healthz answers from the start)."""
    from waitress import create_server

    server = create_server(wsgi_app, host="0.0.0.0", port=port, threads=threads, ident="launchgate")
    if listening is not None:
        listening()
    try:
        server.run()
    finally:
        server.close()
