"""`launchgate serve` as a newcomer runs it: a real process, HTTP mode, signed requests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import BOT_TOKEN, ROOT, SIGNING_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(db_url, standin, stakeholders_file, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": standin.api_url, "DATABASE_URL": db_url, "PORT": str(port),
        "CHECKLISTS_DIR": str(ROOT / "checklists"), "STAKEHOLDERS_FILE": str(stakeholders_file),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early:\n{proc.stdout.read()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("serve never became healthy")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_serve_answers_signed_commands_and_refuses_forged_ones(served, standin):
    resp = standin.send_slash_command(served, text="help", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and "/launch status" in resp.text
    forged = standin.signed_post(served, "command=%2Flaunch&text=help", "application/x-www-form-urlencoded",
                                 secret="wrong")
    assert forged.status_code == 401
    assert httpx.get(f"{served}/healthz").json() == {"status": "ok"}


def test_serve_opens_the_modal_within_three_seconds(served, standin):
    started = time.monotonic()
    resp = standin.send_slash_command(served, text="new", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200 and time.monotonic() - started < 3
    deadline = time.monotonic() + 5
    while not standin.ok_calls("views.open") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.ok_calls("views.open")
