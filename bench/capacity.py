"""How fast is the staffing arithmetic, and the portfolio sweep over many open launches?

Prints time, SQL statements and peak Python memory for the sweep (`launchgate capacity`)
at 100 / 1,000 / 10,000 open launches (each with a full-size checklist of 40 items, one an
answered six-week forecast over one to three markets), on the database given.

Usage: .venv/bin/python bench/capacity.py [DATABASE_URL] [COUNTS, e.g. 100,1000,10000]
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, delete, event, insert  # noqa: E402

from bot.capacity.config import load_queues  # noqa: E402
from bot.capacity.erlang import agents_for_target, erlang_a  # noqa: E402
from bot.capacity.staffing import QueueModel, weekly_requirement  # noqa: E402
from bot.db import migrate, unit_of_work  # noqa: E402
from bot.services.capacity import portfolio  # noqa: E402
from models import Gate, Item, Launch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MARKETS = ["FR", "BE", "DE", "AT", "GB", "IE", "US"]
TODAY = date(2027, 11, 15)


def timed(fn, repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def arithmetic() -> None:
    print("staffing arithmetic (pure Python)")
    print(f"  reference interval (10 E, 80/20)      {timed(lambda: agents_for_target(10, 180, .8, 20), 2000) * 1e6:8.1f} µs")
    print(f"  large interval (500 E, 80/20)         {timed(lambda: agents_for_target(500, 180, .8, 20), 200) * 1e6:8.1f} µs")
    print(f"  Erlang A at 14 agents (10 E, 60 s)    {timed(lambda: erlang_a(14, 10, 180, 60, 20), 200) * 1e6:8.1f} µs")
    queue = QueueModel("bench", hours={d: (8 * 60, 20 * 60) for d in ("mon", "tue", "wed", "thu", "fri")},
                       intraday={8 * 60 + 30 * k: 1 + k % 7 for k in range(24)})
    print(f"  one queue-week, profiled (120 ivals)  {timed(lambda: weekly_requirement(queue, 8000, 180), 50) * 1e3:8.2f} ms")
    mail = QueueModel("mail", channel="email", answer_within_hours=8)
    print(f"  one async queue-week, 8 h target      {timed(lambda: weekly_requirement(mail, 5000, 600), 20) * 1e3:8.2f} ms")


def seed(url: str, count: int) -> None:
    engine = create_engine(url)
    rng = random.Random(count)
    opened = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:
        for table in (Item, Gate, Launch):
            conn.execute(delete(table))
        launches, gates, items = [], [], []
        for n in range(1, count + 1):
            markets = rng.sample(MARKETS, rng.randint(1, 3))
            launches.append(dict(id=n, name=f"Bench {n}", kind="product", markets=markets,
                                 launch_date=TODAY + timedelta(days=rng.randint(-35, 60)), template_kind="product",
                                 template_version=1, owner_id="UPM", readiness_lead_id="ULEAD", brief="",
                                 status="open", created_at=opened, updated_at=opened, reminder_policy={}))
            gates.append(dict(id=n, launch_id=n, gate_key="planning", name="Planning", position=1,
                              offset_business_days=-30, due_at=opened, status="pending",
                              approver_role="readiness_lead", quorum="any", review_round=0))
            base = dict(launch_id=n, gate_id=n, question="q", action="", why="", owner_role="wfm", due_at=opened,
                        due_offset_business_days=0, escalation_level=0)
            weeks = [rng.randint(500, 9000) for _ in range(6)]
            items.append({**base, "item_key": "contact-volume-forecast", "answer_kind": "forecast", "state": "done",
                          "answer": {"weekly_contacts": weeks, "aht_minutes": rng.choice([3, 4.5, 6]),
                                     "sl_percent": 80, "sl_seconds": 20, "shrinkage_percent": 30}})
            items += [{**base, "item_key": f"item-{k}", "answer_kind": "confirm", "state": "open", "answer": None}
                      for k in range(39)]
        for table, rows in ((Launch, launches), (Gate, gates), (Item, items)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start:start + 5000])
    engine.dispose()


def sweep(url: str, count: int) -> None:
    from bot.db import make_engine

    seed(url, count)
    engine = make_engine(url)
    queues = load_queues(ROOT / "capacity.example.yaml")
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        cells = portfolio(session, queues, TODAY, weeks=12)
    seconds = time.perf_counter() - started
    tracemalloc.start()               # a second run for memory: tracing slows Python several times over
    with unit_of_work(engine) as session:
        portfolio(session, queues, TODAY, weeks=12)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    statements = statements[: len(statements) // 2]
    engine.dispose()
    print(f"  {count:>6} launches: {seconds:6.2f}s, {len(statements)} SQL statement(s), peak {peak:6.1f} MB, "
          f"{len(cells)} queue-weeks")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    counts = [int(c) for c in sys.argv[2].split(",")] if len(sys.argv) > 2 else [100, 1000, 10000]
    arithmetic()
    migrate(url)
    print(f"portfolio sweep, 12 ISO weeks ({url.split(':')[0]}; time and memory include reading the forecasts)")
    for count in counts:
        sweep(url, count)


if __name__ == "__main__":
    main()
