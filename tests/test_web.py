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
    status, body = call(app, "/metrics")
    assert status.startswith("200") and b"launchgate_outbox_pending 0.0" in body


def test_metrics_count_what_waits_in_the_outbox(engine):
    from bot.db import unit_of_work
    from bot.services.outbox import Kind, enqueue

    with unit_of_work(engine) as session:
        for n in range(3):
            enqueue(session, Kind.TEXT, "C0TEAM", {"text": f"hello {n}"})
    assert b"launchgate_outbox_pending 3.0" in call(make_wsgi_app(None, engine), "/metrics")[1]
