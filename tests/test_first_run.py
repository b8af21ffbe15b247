"""README's "Create the Slack app" as a newcomer follows it: `.env` from .env.example with the
values the steps name filled in, then `launchgate migrate && launchgate serve` from the project
directory. The first run must start (no step the README leaves out)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import BOT_TOKEN, ROOT, SIGNING_SECRET
from tests.test_serve import _free_port, stop_serve


def _project_copy(tmp_path, values: dict[str, str]):
    """What the newcomer's checkout holds after steps 2–4: templates, stakeholders.yaml, and .env."""
    shutil.copytree(ROOT / "checklists", tmp_path / "checklists")
    shutil.copy(ROOT / "stakeholders.example.yaml", tmp_path / "stakeholders.yaml")
    env = (ROOT / ".env.example").read_text()
    for name, value in values.items():
        env, n = re.subn(rf"^{name}=.*$", f"{name}={value}", env, flags=re.M)
        assert n == 1, f".env.example has no {name}= line for the README's step to fill in"
    (tmp_path / ".env").write_text(env)


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_the_readme_steps_give_a_bot_that_starts(mode, standin, tmp_path):
    values = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}  # step 2
    if mode == "socket":
        values["SLACK_APP_TOKEN"] = standin.app_token                                 # step 3
    port = _free_port()
    values["PORT"] = str(port)
    _project_copy(tmp_path, values)
    # Only what the stand-in needs comes from outside the .env: where "Slack" is.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "LOG_", "PORT",
                                                                     "CHECKLISTS_DIR", "STAKEHOLDERS_FILE"))}
    env["SLACK_API_URL"] = standin.api_url
    migrate = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"serve never became healthy:\n{log.read_text()}")
        expected = "Socket Mode (SLACK_APP_TOKEN is set)" if mode == "socket" else "HTTP mode (SLACK_APP_TOKEN is empty)"
        assert expected in log.read_text()
    finally:
        stop_serve(proc)
