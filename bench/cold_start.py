"""How long from `launchgate serve` to the first /healthz 200, with many launches stored?

Seeds LAUNCHES open launches like bench/tick.py (skipped with --no-seed: the database is used
as it is), starts the Slack stand-in, then runs `launchgate serve` as a process against it
(HTTP mode, the stakeholder file of the seed, everything else default) and polls /healthz every
20 ms. Prints the seconds to the first 200, when each of serve's log lines appeared, and how
/healthz answers while the first tick (due as soon as the server listens) is running.

Usage: .venv/bin/python bench/cold_start.py [--launches N] [--no-seed] [DATABASE_URL]
       (default 10,000 launches on a fresh SQLite file; a PostgreSQL URL is wiped first)
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402

from tests.slack_standin import SlackStandIn  # noqa: E402

import tick  # noqa: E402  (bench/tick.py: the seed)

TOKEN, SECRET = "xoxb-bench", "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (load-independent, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stakeholders_yaml() -> str:
    """The directory the seed used: one person per role, UADMIN the admin."""
    lines = ["admins: [UADMIN]", "roles:"]
    lines += [f"  {role}: [{tick.person(role, 0)}]" for role in tick.ROLES]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--launches", type=int, default=10_000)
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = args.url or os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    if not args.no_seed:
        started = time.perf_counter()
        tick.fresh_database(url)
        seeder = tick.build_runtime(tick.settings_for(url))
        tick.seed(seeder, args.launches)
        seeder.ctx.engine.dispose()
        print(f"seeded        {args.launches} launches in {time.perf_counter() - started:.0f}s")
    standin = SlackStandIn(token=TOKEN, signing_secret=SECRET, socket_mode=False).start()
    for role in tick.ROLES:
        standin.add_user(tick.person(role, 0))
    standin.add_user("UADMIN")
    (tmp / "stakeholders.yaml").write_text(stakeholders_yaml())
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_APP_TOKEN": "", "SLACK_API_URL": standin.api_url, "PORT": str(port),
           "STAKEHOLDERS_FILE": str(tmp / "stakeholders.yaml"), "CHECKLISTS_DIR": str(BENCH.parent / "checklists"),
           "CAPACITY_FILE": str(tmp / "none.yaml"), "LOG_LEVEL": "INFO"}
    lines: list[tuple[float, str]] = []
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)

    def read_log():
        for line in proc.stdout:
            lines.append((time.perf_counter() - started, line.rstrip()))

    threading.Thread(target=read_log, daemon=True).start()
    healthy, answers = None, []
    try:
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() - started < 600 and proc.poll() is None:
                asked = time.perf_counter()
                try:
                    resp = http.get(f"http://127.0.0.1:{port}/healthz")
                except httpx.TransportError:
                    time.sleep(0.02)
                    continue
                if healthy is None and resp.status_code == 200:
                    healthy, cpu = time.perf_counter() - started, cpu_seconds(proc.pid)
                if healthy is not None:
                    answers.append((resp.status_code, time.perf_counter() - asked))
                    if len(answers) >= 20:
                        break
                    time.sleep(0.25)  # the first tick runs meanwhile
                else:
                    time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        standin.stop()
    print(f"database      {url.split(':')[0].split('+')[0]}; load average {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores)")
    print(f"first 200     {'never' if healthy is None else f'{healthy:.2f}s'} after `launchgate serve` started"
          + ("" if healthy is None else f" ({cpu:.2f}s of CPU: the rest is waiting for a core)"))
    if answers:
        slowest = max(s for _, s in answers)
        print(f"during tick   {len(answers)} /healthz over the next {0.25 * len(answers):.0f}s: "
              f"statuses {sorted({c for c, _ in answers})}, slowest {slowest * 1000:.0f} ms")
    print("serve's log (seconds after start):")
    for at, line in lines[:40]:
        print(f"  {at:6.2f}  {line[:150]}")


if __name__ == "__main__":
    main()
