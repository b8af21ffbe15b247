"""The HTTP surface besides Slack: health and metrics."""
from __future__ import annotations

from wsgiref.util import setup_testing_defaults

from bot.db import make_engine
from bot.web import make_wsgi_app


def call(app, path, method="GET"):
    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": method}
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    status, body = call(make_wsgi_app(None, engine), "/healthz")
    assert status.startswith("503") and b"database unavailable" in body


def test_healthz_ok_and_unknown_paths_404(engine):
    app = make_wsgi_app(None, engine)
    assert call(app, "/healthz")[0].startswith("200")
    assert call(app, "/slack/events", "POST")[0].startswith("404")  # Socket Mode: no HTTP Slack endpoint
    assert call(app, "/metrics")[0].startswith("200")
