"""Run the README's "try it" command as written: the sandbox comes up with no Slack account
and no credentials, its page answers, and `/launch new` typed there opens the New launch
modal within a minute.

Used by .ci/run (not collected by pytest).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)[0].strip()


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as resp:
        return json.loads(resp.read())


def opens_a_launch_modal(base: str) -> bool:
    state = json.loads(_get(f"{base}/ui/state?user=&conv=")[1])
    _post(f"{base}/ui/command", {"user": state["me"], "channel": state["conv"], "text": "/launch new"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = json.loads(_get(f"{base}/ui/state?user={state['me']}&conv=")[1])
        if any(m.get("title", {}).get("text") == "New launch" for m in state["modals"]):
            return True
        time.sleep(0.5)
    return False


def main() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PORT"] = str(port)
    proc = subprocess.Popen(["bash", "-c", run_command()], cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                print(f"the run command exited with {proc.returncode} before serving", file=sys.stderr)
                return 1
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            print("the sandbox never answered /healthz", file=sys.stderr)
            return 1
        status, page = _get(f"{base}/")
        if status != 200 or b"You are:" not in page:
            print("the sandbox page did not load", file=sys.stderr)
            return 1
        if not opens_a_launch_modal(base):
            print("/launch new typed on the page never opened the New launch modal", file=sys.stderr)
            return 1
        print(f"newcomer path ok: the sandbox page on port {port} opened the New launch modal")
        return 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
