"""`launchgate sandbox` as a newcomer runs it: a real process, the real bot, the local workspace.

The page itself is driven in a browser by test_sandbox_browser.py; these tests use the page's
own JSON calls, the same ones its buttons make.
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
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

PM, LEAD = "U0PRIYA01", "U0TOMAS01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    return {**env, "CHECKLISTS_DIR": str(ROOT / "checklists"), "LOG_LEVEL": "WARNING", **extra}


class Sandbox:
    def __init__(self, cwd: Path, *args: str, **env):
        self.cwd, self.port = cwd, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"sandbox-{self.port}.log"
        with self.log.open("w") as out:  # a file, not a pipe nobody reads
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "sandbox", "--port", str(self.port),
                                          "--db", str(cwd / "sandbox.db"), *args],
                                         cwd=cwd, env=sandbox_env(**env), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"sandbox exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("the sandbox never became healthy")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def state(self, user: str = PM, conv: str = "") -> dict:
        return httpx.get(f"{self.url}/ui/state", params={"user": user, "conv": conv}, timeout=10).json()

    def do(self, what: str, **body) -> dict:
        answer = httpx.post(f"{self.url}/ui/{what}", json=body, timeout=30).json()
        assert answer["ok"], answer
        return answer

    def wait(self, condition, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        pytest.fail(f"condition not met within {timeout}s; log:\n{self.log.read_text()[-3000:]}")


@pytest.fixture
def sandbox(tmp_path):
    sb = Sandbox(tmp_path)
    yield sb
    sb.stop()


def launch_values(modal: dict, name: str = "Instant payouts", day: str = "2027-03-15") -> dict:
    """The New launch modal filled in, read from the modal the bot really opened."""
    entries = {"name": {"value": name}, "kind": {"selected_option": {"value": "product"}},
               "markets": {"selected_options": [{"value": "FR"}]}, "launch_date": {"selected_date": day},
               "readiness_lead": {"selected_user": LEAD}}
    values = {}
    for block in modal["blocks"]:
        if block["type"] == "input" and block["block_id"] in entries:
            element = block["element"]
            values[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                                 **entries[block["block_id"]]}}
    return values


def open_launch(sb: Sandbox) -> dict:
    dm = sb.state()["dm"]["id"]
    sb.do("command", user=PM, channel=dm, text="/launch new")
    modal = sb.wait(lambda: next(iter(sb.state()["modals"]), None))
    assert modal["title"]["text"] == "New launch"
    assert sb.do("submit", user=PM, view_id=modal["id"], values=launch_values(modal)) == {"ok": True}
    return sb.wait(lambda: next((c for c in sb.state()["channels"] if c["name"].startswith("lr-1-") and c["count"]),
                                None), timeout=30)


def test_serve_never_loads_sandbox_code():
    code = ("import sys, bot.cli, bot.web, bot.slack_app, bot.runtime, bot.scheduler, bot.ticks;"
            "bot.cli.build_parser().parse_args(['serve']);"
            "print([m for m in sys.modules if m.startswith('bot.sandbox')])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" in path.relative_to(ROOT / "bot").parts:
            continue
        uses = re.findall(r"^\s*(?:from|import) bot\.sandbox\S*", path.read_text(), re.M)
        assert path.name == "cli.py" and len(uses) == 1 or not uses, f"{path} imports sandbox code"


def test_serve_has_no_sandbox_page(engine):
    from bot.web import make_wsgi_app

    app = make_wsgi_app(None, engine)
    for path in ("/", "/static/app.js", "/ui/state", "/api/chat.postMessage"):
        status = []
        app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, lambda s, h: status.append(s))
        assert status == ["404 Not Found"], path


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_the_sandbox_refuses_real_slack_credentials(tmp_path, where):
    extra = {}
    if where == "environment":
        extra = {"SLACK_BOT_TOKEN": "xoxb-real-workspace"}
    else:
        (tmp_path / ".env").write_text("SLACK_SIGNING_SECRET=real-secret\n")
    result = subprocess.run([sys.executable, "-m", "bot", "sandbox", "--port", str(free_port()), "--db", "sb.db"],
                            cwd=tmp_path, env=sandbox_env(**extra), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "sandbox refused" in line and ("SLACK_BOT_TOKEN" in line or "SLACK_SIGNING_SECRET" in line)
    assert not (tmp_path / "sb.db").exists()


def test_the_page_is_served_locally_with_nothing_fetched_from_elsewhere(sandbox):
    page = httpx.get(sandbox.url + "/")
    assert page.status_code == 200 and "You are:" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("index.html", "app.js", "blockkit.js", "mrkdwn.js", "app.css"):
        text = (ROOT / "bot" / "sandbox" / "static" / name).read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), name
        assert not re.search(r"""(fetch|import)\(\s*["'](https?:)?//""", text), name
        assert httpx.get(f"{sandbox.url}/static/{name}").status_code == 200
    state = sandbox.state()
    titles = {p["id"]: p["title"] for p in state["people"]}
    assert {"product manager", "readiness lead", "workforce management (WFM)", "marketing", "content",
            "knowledge base", "training", "vendor management", "no launch role"} <= set(titles.values())
    assert len({p["tz"] for p in state["people"]}) >= 8
    assert {c["name"] for c in state["channels"]} >= {"general", "launches"}


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on, read from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # /proc prints host order
                found.append((socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words),
                              int(port, 16)))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from Linux's /proc")
