"""How fast does the outbox drain? Prints rows/second for a local stand-in.

Usage: .venv/bin/python bench/outbox_drain.py [ROWS] [DATABASE_URL]
Not a test: a figure to watch, never an assertion.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings  # noqa: E402
from bot.db import migrate, unit_of_work  # noqa: E402
from bot.delivery.worker import ChannelPacer  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.services.outbox import Kind, enqueue  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    standin = SlackStandIn()
    standin.start()
    channels = [standin.add_channel(name=f"bench-{i}") for i in range(50)]
    migrate(url)
    settings = load_settings(database_url=url, slack_bot_token="xoxb-test-token", slack_signing_secret="s",
                             slack_api_url=standin.api_url, _env_file=None)
    rt = build_runtime(settings)
    rt.worker.pacer = ChannelPacer(per_second=1000, burst=1000)
    started = time.perf_counter()
    with unit_of_work(rt.ctx.engine) as session:
        for i in range(rows):
            enqueue(session, Kind.TEXT, channels[i % len(channels)], {"text": f"bench {i}"})
    queued = time.perf_counter()
    sent = 0
    while sent < rows:
        sent += rt.worker.drain(limit=200).sent
    done = time.perf_counter()
    standin.stop()
    print(f"database      {url.split(':')[0]}")
    print(f"queued        {rows} rows in {queued - started:.2f}s ({rows / (queued - started):.0f}/s)")
    print(f"delivered     {rows} rows in {done - queued:.2f}s ({rows / (done - queued):.0f}/s)")


if __name__ == "__main__":
    main()
