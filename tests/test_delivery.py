"""Durable delivery under failure: Slack down for a while, rate limits, a worker killed
mid-batch, a slow batch outliving its lease, and competing workers — on SQLite and, where
it matters, really concurrently on PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.db import make_engine, unit_of_work
from bot.delivery import registry
from bot.delivery.worker import LEASE, MAX_ATTEMPTS, ChannelPacer, OutboxWorker, due_rows
from bot.services.outbox import Kind, enqueue
from models import OutboxMessage, OutboxStatus, UserProfile
from tests.conftest import PG_URL
from tests.flows import dms, launch_form, outbox

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = "C0TEAM"
FAST = ChannelPacer(per_second=1000, burst=1000)


def queue(engine, n: int, prefix: str = "msg", channel: str = CHANNEL) -> None:
    with unit_of_work(engine) as session:
        for i in range(n):
            enqueue(session, Kind.TEXT, channel, {"text": f"{prefix} {i}"})


def posted(standin, channel: str = CHANNEL) -> Counter:
    return Counter(m["text"] for m in standin.messages(channel))


def statuses(engine) -> Counter:
    return Counter(r.status for r in outbox(engine))


def until_quiet(rt, clock, rounds: int = 40) -> None:
    """Drain, moving time past every backoff, until nothing is pending."""
    for _ in range(rounds):
        rt.worker.drain_all(clock())
        if not [r for r in outbox(rt.ctx.engine) if r.status == OutboxStatus.PENDING]:
            return
        clock.advance(minutes=16)
    raise AssertionError("outbox never emptied")


def test_a_launch_opened_while_slack_fails_arrives_complete_and_once(standin, bot, clock):
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form())
    assert resp.status_code == 200
    standin.fail_next(15, status=503)  # the next 15 Web API calls fail, whatever they are
    until_quiet(bot.rt, clock)

    assert statuses(bot.rt.ctx.engine) == Counter({OutboxStatus.SENT: len(outbox(bot.rt.ctx.engine))})
    assert len(standin.ok_calls("conversations.create")) == 1
    channel = standin.ok_calls("conversations.create")[0].response["channel"]["id"]
    assert len(standin.messages(channel)) == 1  # one status card
    for person in ("UWFM", "UMKT", "UCONTENTFR", "UKB", "UTRAIN", "UVENDOR"):
        assert len(dms(standin, person)) == 1, person  # one intro DM each, never two
    assert [c for c in standin.calls if c.injected and c.status == 503]


def test_rate_limit_pauses_the_method_for_exactly_retry_after(rt, standin, clock):
    """After a 429 the rest of the batch does not knock on chat.postMessage again: every row
    waits Retry-After, then each is sent once."""
    standin.add_channel(CHANNEL, name="team")
    queue(rt.ctx.engine, 2)
    standin.rate_limit_next(1, retry_after=30, method="chat.postMessage")
    start = clock()
    rt.worker.pacer = FAST
    report = rt.worker.drain(start)
    assert report.sent == 0 and report.retried == 2
    assert len([c for c in standin.calls if c.method == "chat.postMessage"]) == 1  # the one 429, nothing after
    rt.worker.drain(start + timedelta(seconds=29))
    assert sum(posted(standin).values()) == 0
    rt.worker.drain(start + timedelta(seconds=30))
    assert posted(standin) == Counter({"msg 0": 1, "msg 1": 1})


def test_a_sustained_rate_limit_is_learned_and_the_backlog_drains_under_it(settings, standin):
    """Slack limits chat.postMessage to 30/min: after two 429s the worker knows the pace and
    spaces its posts below it, instead of earning a 429 every Retry-After window. Virtual
    time throughout (worker, pacing, Slack's limit): no real seconds pass."""
    from bot.delivery.worker import VirtualClock
    from bot.runtime import build_runtime

    vc = VirtualClock()
    rt = build_runtime(settings, clock=vc, pacer_clock=vc)
    channels = [standin.add_channel(name=f"team-{n}") for n in range(10)]
    with unit_of_work(rt.ctx.engine) as session:
        for i in range(80):
            enqueue(session, Kind.TEXT, channels[i % 10], {"text": f"msg {i}"})
    standin.rate_limit("chat.postMessage", per_minute=30, burst=3, clock=vc.monotonic)
    while statuses(rt.ctx.engine)[OutboxStatus.PENDING] and vc.now < 3600:
        rt.worker.drain_all()
        vc.sleep(2)  # the scheduler's drain interval
    posts = standin.calls_to("chat.postMessage")
    limited = [c for c in posts if c.status == 429]
    assert statuses(rt.ctx.engine) == Counter({OutboxStatus.SENT: 80})
    assert sum((posted(standin, c) for c in channels), Counter()) == Counter({f"msg {i}": 1 for i in range(80)})
    assert len(limited) == 2  # the two that taught it the pace; without it: one per window, ~40
    assert 2.0 < rt.client.pace.interval("chat.postMessage") < 2.3  # 30/min is one post per 2 s
    assert vc.now < 80 * 2 / 0.9  # and it drained at ≥ 90 % of the limit
    rt.ctx.engine.dispose()


class Killed(BaseException):
    """The process dies (SIGKILL, OOM): nothing after this line of the worker runs."""


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue(rt.ctx.engine, 6)
    sends = []

    def die_on_third(channel):
        sends.append(channel)
        if len(sends) == 3:
            raise Killed()

    doomed = OutboxWorker(rt.ctx, rt.client, worker_id="doomed",
                          pacer=ChannelPacer(sleep=lambda s: None, burst=100))
    doomed.pacer.wait = die_on_third
    with pytest.raises(Killed):
        doomed.drain(clock())
    assert sum(posted(standin).values()) == 2  # it got two out before dying

    survivor = OutboxWorker(rt.ctx, rt.client, worker_id="survivor", pacer=FAST)
    assert survivor.drain(clock()).sent == 0  # the dead worker's leases still hold
    assert survivor.drain(clock() + LEASE + timedelta(seconds=1)).sent == 4
    assert posted(standin) == Counter({f"msg {i}": 1 for i in range(6)})
    assert statuses(rt.ctx.engine) == Counter({OutboxStatus.SENT: 6})


def test_a_batch_that_outlives_its_lease_never_races_into_a_duplicate(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue(rt.ctx.engine, 5)
    slow = OutboxWorker(rt.ctx, rt.client, worker_id="slow", pacer=FAST)
    claimed = slow.claim(clock())
    later = clock() + LEASE + timedelta(seconds=5)  # e.g. paced behind a busy channel
    other = OutboxWorker(rt.ctx, rt.client, worker_id="other", pacer=FAST)
    assert other.drain(later).sent == 5  # the expired leases are fair game
    clock.set(later)
    report = slow.send(claimed, later)  # the slow worker finally gets to its rows
    assert report.sent == 0 and report.skipped == 5
    assert posted(standin) == Counter({f"msg {i}": 1 for i in range(5)})


def test_a_row_that_fails_to_render_does_not_stall_the_others(rt, standin, clock, monkeypatch):
    standin.add_channel(CHANNEL, name="team")

    def broken(session, row, ctx):
        raise RuntimeError("bug in a renderer")

    monkeypatch.setitem(registry.RENDERERS, "broken", broken)
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, "broken", CHANNEL, {})
    queue(rt.ctx.engine, 2)
    rt.worker.pacer = FAST
    report = rt.worker.drain(clock())
    assert report.sent == 2 and report.retried == 1
    for _ in range(MAX_ATTEMPTS):
        clock.advance(minutes=16)
        rt.worker.drain(clock())
    (row,) = [r for r in outbox(rt.ctx.engine) if r.kind == "broken"]
    assert row.status == OutboxStatus.DEAD and "bug in a renderer" in row.last_error


def test_profile_fetch_retries_through_a_slack_outage(rt, standin, clock):
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, Kind.PROFILE, "UKB", {}, dedupe_key="profile:UKB")
    standin.fail_next(1, status=502, method="users.info")
    assert rt.worker.drain(clock()).retried == 1
    clock.advance(minutes=5)
    rt.worker.drain(clock())
    with unit_of_work(rt.ctx.engine) as session:
        assert session.get(UserProfile, "UKB").tz == "Asia/Tokyo"