def test_the_sandbox_listens_on_the_loopback_interface_only(sandbox):
    sandbox.wait(lambda: f"launchgate sandbox: open http://127.0.0.1:{sandbox.port}/" in sandbox.log.read_text())
    listening = listening_sockets(sandbox.proc.pid)
    assert (("127.0.0.1", sandbox.port)) in listening
    assert len(listening) >= 2  # the page and Slack's side, and the bot's own /slack/events
    assert {address for address, _ in listening} == {"127.0.0.1"}, listening


def test_a_launch_opened_on_the_page_runs_through_the_real_bot_and_survives_a_restart(tmp_path):
    sb = Sandbox(tmp_path)
    try:
        channel = open_launch(sb)
        card = sb.state(conv=channel["id"])["conversation"]["messages"][0]
        assert "LR-1" in json.dumps(card["blocks"]) and card["user"] == sb.state()["bot"]["id"]
        announcements = next(c for c in sb.state()["channels"] if c["name"] == "launches")
        sb.wait(lambda: sb.state(conv=announcements["id"])["conversation"]["messages"])
        prompt = sb.wait(lambda: sb.state(user=LEAD)["conversation"]["messages"])[0]  # the lead's DM
        assert "LR-1" in prompt["text"]
    finally:
        assert sb.stop() == 0
    again = Sandbox(tmp_path)
    try:
        state = again.state(user=LEAD)
        assert any(c["name"] == channel["name"] for c in state["channels"])
        (prompt,) = state["conversation"]["messages"]
        block, element, option = next((b, e, o) for b in prompt["blocks"] for e in b.get("elements", [])
                                      if e.get("type") == "overflow" for o in e["options"]
                                      if json.loads(o["value"]).get("op") == "na")
        again.do("action", user=LEAD, where={"kind": "message", "channel": state["dm"]["id"], "ts": prompt["ts"]},
                 block_id=block["block_id"], action_id=element["action_id"], value=option["value"])
        modal = again.wait(lambda: next(iter(again.state(user=LEAD)["modals"]), None))  # asks why
        reason = {b["block_id"]: {b["element"]["action_id"]: {"type": b["element"]["type"],
                                                                "value": "Run by the partner team"}}
                  for b in modal["blocks"] if b["type"] == "input" and b["element"]["type"] == "plain_text_input"}
        assert again.do("submit", user=LEAD, view_id=modal["id"], values=reason) == {"ok": True}
        updated = again.wait(lambda: next((m for m in again.state(user=LEAD)["conversation"]["messages"]
                                           if m["ts"] == prompt["ts"] and m.get("edited")), None))
        assert updated["blocks"] != prompt["blocks"]  # the same message, updated in place after the restart
    finally:
        assert again.stop() == 0


