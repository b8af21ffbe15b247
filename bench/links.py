"""What do evidence-link checks cost with many launches? (issue 15)

Seeds LAUNCHES open launches the way bench/tick.py does (the product template: 10
link items each), answers every link item with a link to a page on a local HTTP
server started here (never the internet), and measures, each in a fresh process:

* **daily re-check** — every link due (as after 24 h): scheduler passes
  (`run_due`, production batch sizes) until nothing is due;
* **reviews open** — the first gate's review opens on every launch (one
  transaction per launch, as when its last item is answered): the derived
  `link_checks` effect makes the gate's links due in one UPDATE; then the passes
  that re-check them.

Printed per phase: seconds, SQL statements (and per launch / per link), pages
requested, passes, peak Python heap (tracemalloc) and peak RSS.

Usage: .venv/bin/python bench/links.py [LAUNCHES] [DATABASE_URL]
       (DATABASE_URL defaults to the environment's, else a fresh SQLite file; a PostgreSQL URL is wiped first)
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sqlalchemy import event, func, select as sa_select, text, update  # noqa: E402
from sqlmodel import select  # noqa: E402

import tick as tick_bench  # noqa: E402  (bench/tick.py: the seed of realistic launches)
from bot.db import make_engine, unit_of_work  # noqa: E402
from bot.linkcheck.runner import run_due  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.services import audit  # noqa: E402
from models import Gate, Item, ItemState, LinkCheck, LinkStatus  # noqa: E402

NOW = tick_bench.OPENED + timedelta(days=10)


class Pages:
    """A local site on `port` answering 200 to HEAD and GET for every path, counting requests."""

    def __init__(self, port: int) -> None:
        pages = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                pages.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.send_header("Last-Modified", "Tue, 10 Aug 2027 09:00:00 GMT")
                self.end_headers()

            do_GET = do_HEAD

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(url: str):
    return tick_bench.settings_for(url).model_copy(update={"linkcheck_allow_hosts": ["127.0.0.1"]})


def answer_links(url: str, base: str) -> int:
    """Every link item done with a link to the local site, its check row due now; returns links."""
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        session.execute(update(Item).where(Item.answer_kind == "link").values(
            state=ItemState.DONE, answered_by="UBENCH", answered_at=tick_bench.OPENED, next_nudge_at=None))
        rows = session.execute(sa_select(Item.id, Item.launch_id).where(Item.answer_kind == "link")).all()
        for start in range(0, len(rows), tick_bench.CHUNK):
            chunk = rows[start:start + tick_bench.CHUNK]
            session.execute(LinkCheck.__table__.insert(), [
                {"launch_id": lid, "item_id": iid, "url": f"{base}/kb/{iid}", "status": LinkStatus.OK,
                 "failures": 0, "next_check_at": NOW, "checked_at": NOW - timedelta(days=1),
                 "created_at": tick_bench.OPENED} for iid, lid in chunk])
        as_json = "to_json(url)" if engine.dialect.name == "postgresql" else "json_quote(url)"
        session.execute(text(f"UPDATE item SET answer = (SELECT {as_json} FROM linkcheck "
                             "WHERE linkcheck.item_id = item.id) WHERE answer_kind = 'link'"))
    engine.dispose()
    return len(rows)


def measure(url: str, phase: str, port: int) -> dict:
    """One phase in its own process (peak RSS is the phase's)."""
    pages = Pages(port)
    rt = build_runtime(settings_for(url))
    statements = [0]

    @event.listens_for(rt.ctx.engine, "before_cursor_execute")
    def count(*_args):
        statements[0] += 1

    launches = opened = 0
    tracemalloc.start()
    started = time.perf_counter()
    if phase == "reviews":
        with unit_of_work(rt.ctx.engine) as session:   # the gate holding most link items, on every launch
            position = session.exec(select(Gate.position).join(Item, Item.gate_id == Gate.id)
                                    .where(Item.answer_kind == "link").group_by(Gate.position)
                                    .order_by(func.count().desc())).first()
            first_gates = session.exec(select(Gate.id, Gate.launch_id).where(Gate.position == position)).all()
        review_start = statements[0]
        for gate_id, launch_id in first_gates:       # one transaction per review, as in production
            with unit_of_work(rt.ctx.engine) as session:
                audit.record(session, actor="launchgate", action="gate.review_opened", entity="gate",
                             entity_id=gate_id, launch_id=launch_id, after={"round": 1}, at=NOW)
        opened = statements[0] - review_start
        launches = len(first_gates)
        with unit_of_work(rt.ctx.engine) as session:
            due = session.exec(select(func.count()).select_from(LinkCheck)
                               .where(LinkCheck.next_check_at <= NOW)).one()
    else:
        with unit_of_work(rt.ctx.engine) as session:
            due = session.exec(select(func.count()).select_from(LinkCheck)
                               .where(LinkCheck.next_check_at <= NOW)).one()
    checked = passes = 0
    check_start = statements[0]
    while True:
        report = run_due(rt.ctx, NOW)        # production batch sizes: what one scheduler pass does
        passes += 1
        checked += report.checked
        if report.checked == 0:
            break
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return {"seconds": seconds, "statements": statements[0], "check_statements": statements[0] - check_start,
            "review_statements": opened, "reviews": launches, "due": due, "checked": checked,
            "passes": passes - 1, "requests": pages.requests, "heap_mb": peak,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_phase(url: str, phase: str, port: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", url, phase, str(port)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--phase"]:
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    url = (sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DATABASE_URL")
           or f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    tick_bench.fresh_database(url)
    rt = build_runtime(settings_for(url))
    started = time.perf_counter()
    tick_bench.seed(rt, count)
    rt.ctx.engine.dispose()
    port = free_port()                                  # each phase serves the pages on it
    links = answer_links(url, f"http://127.0.0.1:{port}")
    seeded = time.perf_counter() - started
    print(f"database      {url.split(':')[0].split('+')[0]}")
    print(f"launches      {count} ({links} link answers), seeded in {seeded:.1f}s")
    for phase, label in (("daily", "daily re-check"), ("reviews", "reviews open")):
        f = run_phase(url, phase, port)
        extra = (f", opening {f['reviews']} reviews took {f['review_statements']} statements "
                 f"({f['review_statements'] / max(f['reviews'], 1):.1f} per review)" if phase == "reviews" else "")
        print(f"{label:<16}{f['seconds']:.1f}s, {f['due']} links due, {f['checked']} checked in {f['passes']} "
              f"scheduler passes, {f['requests']} pages requested, {f['statements']} SQL statements "
              f"({f['check_statements'] / max(f['checked'], 1):.1f} per link checked){extra}, "
              f"heap peak {f['heap_mb']:.1f} MB, RSS peak {f['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
