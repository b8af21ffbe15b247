"""The WSGI application served by waitress: Slack events, health, metrics."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from bot import metrics
from bot.api import make_api
from bot.db import ping
from models import OutboxMessage, OutboxStatus


def make_wsgi_app(bolt_app: App | None, engine: Engine, ctx=None):
    """Without a Bolt app (Socket Mode) only /healthz, /metrics and (given `ctx`) the answering API answer."""
    slack = SlackRequestHandler(bolt_app, path="/slack/events") if bolt_app else None
    api = make_api(ctx) if ctx is not None else None

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok = ping(engine)
            status = "200 OK" if ok else "503 Service Unavailable"
            body = b'{"status":"ok"}' if ok else b'{"status":"database unavailable"}'
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/metrics" and method == "GET":
            _refresh_gauges(engine)
            body = generate_latest()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
            return [body]
        if path.startswith("/api/") and api is not None:
            return api(environ, start_response)
        if path == "/slack/events" and slack is not None:
            return slack(environ, start_response)
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def _refresh_gauges(engine: Engine) -> None:
    """Gauges read from the database at scrape time, so every replica reports the truth."""
    try:
        with Session(engine) as session:
            pending = session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            ).one()
        metrics.OUTBOX_PENDING.set(pending)
    except SQLAlchemyError:
        pass  # /healthz reports the database; metrics still answer


def serve_http(wsgi_app, port: int, threads: int = 8):
    """waitress: a production WSGI server with a thread pool."""
    from waitress import serve

    serve(wsgi_app, host="0.0.0.0", port=port, threads=threads, ident="launchgate")
