"""`launchgate serve` as a newcomer runs it: a real process, HTTP mode, signed requests."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import BOT_TOKEN, ROOT, SIGNING_SECRET
from tests.flows import launch_form
from tests.slack_standin import SOCKET_MODE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(db_url, standin, stakeholders_file, cwd, **env_overrides):
    """`python -m bot serve` as a real process; returns (process, base URL) once /healthz answers."""
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": standin.api_url, "DATABASE_URL": db_url, "PORT": str(port),
        "CHECKLISTS_DIR": str(ROOT / "checklists"), "STAKEHOLDERS_FILE": str(stakeholders_file),
        "LOG_LEVEL": "WARNING", **env_overrides,
    }
    log = Path(cwd) / "serve.log"  # a file, not a pipe nobody reads: a full pipe would freeze the bot
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=cwd, env=env,
                                stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("serve never became healthy")


def stop_serve(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def served(db_url, standin, stakeholders_file, tmp_path):
    proc, url = start_serve(db_url, standin, stakeholders_file, tmp_path)
    yield url
    stop_serve(proc)


@pytest.fixture
def socket_served(db_url, standin, stakeholders_file, tmp_path):
    """Socket Mode as the shipped manifest sets it up: an app token, no signing secret needed."""
    proc, url = start_serve(db_url, standin, stakeholders_file, tmp_path,
                            SLACK_APP_TOKEN=standin.app_token, SLACK_SIGNING_SECRET="")
    if not standin.socket.wait_connected():
        stop_serve(proc)
        pytest.fail(f"serve never connected over Socket Mode: {standin.socket.refused}")
    yield url
    stop_serve(proc)


def test_serve_answers_signed_commands_and_refuses_forged_ones(served, standin):
    resp = standin.send_slash_command(served, text="help", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and "/launch status" in resp.text
    forged = standin.signed_post(served, "command=%2Flaunch&text=help", "application/x-www-form-urlencoded",
                                 secret="wrong")
    assert forged.status_code == 401
    assert httpx.get(f"{served}/healthz").json()["status"] == "ok"


def test_serve_opens_the_modal_within_three_seconds(served, standin):
    started = time.monotonic()
    resp = standin.send_slash_command(served, text="new", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and time.monotonic() - started < 3
    deadline = time.monotonic() + 5
    while not standin.ok_calls("views.open") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.ok_calls("views.open")


def test_socket_mode_connects_with_the_app_token_and_answers_over_the_websocket(socket_served, standin):
    (opened,) = standin.ok_calls("apps.connections.open")  # asked with the xapp- token, not the bot token
    assert opened.response["url"].startswith("ws://")
    resp = standin.send_slash_command(SOCKET_MODE, text="help", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and "/launch status" in resp.text
    (shown,) = standin.ephemerals(user="UPM")  # the ack's payload is shown to the person, as over HTTP
    assert "/launch status" in json.dumps(shown)
    health = httpx.get(f"{socket_served}/healthz").json()
    assert health["status"] == "ok" and health["socket_mode"] == "connected"
    assert httpx.post(f"{socket_served}/slack/events", content=b"{}").status_code == 404  # no HTTP endpoint


def test_healthz_reports_a_lost_socket_until_it_reconnects(socket_served, standin):
    standin.fail_with("internal_error", n=1000, method="apps.connections.open")  # Slack cannot hand out a new URL
    standin.socket.drop_connections()
    down = standin.wait_for(lambda: (r := httpx.get(f"{socket_served}/healthz")).status_code == 503 and r, timeout=15)
    assert down.json()["socket_mode"] == "disconnected" and "Socket Mode connection" in down.json()["status"]
    standin.recover()  # slack_sdk reconnects by itself (it checks every 10 s)
    up = standin.wait_for(lambda: (r := httpx.get(f"{socket_served}/healthz")).status_code == 200 and r, timeout=30,
                          interval=0.2)
    assert up.json()["socket_mode"] == "connected"


def test_socket_mode_runs_a_launch_from_the_modal_to_the_channel(socket_served, standin):
    started = time.monotonic()
    resp = standin.send_slash_command(SOCKET_MODE, text="new", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and time.monotonic() - started < 3
    view = standin.wait_for(lambda: next(iter(standin.views("UPM")), None), timeout=5)
    standin.send_view_submission(SOCKET_MODE, "UPM", view["callback_id"], launch_form(), view_id=view["id"])
    card = standin.wait_for(lambda: [c for c in standin.ok_calls("chat.postMessage") if "LR-1" in json.dumps(
        c.params) and str(c.params.get("channel", "")).startswith("C")], timeout=15)
    assert card and standin.ok_calls("conversations.create")
    standin.open_app_home(SOCKET_MODE, "UPM")
    home = standin.wait_for(lambda: standin.home_view("UPM"), timeout=5)
    assert "LR-1" in json.dumps(home)
    assert standin.bot_response_errors == []


def test_socket_mode_reconnects_when_slack_asks_for_a_refresh(socket_served, standin):
    standin.socket.request_refresh()
    standin.wait_for(lambda: len(standin.ok_calls("apps.connections.open")) == 2 and standin.socket.connections == 1,
                     timeout=15)  # a new connection first, then the old one is closed
    resp = standin.send_slash_command(SOCKET_MODE, text="help", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and "/launch status" in resp.text


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_sigterm_stops_the_bot_cleanly(db_url, standin, stakeholders_file, tmp_path, socket_mode):
    """`docker stop` sends SIGTERM: the scheduler and the delivery worker wind down, exit 0."""
    extra = {"SLACK_APP_TOKEN": standin.app_token} if socket_mode else {}
    proc, url = start_serve(db_url, standin, stakeholders_file, tmp_path, LOG_LEVEL="INFO", **extra)
    if socket_mode:
        assert standin.socket.wait_connected()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)  # Docker's default grace period
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("serve did not stop within 10 s of SIGTERM")
    log = (tmp_path / "serve.log").read_text()
    assert code == 0 and "launchgate stopped" in log and "Traceback" not in log


def test_the_stand_in_refuses_a_bot_token_for_sockets_and_an_app_token_for_messages(standin):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    for token, call in ((BOT_TOKEN, lambda c: c.apps_connections_open(app_token=BOT_TOKEN)),
                        (standin.app_token, lambda c: c.chat_postMessage(channel="C1", text="hi"))):
        with pytest.raises(SlackApiError) as err:
            call(WebClient(token=token, base_url=standin.api_url))
        assert err.value.response["error"] == "not_allowed_token_type"