def test_workers_on_separate_connections_never_send_a_row_twice(rt, standin, clock):
    """Like replicas: each worker has its own engine (its own connections)."""
    standin.add_channel(CHANNEL, name="team")
    queue(rt.ctx.engine, 120)
    engines = [make_engine(rt.ctx.settings.database_url) for _ in range(3)]
    workers = [OutboxWorker(type(rt.ctx)(engine=e, settings=rt.ctx.settings, templates=rt.ctx.templates,
                                         clock=rt.ctx.clock), rt.client, worker_id=f"replica-{n}", pacer=FAST)
               for n, e in enumerate(engines)]
    barrier = threading.Barrier(len(workers))

    def run(worker):
        barrier.wait()
        while worker.drain(clock(), limit=7).sent:
            pass

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    assert posted(standin) == Counter({f"msg {i}": 1 for i in range(120)})
    assert statuses(rt.ctx.engine) == Counter({OutboxStatus.SENT: 120})


@pytest.mark.skipif(not PG_URL, reason="row locks with SKIP LOCKED are PostgreSQL's")
def test_postgres_claims_skip_rows_another_worker_holds(rt, clock):
    queue(rt.ctx.engine, 12)
    holder = Session(rt.ctx.engine)
    held = {r.id for r in due_rows(holder, clock(), 5)}  # locked, transaction still open
    try:
        result: list = []
        other = OutboxWorker(rt.ctx, rt.client, worker_id="other")
        thread = threading.Thread(target=lambda: result.extend(other.claim(clock(), 50)))
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the second worker waited for the first one's locks"
        assert len(held) == 5 and len(result) == 7
        assert held.isdisjoint(r.id for r in result)
    finally:
        holder.rollback()
        holder.close()


WORKER_SCRIPT = """
import sys
from bot.config import load_settings
from bot.delivery.worker import ChannelPacer
from bot.runtime import build_runtime

rt = build_runtime(load_settings(_env_file=None))
rt.worker.pacer = ChannelPacer(per_second=1000, burst=1000)
rt.worker.worker_id = sys.argv[1]
print("ready", flush=True)
sys.stdin.readline()  # start together
idle = 0
while idle < 3:
    idle = idle + 1 if rt.worker.drain(limit=5).sent == 0 else 0
"""


@pytest.mark.skipif(not PG_URL, reason="several processes share one outbox on PostgreSQL only")
def test_two_worker_processes_on_postgres_never_send_a_row_twice(rt, standin, settings):
    standin.add_channel(CHANNEL, name="team")
    queue(rt.ctx.engine, 150)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": settings.slack_bot_token,
           "SLACK_API_URL": standin.api_url, "CHECKLISTS_DIR": settings.checklists_dir, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, f"process-{n}"], cwd=ROOT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for n in range(2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    assert posted(standin) == Counter({f"msg {i}": 1 for i in range(150)})
    with unit_of_work(rt.ctx.engine) as session:
        senders = Counter(r.claimed_by for r in session.exec(select(OutboxMessage)))
    assert statuses(rt.ctx.engine) == Counter({OutboxStatus.SENT: 150})
    assert set(senders) <= {"process-0", "process-1"}