def test_a_template_change_is_tried_in_the_sandbox_before_rolling_it_out(tmp_path):
    """docs/sandbox.md: point CHECKLISTS_DIR at the edited templates; a broken edit is refused with its faults."""
    import shutil

    edited = tmp_path / "templates"
    shutil.copytree(ROOT / "checklists", edited)
    product = edited / "product.yaml"
    original = product.read_text()
    question = "Is this launch's stakeholder list right — does every role have the right person for these markets?"
    assert question in original
    product.write_text(original.replace(question, "Has legal signed off the stakeholder list for these markets?", 1))
    sb = Sandbox(tmp_path, CHECKLISTS_DIR=str(edited))
    try:
        open_launch(sb)
        dm = sb.wait(lambda: sb.state()["conversation"]["messages"])
        shown = json.dumps([m["blocks"] for m in dm], ensure_ascii=False)
        assert "Has legal signed off the stakeholder list" in shown and question not in shown
    finally:
        sb.stop()
    product.write_text(original.replace("    items:", "    itemz:", 1))
    result = subprocess.run([sys.executable, "-m", "bot", "sandbox", "--port", str(free_port()), "--db", "sb2.db"],
                            cwd=tmp_path, env=sandbox_env(CHECKLISTS_DIR=str(edited)), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "checklist templates are invalid" in result.stderr
    assert "product.yaml" in result.stderr and "Traceback" not in result.stderr


def test_clock_steps_move_the_sandbox_time_and_run_a_scheduler_pass(sandbox):
    before = sandbox.state()["now"]
    answer = sandbox.do("clock", user=PM, step="week")
    assert answer["lines"][0].startswith("+1 week") and "scheduler pass" in answer["lines"][0]
    after = sandbox.state()["now"]
    assert 7 * 86400_000 <= after - before < 7 * 86400_000 + 60_000
    morning = sandbox.do("clock", user=PM, step="morning")["lines"][0]
    assert re.search(r"T0?9:30|T08:30|T(\d\d):30", morning)
    with pytest.raises(AssertionError, match="no open launch"):
        sandbox.do("clock", user=PM, step="launch")


def test_reset_starts_over(tmp_path):
    sb = Sandbox(tmp_path)
    try:
        open_launch(sb)
    finally:
        sb.stop()
    fresh = Sandbox(tmp_path, "--reset")
    try:
        assert not any(c["name"].startswith("lr-") for c in fresh.state()["channels"])
    finally:
        fresh.stop()


def test_the_demo_scenario_leaves_the_first_gate_waiting_for_the_lead(tmp_path):
    sb = Sandbox(tmp_path, "--scenario", "demo")
    try:
        sb.wait(lambda: "demo scenario:" in sb.log.read_text(), timeout=120)
        assert "answered" in sb.log.read_text()
        review = sb.wait(lambda: next((m for m in sb.state(user=LEAD)["conversation"]["messages"]
                                       if "required items answered or waived" in json.dumps(m["blocks"])), None))
        assert "Discovery" in json.dumps(review["blocks"])
        buttons = [e for b in review["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert "Go" in [e["text"]["text"] for e in buttons if e["type"] == "button"]
    finally:
        sb.stop()
    again = Sandbox(tmp_path, "--scenario", "demo")  # a second run adds nothing
    try:
        again.wait(lambda: "demo scenario skipped" in again.log.read_text(), timeout=60)
        assert [c["name"] for c in again.state()["channels"] if c["name"].startswith("lr-")] == ["lr-1-instant-payouts"]
    finally:
        again.stop()
