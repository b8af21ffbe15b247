"""The optional reporting pull: auth header sent, failures logged and retried next pass, never a crashed tick."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services.context import TickReport
from bot.services import actuals_pull
from models import AuditEvent, ForecastActual
from tests.gate_support import open_launch
from tests.test_capacity_gate import FORECAST, _answer, _item


@pytest.fixture
def reporting():
    state = {"status": 500, "body": b"", "seen": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["seen"].append(self.headers.get("Authorization"))
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state["body"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/actuals"
    yield state
    server.shutdown()
    server.server_close()


def _pass(rt, now):
    with unit_of_work(rt.ctx.engine) as session:
        actuals_pull.pull_actuals(session, rt.ctx, now, TickReport())


def test_pull_retries_then_saves_all_rows_once_a_day(rt, clock, reporting, caplog):
    launch_id = open_launch(rt, clock, markets=("FR",))
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    rt.ctx.settings = rt.ctx.settings.model_copy(update={
        "actuals_url": reporting["url"], "actuals_auth_header": "Authorization: Bearer s3cret",
        "actuals_retries": 2, "actuals_timeout_seconds": 5})
    monday = datetime(2027, 11, 29, 9, 0, tzinfo=timezone.utc)
    _pass(rt, monday)                                              # 500 twice: logged, audited, nothing saved
    assert reporting["seen"] == ["Bearer s3cret"] * 2 and "failed (will retry next pass)" in caplog.text
    reporting["status"], reporting["body"] = 200, json.dumps({"rows": [
        {"launch": f"LR-{launch_id}", "queue": "fr-default", "week": 1, "contacts": 9000},
        {"launch": f"LR-{launch_id}", "queue": "fr-default", "week": 3, "contacts": 1}]}).encode()
    _pass(rt, monday.replace(hour=10))                             # week 3 has not ended: all refused
    reporting["body"] = json.dumps([{"launch": f"LR-{launch_id}", "queue": "fr-default", "week": 1,
                                     "contacts": 9000}]).encode()
    _pass(rt, monday.replace(hour=11))
    _pass(rt, monday.replace(hour=12))                             # already pulled today: no request
    with unit_of_work(rt.ctx.engine) as session:
        rows = session.exec(select(ForecastActual)).all()
        actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.action.like("actuals.%"))
                                                  .order_by(AuditEvent.id))]
    assert [(r.week, r.contacts, r.source) for r in rows] == [(1, 9000, "pull")]
    assert actions == ["actuals.pull_failed", "actuals.recorded", "actuals.pulled"]
    assert len(reporting["seen"]) == 4
