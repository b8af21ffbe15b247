"""How fast does the outbox drain, and how does it behave against Slack's rate limit?

Usage: .venv/bin/python bench/outbox_drain.py [ROWS] [DATABASE_URL] [--per-minute N] [--burst B]

Without --per-minute: rows/second against an unlimited local stand-in (real time).
With --per-minute N: the stand-in limits chat.postMessage to N per minute (a token bucket,
B at once, default 5 s worth, 429 + Retry-After beyond it) and everything — the worker, its
pacing, the scheduler's drain every 2 s and Slack's limit — runs on one virtual clock, so
500 messages at 120/min take seconds, not minutes. Prints the share of the limit delivered,
429s among the requests, rows lost and duplicated; `--pause-only` switches the learned pace
off (the worker only pauses the method for Retry-After after each 429) for comparison.
Not a test: figures to watch, never an assertion.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings  # noqa: E402
from bot.db import migrate, unit_of_work  # noqa: E402
from bot.delivery.worker import ChannelPacer, VirtualClock  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.scheduler import DRAIN_SECONDS  # noqa: E402
from bot.services.outbox import Kind, enqueue  # noqa: E402
from models import OutboxMessage, OutboxStatus  # noqa: E402
from sqlmodel import func, select  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402


def queue(rt, channels: list[str], rows: int) -> float:
    started = time.perf_counter()
    with unit_of_work(rt.ctx.engine) as session:
        for i in range(rows):
            enqueue(session, Kind.TEXT, channels[i % len(channels)], {"text": f"bench {i}"})
    return time.perf_counter() - started


def unlimited(args, standin, channels, settings) -> None:
    rt = build_runtime(settings)
    rt.worker.pacer = ChannelPacer(per_second=1000, burst=1000)
    queued = queue(rt, channels, args.rows)
    started = time.perf_counter()
    sent = 0
    while sent < args.rows:
        sent += rt.worker.drain(limit=200).sent
    done = time.perf_counter() - started
    print(f"queued        {args.rows} rows in {queued:.2f}s ({args.rows / queued:.0f}/s)")
    print(f"delivered     {args.rows} rows in {done:.2f}s ({args.rows / done:.0f}/s)")


def limited(args, standin, channels, settings) -> None:
    vc = VirtualClock()
    rt = build_runtime(settings, clock=vc, pacer_clock=vc)
    if args.pause_only:
        rt.client.pace.wait = lambda method: None
    queue(rt, channels, args.rows)
    burst = args.burst if args.burst is not None else max(1, round(args.per_minute / 12))
    standin.rate_limit("chat.postMessage", args.per_minute, burst=burst, clock=vc.monotonic)
    started, last_sent = time.perf_counter(), 0.0
    while vc.now < 24 * 3600:
        report = rt.worker.drain_all()
        if report.sent:
            last_sent = vc.now
        with unit_of_work(rt.ctx.engine) as session:
            pending = session.exec(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.status == OutboxStatus.PENDING)).one()
        if not pending:
            break
        vc.sleep(DRAIN_SECONDS)
    real = time.perf_counter() - started
    posts = standin.calls_to("chat.postMessage")
    refused = sum(1 for c in posts if c.status == 429)
    texts = Counter(m["text"] for c in channels for m in standin.messages(c))
    expected = {f"bench {i}" for i in range(args.rows)}
    lost = len(expected - set(texts))
    duplicated = sum(n - 1 for n in texts.values() if n > 1)
    rate = (len(texts) - burst) / last_sent * 60 if last_sent else 0.0
    print(f"limit         chat.postMessage {args.per_minute:g}/min, burst {burst}"
          f"{' (pause only: learned pace off)' if args.pause_only else ''}")
    print(f"delivered     {len(texts)} of {args.rows} in {last_sent:.0f} virtual s ({real:.1f} real s): "
          f"{rate:.1f}/min after the burst = {rate / args.per_minute:.0%} of the limit")
    print(f"requests      {len(posts)}, of which 429: {refused} ({refused / max(1, len(posts)):.1%}); "
          f"learned spacing {rt.client.pace.interval('chat.postMessage'):.3f} s")
    print(f"lost          {lost}")
    print(f"duplicated    {duplicated}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=500)
    parser.add_argument("url", nargs="?")
    parser.add_argument("--per-minute", type=float)
    parser.add_argument("--burst", type=int)
    parser.add_argument("--pause-only", action="store_true")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    standin = SlackStandIn()
    standin.start()
    channels = [standin.add_channel(name=f"bench-{i}") for i in range(50)]
    migrate(url)
    settings = load_settings(database_url=url, slack_bot_token="xoxb-test-token", slack_signing_secret="s",
                             slack_api_url=standin.api_url, _env_file=None)
    print(f"database      {url.split(':')[0]}")
    (limited if args.per_minute else unlimited)(args, standin, channels, settings)
    standin.stop()


if __name__ == "__main__":
    main()
