"""Slack credentials fail loudly: refused at start with one line, and a token Slack stops
accepting later pauses delivery (rows stay queued) instead of dead-lettering every message."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services.outbox import Kind, enqueue
from models import OutboxMessage, OutboxStatus
from tests.cli_process import one_line_error, run_cli
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.test_serve import start_serve, stop_serve
from tests.test_web import call


def _queue(engine, channel: str, text: str = "hello") -> str:
    with unit_of_work(engine) as session:
        enqueue(session, Kind.TEXT, channel, {"text": text}, dedupe_key=f"test:{text}")
    return f"test:{text}"


def _row(engine, key: str) -> OutboxMessage:
    with unit_of_work(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


@pytest.mark.parametrize("command", [["serve"], ["tick"]])
def test_a_token_slack_refuses_stops_serve_and_tick_with_one_line(command, db_url, standin, tmp_path):
    proc = run_cli(*command, cwd=tmp_path, DATABASE_URL=db_url, SLACK_API_URL=standin.api_url,
                   SLACK_BOT_TOKEN="xoxb-not-the-right-one", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    line = one_line_error(proc)
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in line
    assert [c.method for c in standin.calls] == ["auth.test"]  # nothing else was tried


def test_tick_without_a_token_refuses_instead_of_dead_lettering_every_nudge(db_url, engine, standin, tmp_path):
    row = _queue(engine, standin.add_channel(name="team"))
    line = one_line_error(run_cli("tick", cwd=tmp_path, DATABASE_URL=db_url, SLACK_API_URL=standin.api_url))
    assert "SLACK_BOT_TOKEN not set" in line and "tick --dry-run" in line
    assert _row(engine, row).status == OutboxStatus.PENDING and not standin.calls
    dry = run_cli("tick", "--dry-run", cwd=tmp_path, DATABASE_URL=db_url)  # sends nothing: needs no token
    assert dry.returncode == 0 and "nothing was changed" in dry.stdout


def test_serve_without_credentials_names_both_modes_and_the_app_token(tmp_path):
    line = one_line_error(run_cli("serve", cwd=tmp_path))
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET not set" in line
    assert "SLACK_APP_TOKEN (Socket Mode, as slack-manifest.yml sets up)" in line
    assert "launchgate sandbox" in line


def test_an_app_token_slack_refuses_stops_socket_mode_with_one_line(db_url, standin, tmp_path):
    proc = run_cli("serve", cwd=tmp_path, DATABASE_URL=db_url, SLACK_API_URL=standin.api_url,
                   SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN="xapp-1-revoked")
    line = one_line_error(proc)
    assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in line
    assert "starting in Socket Mode (SLACK_APP_TOKEN is set)" in proc.stderr  # says which mode, and why


def test_serve_says_it_starts_http_mode_because_the_app_token_is_empty(db_url, standin, stakeholders_file, tmp_path):
    proc, url = start_serve(db_url, standin, stakeholders_file, tmp_path, LOG_LEVEL="INFO")
    stop_serve(proc)
    log = (tmp_path / "serve.log").read_text()
    assert "starting in HTTP mode (SLACK_APP_TOKEN is empty)" in log
    assert "Slack accepts SLACK_BOT_TOKEN" in log


def test_a_token_revoked_while_running_pauses_delivery_and_resumes_when_slack_accepts_it(rt, standin, clock):
    channel = standin.add_channel(name="team")
    first, second = _queue(rt.ctx.engine, channel, "one"), _queue(rt.ctx.engine, channel, "two")
    standin.fail_with("token_revoked", n=100)
    report = rt.worker.drain()
    assert report.dead == 0 and report.sent == 0
    for row_id in (first, second):
        row = _row(rt.ctx.engine, row_id)
        assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert [c.method for c in standin.calls] == ["chat.postMessage"]  # the batch stopped at the first refusal
    status, body = call(_health_app(rt), "/healthz")
    assert status.startswith("503") and json.loads(body)["slack_delivery"] == "paused"
    assert "token_revoked" in json.loads(body)["status"]

    rt.worker.drain()  # still paused: no request until the next check
    assert len(standin.calls) == 1
    clock.advance(seconds=61)
    rt.worker.drain()  # auth.test still refused
    assert [c.method for c in standin.calls] == ["chat.postMessage", "auth.test"]

    standin.recover()  # the operator fixed the token
    clock.advance(seconds=61)
    assert rt.worker.drain().sent == 2
    assert [m["text"] for m in standin.messages(channel)] == ["one", "two"]
    status, body = call(_health_app(rt), "/healthz")
    assert status.startswith("200") and json.loads(body)["slack_delivery"] == "ok"


def _health_app(rt):
    from bot.web import make_wsgi_app

    return make_wsgi_app(None, rt.ctx.engine, clock=rt.ctx.clock, probes=(rt.worker.auth.probe,))


def test_serve_reports_a_paused_delivery_on_healthz(db_url, engine, standin, stakeholders_file, tmp_path):
    proc, url = start_serve(db_url, standin, stakeholders_file, tmp_path)
    try:
        standin.fail_with("account_inactive", n=1000, method="chat.postMessage")
        row = _queue(engine, standin.add_channel(name="team"))
        deadline = time.monotonic() + 30
        while (resp := httpx.get(f"{url}/healthz")).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert resp.status_code == 503 and resp.json()["slack_delivery"] == "paused"
        assert "account_inactive" in resp.json()["status"]
        assert _row(engine, row).status == OutboxStatus.PENDING
    finally:
        stop_serve(proc)


def test_tick_with_a_token_revoked_mid_run_keeps_the_rows_and_says_so(db_url, engine, standin, tmp_path):
    row = _queue(engine, standin.add_channel(name="team"))
    standin.fail_with("token_revoked", n=100, method="chat.postMessage")
    proc = run_cli("tick", cwd=tmp_path, DATABASE_URL=db_url, SLACK_API_URL=standin.api_url,
                   SLACK_BOT_TOKEN=BOT_TOKEN)
    assert "delivery paused: Slack refused SLACK_BOT_TOKEN (token_revoked)" in one_line_error(proc)
    assert _row(engine, row).status == OutboxStatus.PENDING
