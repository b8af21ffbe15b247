"""What one Done click costs: outbox rows queued, rows that really reach Slack, and the
database transactions the worker needs to deliver them.

Usage: .venv/bin/python bench/done_click.py [DATABASE_URL]
Runs the bot as `launchgate serve` does (waitress + Bolt) against the Slack stand-in,
opens a launch, delivers everything, then clicks Done on one prompt item.
Not a test: figures to watch (issue 9 quotes them), never an assertion.
"""
from __future__ import annotations

import sys
import tempfile
import threading
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import migrate, unit_of_work  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.slack_app import create_app  # noqa: E402
from bot.web import make_wsgi_app  # noqa: E402
from models import OutboxMessage  # noqa: E402
from tests.conftest import BOT_TOKEN, PEOPLE, ROOT, SIGNING_SECRET, STAKEHOLDERS, FakeClock  # noqa: E402
from tests.flows import deliver, items, open_launch_via_slack  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/bench.db"
    standin = SlackStandIn(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    standin.start()
    for user_id, tz in PEOPLE.items():
        standin.add_user(user_id, name=user_id.lower(), tz=tz)
    (tmp / "stakeholders.yaml").write_text(STAKEHOLDERS)
    migrate(url)
    settings = load_settings(database_url=url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                             slack_app_token=None, slack_api_url=standin.api_url,
                             checklists_dir=str(ROOT / "checklists"), stakeholders_file=str(tmp / "stakeholders.yaml"),
                             launches_channel=None, _env_file=None)
    rt = build_runtime(settings, clock=FakeClock(datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc)))
    from bot.cli import sync_stakeholders  # the CLI wrapper: same call before and after issue 9

    sync_stakeholders(settings, rt.ctx.engine, rt.client)
    from waitress import create_server

    server = create_server(make_wsgi_app(create_app(rt), rt.ctx.engine), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()

    class Bot:
        url = f"http://127.0.0.1:{server.effective_port}"

    Bot.rt = rt
    standin.settle_bot = rt.settle  # the click is applied just after its ack: count once it is
    launch = open_launch_via_slack(standin, Bot)
    item = next(i for i in items(rt.ctx.engine, launch.id) if i.answer_kind == "confirm" and i.owner_id)
    deliver(Bot)
    with unit_of_work(rt.ctx.engine) as session:
        last = session.exec(select(func.max(OutboxMessage.id))).one() or 0
    resp = standin.send_block_action(Bot.url, item.owner_id, "item.done", str(item.id))
    assert resp.status_code == 200, resp.text
    with unit_of_work(rt.ctx.engine) as session:
        rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.id > last)))
    transactions = Counter()
    event.listen(rt.ctx.engine, "begin", lambda conn: transactions.update(["begin"]))
    calls_before = len(standin.calls)
    report = rt.worker.drain_all()
    print(f"database              {url.split(':')[0]}")
    print(f"outbox rows queued    {len(rows)}  ({', '.join(sorted(Counter(r.kind for r in rows).elements()))})")
    print(f"rows that sent        {report.sent}  (sent nothing: {report.skipped})")
    print(f"delivery transactions {transactions['begin']}")
    print(f"Slack calls           {len(standin.calls) - calls_before}")
    standin.stop()


if __name__ == "__main__":
    main()
