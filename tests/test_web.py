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


def _refusing_writes(db_url):
    """An engine on the same database whose sessions cannot write (a read-only file or
    replica, a full disk): SQLite's query_only, PostgreSQL's read-only transactions."""
    from sqlalchemy import event

    engine = make_engine(db_url)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA query_only = ON")
        else:
            cur.execute("SET default_transaction_read_only = on")
            dbapi_conn.commit()
        cur.close()

    return engine


def test_healthz_is_503_with_the_reason_when_the_database_refuses_writes(db_url):
    import json

    engine = _refusing_writes(db_url)
    status, body = call(make_wsgi_app(None, engine), "/healthz")
    engine.dispose()
    assert status.startswith("503")
    assert json.loads(body)["status"].startswith("database refuses writes: ")
    assert b"readonly" in body or b"read-only" in body


def test_healthz_and_metrics_show_the_oldest_undelivered_row(engine):
    import json
    from datetime import datetime, timedelta, timezone

    from bot.db import unit_of_work
    from bot.services.outbox import Kind, enqueue

    queued = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)
    with unit_of_work(engine) as session:
        enqueue(session, Kind.TEXT, "C0TEAM", {"text": "stuck"}, now=queued)
        enqueue(session, Kind.TEXT, "C0TEAM", {"text": "later"}, now=queued,
                not_before=queued + timedelta(days=1))  # scheduled, not late
    app = make_wsgi_app(None, engine, clock=lambda: queued + timedelta(minutes=7))
    status, body = call(app, "/healthz")
    assert status.startswith("200") and json.loads(body)["oldest_undelivered_seconds"] == 420
    assert b"launchgate_outbox_oldest_undelivered_seconds 420.0" in call(app, "/metrics")[1]


def test_serve_on_a_database_refusing_writes_exits_with_one_line(db_url, stakeholders_file, monkeypatch, capsys):
    """Start-up writes (the directory sync) on a database refusing writes: one line, no traceback."""
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("STAKEHOLDERS_FILE", str(stakeholders_file))
    monkeypatch.setattr("bot.db.make_engine", lambda url: _refusing_writes(url))
    monkeypatch.setattr("bot.db.migrate", lambda url, revision="head": None)
    code = cli.main(["stakeholders", "sync"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("launchgate: ") and len(err.strip().splitlines()) == 1
    assert "DATABASE_URL" in err
    assert "Traceback" not in err
def test_malformed_signature_headers_and_bodies_are_refused_without_a_traceback(bot, standin, caplog):
    """A non-numeric timestamp used to crash the signature check (500 and an ERROR traceback)."""
    import httpx

    from tests.slack_standin.signing import signed_headers

    url = f"{bot.url}/slack/events"
    body = "payload=%7B%7D"
    cases = []
    for stamp in ("abc", "", "12.5", "1e9", "-1", "9" * 40):
        headers = signed_headers(standin.signing_secret, body, "application/x-www-form-urlencoded")
        headers = {k: v for k, v in headers.items() if k.lower() != "x-slack-request-timestamp"}
        headers["X-Slack-Request-Timestamp"] = stamp
        cases.append((headers, body.encode()))
    good = signed_headers(standin.signing_secret, body, "application/x-www-form-urlencoded")
    cases.append((good, b"payload=\xff\xfe"))  # not UTF-8
    cases.append(({k: v for k, v in good.items() if k.lower() != "x-slack-signature"}, body.encode()))
    with caplog.at_level("ERROR"):
        for headers, content in cases:
            resp = httpx.post(url, content=content, headers=headers)
            assert resp.status_code in (400, 401), (headers, resp.status_code)
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
    assert call(make_wsgi_app(None, bot.rt.ctx.engine), "/healthz")[0].startswith("200")
