"""Reads over many launches: `/launch list` pages, the portfolio report and the readiness metrics.

Prints, per launch count, seconds, SQL statements and peak Python memory. The list
and the metrics should keep the same statement count at every size; the portfolio
report reads every open launch by design (it lists them) but in a fixed number of
statements.

Usage: .venv/bin/python bench/portfolio.py [COUNTS] [DATABASE_URL]   e.g. 100,1000,10000
Not a test: figures to watch, never an assertion. Launches are cloned from one real
launch with bulk inserts, so seeding 10,000 takes seconds, not hours.
"""
from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, migrate, unit_of_work  # noqa: E402
from bot.services import directory, launches, policy, portfolio, portfolio_report, readiness  # noqa: E402
from bot.services.templates import load_templates  # noqa: E402
from models import Gate, Item, Launch, LaunchRole  # noqa: E402

OPENED = datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)
NOW = datetime(2027, 9, 20, 9, 0, tzinfo=timezone.utc)   # some Discovery items are overdue by then
PEOPLE = {"readiness_lead": "ULEAD", "wfm": "UWFM", "marketing": "UMKT", "content": "UCONTENT",
          "knowledge": "UKB", "training": "UTRAIN", "vendor_management": "UVENDOR"}


def _rows(session, model, launch_id):
    cols = [c.name for c in model.__table__.columns if c.name != "id"]
    return [dict(zip(cols, row)) for row in session.execute(
        select(*[model.__table__.c[c] for c in cols]).where(model.__table__.c.launch_id == launch_id))]


def seed(engine, settings, total: int, have: int) -> None:
    """Grow to `total` launches by cloning launch 1 (opened through the real service)."""
    if have == 0:
        templates = load_templates(settings.checklists_dir)
        template = templates["product"]
        with unit_of_work(engine) as session:
            directory.sync(session, directory.StakeholderFile(roles={r: [u] for r, u in PEOPLE.items()}),
                           lambda group: [])
        form = launches.LaunchForm(name="Bench launch 0", kind="product", markets=["GB"],
                                   launch_date=date(2027, 11, 15), readiness_lead_id="ULEAD")
        with unit_of_work(engine) as session:
            launches.open_launch(session, form, actor="UPM", template=template, now=OPENED,
                                 reminder_policy=policy.for_template(settings, template).as_dict())
        have = 1
    with unit_of_work(engine) as session:
        base = dict(session.execute(select(*[c for c in Launch.__table__.c if c.name != "id"])
                                    .where(Launch.__table__.c.id == 1)).mappings().one())
        gates = _rows(session, Gate, 1)
        gate_ids = [g for g, in session.execute(select(Gate.__table__.c.id).where(Gate.__table__.c.launch_id == 1)
                                                .order_by(Gate.__table__.c.id))]
        items = _rows(session, Item, 1)
        roles = _rows(session, LaunchRole, 1)
    for start in range(have, total, 500):
        batch = range(start, min(total, start + 500))
        with unit_of_work(engine) as session:
            new_ids = [session.execute(insert(Launch).values(
                base | {"name": f"Bench launch {n}", "owner_id": f"UPM{n % 300}",
                        "launch_date": date(2027, 10, 1) + timedelta(days=n % 120)}).returning(Launch.id)).scalar()
                for n in batch]
            for launch_id in new_ids:
                mapping = {}
                for old_id, gate in zip(gate_ids, gates):
                    mapping[old_id] = session.execute(insert(Gate).values(gate | {"launch_id": launch_id})
                                                      .returning(Gate.id)).scalar()
                session.execute(insert(Item), [i | {"launch_id": launch_id, "gate_id": mapping[i["gate_id"]]}
                                               for i in items])
                session.execute(insert(LaunchRole), [r | {"launch_id": launch_id} for r in roles])


def measure(engine, fn) -> tuple[float, int, float]:
    seen = [0]

    def count(*_):
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    tracemalloc.start()
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        fn(session)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    event.remove(engine, "before_cursor_execute", count)
    return seconds, seen[0], peak


def main() -> None:
    counts = [int(c) for c in (sys.argv[1] if len(sys.argv) > 1 else "100,1000").split(",")]
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate(url)
    settings = load_settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret="s",
                             _env_file=None)
    engine = make_engine(url)
    have = 0
    print(f"database {url.split(':')[0]}")
    print(f"{'launches':>9} {'read':<31} {'seconds':>8} {'statements':>10} {'peak MB':>8}")
    for total in counts:
        seed(engine, settings, total, have)
        have = total
        reads = {
            "/launch list (page 1)": lambda s: portfolio.list_launches(s, "UPM", portfolio.ListFilter(), now=NOW),
            "/launch list overdue market:GB": lambda s: portfolio.list_launches(
                s, "ULEAD", portfolio.parse(s, ["overdue", "market:GB", "page:3"]), now=NOW),
            "/launch list mine": lambda s: portfolio.list_launches(
                s, "UPM7", portfolio.parse(s, ["mine"]), now=NOW),
            "readiness metrics": lambda s: readiness.compute(s, now=NOW),
            "portfolio report (all open)": lambda s: portfolio_report.build(s, now=NOW),
        }
        for name, fn in reads.items():
            seconds, statements, peak = measure(engine, fn)
            print(f"{total:>9} {name:<31} {seconds:>8.3f} {statements:>10} {peak:>8.1f}")


if __name__ == "__main__":
    main()
