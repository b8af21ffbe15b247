"""Run the README's "run the bot" command as written and wait for /healthz.

Used by .ci/run (not collected by pytest): Slack credentials are fake and
SLACK_API_URL points nowhere, so this proves the newcomer path up to a serving
bot, including migrations and a stakeholder sync that cannot reach Slack.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)[0].strip()


def main() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tempfile.mkdtemp()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-ci", "SLACK_SIGNING_SECRET": "ci-secret", "SLACK_APP_TOKEN": "",
           "SLACK_API_URL": "http://127.0.0.1:9/api/", "PORT": str(port),
           "DATABASE_URL": f"sqlite:///{data}/newcomer.db"}
    proc = subprocess.Popen(["bash", "-c", run_command()], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                print(f"the run command exited with {proc.returncode} before serving", file=sys.stderr)
                return 1
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        print(f"newcomer path ok: /healthz answered 200 on port {port}")
                        return 0
            except OSError:
                time.sleep(0.5)
        print("the bot never answered /healthz", file=sys.stderr)
        return 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
