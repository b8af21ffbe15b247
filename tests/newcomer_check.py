"""Run the README's "try it" command as written: the sandbox comes up with no Slack account
and no credentials, its page answers, and a launch is opened through the page's own calls
(`/launch new`, the New launch modal filled in and submitted, the launch channel with its
status card) within a minute of the page answering.

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
from datetime import date, timedelta
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


def _state(base: str, user: str = "") -> dict:
    return json.loads(_get(f"{base}/ui/state?user={user}&conv=")[1])


def _until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    return None


def filled_in(modal: dict, people: list[dict]) -> dict:
    """What a newcomer types into the New launch modal: a name, the first kind and market, a date
    twelve weeks out, the first readiness lead; optional fields left empty."""
    lead = next(p["id"] for p in people if p["title"] == "readiness lead")
    values = {}
    for block in modal["blocks"]:
        if block["type"] != "input" or block.get("optional"):
            continue
        element = block["element"]
        options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        entry = {"plain_text_input": {"value": "Instant payouts"},
                 "static_select": {"selected_option": options[0] if options else None},
                 "multi_static_select": {"selected_options": options[:1]},
                 "datepicker": {"selected_date": (date.today() + timedelta(days=84)).isoformat()},
                 "users_select": {"selected_user": lead}}[element["type"]]
        values[block["block_id"]] = {element["action_id"]: {"type": element["type"], **entry}}
    return values


def opens_a_launch(base: str) -> bool:
    state = _state(base)
    me = state["me"]
    _post(f"{base}/ui/command", {"user": me, "channel": state["conv"], "text": "/launch new"})
    modal = _until(lambda: next((m for m in _state(base, me)["modals"]
                                 if m.get("title", {}).get("text") == "New launch"), None), 60)
    if modal is None:
        print("/launch new typed on the page never opened the New launch modal", file=sys.stderr)
        return False
    before = {c["id"] for c in state["channels"]}  # a re-run on the same checkout keeps earlier launches
    answer = _post(f"{base}/ui/submit", {"user": me, "view_id": modal["id"], "values": filled_in(modal, state["people"])})
    if not answer.get("ok") or answer.get("errors") or answer.get("problem"):
        print(f"the New launch modal was refused: {answer}", file=sys.stderr)
        return False
    if not _until(lambda: [c for c in _state(base, me)["channels"]
                           if c["id"] not in before and c["name"].startswith("lr-") and c["count"]], 60):
        print("no launch channel with a status card after submitting the New launch modal", file=sys.stderr)
        return False
    return True


def main() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PORT"] = str(port)
    proc = subprocess.Popen(["bash", "-c", run_command()], cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
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
        up = time.monotonic()
        status, page = _get(f"{base}/")
        if status != 200 or b"You are:" not in page:
            print("the sandbox page did not load", file=sys.stderr)
            return 1
        if not opens_a_launch(base):
            return 1
        opened = time.monotonic() - up
        if opened > 60:
            print(f"opening a launch took {opened:.0f} s after the page answered (more than a minute)", file=sys.stderr)
            return 1
        print(f"newcomer path ok: the run command served the page after {up - started:.0f} s (install included); "
              f"a launch was open {opened:.0f} s later")
        return 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
