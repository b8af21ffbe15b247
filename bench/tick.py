"""How long does one scheduler pass take with many open launches? Prints seconds,
rows queued and peak Python memory for a first pass (every nudge due) and a quiet one.

Usage: .venv/bin/python bench/tick.py [LAUNCHES] [DATABASE_URL]
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import migrate, unit_of_work  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.services import directory, launches, policy  # noqa: E402
from bot.ticks import run_tick  # noqa: E402
from models import Item, OutboxMessage, UserProfile  # noqa: E402

PEOPLE = {"readiness_lead": "ULEAD", "wfm": "UWFM", "marketing": "UMKT", "content": "UCONTENT",
          "knowledge": "UKB", "training": "UTRAIN", "vendor_management": "UVENDOR"}


def seed(rt, count: int, opened: datetime) -> None:
    spec = directory.StakeholderFile(roles={role: [user] for role, user in PEOPLE.items()})
    with unit_of_work(rt.ctx.engine) as session:
        directory.sync(session, spec, lambda group: [])
        for user in [*PEOPLE.values(), "UPM"]:
            session.add(UserProfile(user_id=user, tz="Europe/London", fetched_at=opened))
    template = rt.ctx.templates["product"]
    pinned = policy.for_template(rt.ctx.settings, template).as_dict()
    for n in range(count):
        form = launches.LaunchForm(name=f"Bench launch {n}", kind="product", markets=["GB"],
                                   launch_date=date(2027, 11, 15), readiness_lead_id="ULEAD")
        with unit_of_work(rt.ctx.engine) as session:
            launches.open_launch(session, form, actor="UPM", template=template, now=opened, reminder_policy=pinned)


def timed_pass(rt, at: datetime) -> tuple[float, int, float]:
    with unit_of_work(rt.ctx.engine) as session:
        before = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    tracemalloc.start()
    started = time.perf_counter()
    run_tick(rt.ctx, at)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    with unit_of_work(rt.ctx.engine) as session:
        after = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    return seconds, after - before, peak


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate(url)
    settings = load_settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret="s",
                             slack_api_url="http://127.0.0.1:9/api/", _env_file=None)
    rt = build_runtime(settings)
    opened = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)
    seed(rt, count, opened)
    with unit_of_work(rt.ctx.engine) as session:
        items = session.exec(select(func.count()).select_from(Item)).one()
    # Thursday 9 Sep 2027, 10:00 London: the Discovery items are due; many nudges go out.
    busy = datetime(2027, 9, 9, 9, 0, tzinfo=timezone.utc)
    first = timed_pass(rt, busy)
    again = timed_pass(rt, busy.replace(minute=5))
    print(f"database      {url.split(':')[0]}")
    print(f"launches      {count} ({items} items)")
    print(f"busy pass     {first[0]:.2f}s, {first[1]} rows queued, peak {first[2]:.1f} MB")
    print(f"quiet pass    {again[0]:.2f}s, {again[1]} rows queued, peak {again[2]:.1f} MB")


if __name__ == "__main__":
    main()
