"""How long does one scheduler pass take with many open launches, and what does it cost?

Seeds LAUNCHES open launches shaped like real ones: each has its channel, a product
manager and a readiness lead out of a few hundred people in several time zones, item
owners spread over per-role pools, launch dates spread over several weeks (so some
launches have nudges due, some overdue items to escalate, all a digest to consider).
Then runs one scheduler pass with reminders due (every step: nudges, escalations,
digests, waiver expiry, retention) and a quiet pass five minutes later, each in a
fresh process, and prints for each: seconds, SQL statements, rows queued, peak
Python heap (tracemalloc) and the process's peak RSS.

Usage: .venv/bin/python bench/tick.py [LAUNCHES] [DATABASE_URL] [--heap] [--whole]
       (default 100 launches on a fresh SQLite file; a PostgreSQL URL is wiped first;
       --heap adds the Python heap peak from tracemalloc, which slows the passes 2-3×;
       --whole runs one pass with no time budget, as `launchgate tick` does, instead of the
       scheduler's budgeted passes)
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import functools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, migrate, unit_of_work  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.services import calendar, directory, launches, policy  # noqa: E402
from bot.ticks import STEPS, run_tick  # noqa: E402
from models import Gate, Item, Launch, LaunchRole, Nudge, OutboxMessage, OutboxStatus, UserProfile  # noqa: E402

ROLES = ("readiness_lead", "wfm", "marketing", "content", "knowledge", "training", "vendor_management")
POOL = {"product_manager": 120, "readiness_lead": 25, "wfm": 30, "marketing": 40, "content": 40, "knowledge": 30,
        "training": 30, "vendor_management": 20}
ZONES = ("Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Dublin", "America/New_York",
         "Asia/Tokyo")
OPENED = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)
# Launch dates one week apart: at the busy pass some launches' Discovery items are long
# overdue (escalations), some just due (nudges), some not yet (quiet).
LAUNCH_DATES = [date(2027, 10, 25) + timedelta(weeks=w) for w in range(6)]
BUSY = datetime(2027, 9, 9, 9, 0, tzinfo=timezone.utc)  # Thursday 10:00 London, 11:00 Paris
CHUNK = 2000


def person(role: str, n: int) -> str:
    return f"U{role[:4].upper()}{n:04d}"


def settings_for(url: str):
    return load_settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret="s",
                         slack_api_url="http://127.0.0.1:9/api/", _env_file=None)


def fresh_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    migrate(url)


def prototypes(rt) -> dict[date, tuple[Launch, list[Gate], list[Item], list[LaunchRole]]]:
    """One launch opened through the service per launch date: its gates and items carry the
    real due dates and reminder schedule; the seed copies them."""
    spec = directory.StakeholderFile(admins=["UADMIN"], roles={role: [person(role, 0)] for role in ROLES})
    template = rt.ctx.templates["product"]
    pinned = policy.for_template(rt.ctx.settings, template).as_dict()
    out = {}
    with unit_of_work(rt.ctx.engine) as session:
        directory.sync(session, spec, lambda group: [])
    for launch_date in LAUNCH_DATES:
        form = launches.LaunchForm(name="Prototype", kind="product", markets=["GB"], launch_date=launch_date,
                                   readiness_lead_id=person("readiness_lead", 0))
        with unit_of_work(rt.ctx.engine) as session:
            launch = launches.open_launch(session, form, actor=person("product_manager", 0), template=template,
                                          now=OPENED, reminder_policy=pinned)
            session.flush()
            gates = list(session.exec(select(Gate).where(Gate.launch_id == launch.id)))
            items = list(session.exec(select(Item).where(Item.launch_id == launch.id)))
            roles = list(session.exec(select(LaunchRole).where(LaunchRole.launch_id == launch.id)))
        out[launch_date] = (launch, gates, items, roles)
    return out


def row(obj, **changes) -> dict:
    data = {c.name: getattr(obj, c.name) for c in obj.__table__.columns}
    data.update(changes)
    return data


def seed(rt, count: int) -> None:
    rng = random.Random(7)
    protos = prototypes(rt)
    engine = rt.ctx.engine
    with unit_of_work(engine) as session:  # the prototypes only lent their shape
        for table in ("auditevent", "outboxmessage", "launchrole", "item", "gate", "nudge", "launch"):
            session.execute(text(f"DELETE FROM {table}"))
    launch_rows, gate_rows, item_rows, role_rows = [], [], [], []
    gate_id = item_id = role_id = 0

    def flush() -> None:
        with unit_of_work(engine) as session:
            for model, rows in ((Launch, launch_rows), (Gate, gate_rows), (Item, item_rows),
                                (LaunchRole, role_rows)):
                if rows:
                    session.execute(insert(model), rows)
                rows.clear()

    for n in range(1, count + 1):
        launch, gates, items, roles = protos[LAUNCH_DATES[n % len(LAUNCH_DATES)]]
        pm = person("product_manager", rng.randrange(POOL["product_manager"]))
        lead = person("readiness_lead", rng.randrange(POOL["readiness_lead"]))
        owners = {role: person(role, rng.randrange(POOL[role])) for role in ROLES}
        owners |= {"product_manager": pm, "readiness_lead": lead}
        launch_rows.append(row(launch, id=n, name=f"Bench launch {n}", owner_id=pm, readiness_lead_id=lead,
                               channel_id=f"CBENCH{n:06d}"))
        gate_ids = {}
        for gate in gates:
            gate_id += 1
            gate_ids[gate.id] = gate_id
            gate_rows.append(row(gate, id=gate_id, launch_id=n))
        for item in items:
            item_id += 1
            item_rows.append(row(item, id=item_id, launch_id=n, gate_id=gate_ids[item.gate_id],
                                 owner_id=owners.get(item.owner_role, item.owner_id)))
        for role in roles:
            role_id += 1
            role_rows.append(row(role, id=role_id, launch_id=n, user_id=owners.get(role.role, role.user_id)))
        if len(item_rows) >= CHUNK:
            flush()
    flush()
    with unit_of_work(engine) as session:
        people = [person(role, k) for role, size in POOL.items() for k in range(size)]
        # Most time zones are cached from earlier DMs; a few people were never looked up.
        session.execute(insert(UserProfile), [
            {"user_id": p, "tz": ZONES[k % len(ZONES)], "real_name": p, "fetched_at": OPENED}
            for k, p in enumerate(people) if k % 50 != 49])
        if engine.dialect.name == "postgresql":
            for table in ("launch", "gate", "item", "launchrole"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def one_pass(url: str, at: datetime, heap: bool = False, budget: float | None = None) -> dict:
    """Runs in its own process, so peak RSS is the pass's, not the seed's. With a `budget`, runs
    passes as the scheduler does (each starts no new batch after `budget` seconds; the next starts
    at once, a second later on the clock) until one finishes everything due, and reports the
    longest pass and the totals."""
    rt = build_runtime(settings_for(url))
    # one-off costs of a process's first pass (holiday tables) are not the pass's
    for year in (at.year, at.year + 1):
        calendar.is_business_day(date(year, 1, 4), ["GB"])
    statements = [0]
    per_step: dict[str, int] = {}
    current = [""]

    waited: dict[str, float] = {}  # seconds from sending each step's statements to their results
    sent = [0.0]

    @event.listens_for(rt.ctx.engine, "before_cursor_execute")
    def count(*_args):
        statements[0] += 1
        sent[0] = time.perf_counter()
        if current[0]:
            per_step[current[0]] = per_step.get(current[0], 0) + 1

    @event.listens_for(rt.ctx.engine, "after_cursor_execute")
    def timed(*_args):
        step = current[0] or "other"
        waited[step] = waited.get(step, 0.0) + time.perf_counter() - sent[0]

    def counted(step):
        @functools.wraps(step)
        def run(*args):
            current[0] = step.__name__
            try:
                return step(*args)
            finally:
                current[0] = ""
        return run

    with unit_of_work(rt.ctx.engine) as session:
        before = session.exec(select(func.coalesce(func.max(OutboxMessage.id), 0))).one()
    statements[0] = 0
    if heap:  # tracemalloc slows Python down 2-3×: its pass's seconds are not the tick's
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    passes: list[tuple[float, int]] = []  # (seconds, statements) of each pass
    while True:
        begun, before_pass = time.perf_counter(), statements[0]
        report = run_tick(rt.ctx, at + timedelta(seconds=len(passes)), steps=tuple(counted(step) for step in STEPS),
                          budget=budget, resume=report.resume if passes else None)
        passes.append((time.perf_counter() - begun, statements[0] - before_pass))
        if not report.unfinished:
            break
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 1e6 if heap else float("nan")
    tracemalloc.stop()
    done = statements[0]
    with unit_of_work(rt.ctx.engine) as session:
        queued = dict(session.exec(select(OutboxMessage.kind, func.count()).where(OutboxMessage.id > before)
                                   .group_by(OutboxMessage.kind)).all())
    return {"passes": len(passes), "longest": max(p[0] for p in passes), "most_statements": max(p[1] for p in passes),
            "seconds": seconds, "cpu": cpu, "statements": done, "queued": sum(queued.values()), "lines": len(report.lines),
            "kinds": queued, "per_step": per_step, "waited": waited, "heap_mb": peak,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_pass(url: str, at: datetime) -> dict:
    out = subprocess.run([sys.executable, __file__, "--pass", url, at.isoformat(), str(BUDGET), *HEAP],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


HEAP = ["heap"] if "--heap" in sys.argv else []
BUDGET: float | None = 1.0  # the scheduler's default TICK_BUDGET_SECONDS; --whole: one pass with no budget


def main() -> None:
    global BUDGET
    if "--heap" in sys.argv:
        sys.argv.remove("--heap")
    if "--whole" in sys.argv:
        sys.argv.remove("--whole")
        BUDGET = None
    if sys.argv[1:2] == ["--pass"]:
        budget = None if sys.argv[4] == "None" else float(sys.argv[4])
        print(json.dumps(one_pass(sys.argv[2], datetime.fromisoformat(sys.argv[3]), heap=sys.argv[5:6] == ["heap"],
                                  budget=budget)))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    fresh_database(url)
    rt = build_runtime(settings_for(url))
    started = time.perf_counter()
    seed(rt, count)
    seeded = time.perf_counter() - started
    with unit_of_work(rt.ctx.engine) as session:
        items = session.exec(select(func.count()).select_from(Item)).one()
        pending = session.exec(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == OutboxStatus.PENDING)).one()
    rt.ctx.engine.dispose()
    busy = run_pass(url, BUSY)
    quiet = run_pass(url, BUSY + timedelta(minutes=5))
    with unit_of_work(make_engine(url)) as session:
        ledger = dict(session.exec(select(Nudge.kind, func.count()).group_by(Nudge.kind)).all())
    print(f"database      {url.split(':')[0].split('+')[0]}; load average {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores, shared)")
    print(f"launches      {count} ({items} items), seeded in {seeded:.1f}s, {pending} rows pending before")
    print("budget        " + (f"{BUDGET}s a pass (TICK_BUDGET_SECONDS), passes run back to back as the scheduler does"
                               if BUDGET else "none (--whole): one pass does everything due, as `launchgate tick`"))
    for name, figures in (("busy", busy), ("quiet", quiet)):
        if BUDGET:
            print(f"{name:<13} {figures['passes']} pass(es), longest {figures['longest']:.2f}s and at most "
                  f"{figures['most_statements']} SQL statements a pass; in all:")
        print(f"{name + ' pass' if not BUDGET else '':<13} {figures['seconds']:.2f}s ({figures['cpu']:.2f}s CPU), {figures['statements']} SQL statements, "
              f"{figures['queued']} rows queued {figures['kinds']}, "
              + (f"heap peak {figures['heap_mb']:.1f} MB, " if HEAP else "") +
              f"RSS peak {figures['rss_mb']:.0f} MB")
        steps = dict(figures["per_step"])
        mine = steps.pop("send_nudges", 0), steps.pop("send_escalations", 0)
        print(f"{'':<13} statements by step: reminders {mine[0]}, escalations {mine[1]}, "
              f"the other steps {sum(steps.values())}")
        print(f"{'':<13} seconds in the database's statements (until their results) by step: "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(figures["waited"].items(), key=lambda kv: -kv[1])))
    print(f"ledger        {ledger}")


if __name__ == "__main__":
    main()
