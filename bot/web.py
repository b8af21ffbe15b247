"""The WSGI application served by waitress: Slack events, health, metrics."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from bot.db import ping


def make_wsgi_app(bolt_app: App | None, engine: Engine):
    """Without a Bolt app (Socket Mode) only /healthz and /metrics answer."""
    slack = SlackRequestHandler(bolt_app, path="/slack/events") if bolt_app else None

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
            body = generate_latest()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/slack/events" and slack is not None:
            return slack(environ, start_response)
        body = b"not found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve_http(wsgi_app, port: int, threads: int = 8):
    """waitress: a production WSGI server with a thread pool."""
    from waitress import serve

    serve(wsgi_app, host="0.0.0.0", port=port, threads=threads, ident="launchgate")
