"""Durable delivery: retries, rate limits, crashes and competing workers lose
nothing and send nothing twice."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from bot.db import unit_of_work
from bot.delivery.worker import LEASE, ChannelPacer, OutboxWorker
from bot.services.outbox import Kind, enqueue, enqueue_now
from models import OutboxMessage, OutboxStatus

CHANNEL = "C0TEAM"


def queue_texts(engine, n: int, channel: str = CHANNEL, prefix: str = "hello"):
    with unit_of_work(engine) as session:
        for i in range(n):
            enqueue(session, Kind.TEXT, channel, {"text": f"{prefix} {i}"})


def texts(standin, channel=CHANNEL):
    return [m["text"] for m in standin.messages(channel)]


def rows(engine):
    with unit_of_work(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def drain_until_empty(rt, clock, limit=30):
    for _ in range(limit):
        rt.worker.drain(clock())
        if all(r.status != OutboxStatus.PENDING for r in rows(rt.ctx.engine)):
            return
        clock.advance(minutes=20)


def test_server_errors_then_recovery_delivers_each_message_once(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 5)
    standin.fail_next(4, status=503)
    report = rt.worker.drain(clock())
    assert report.retried >= 1
    drain_until_empty(rt, clock)
    assert sorted(texts(standin)) == [f"hello {i}" for i in range(5)]
    assert all(r.status == OutboxStatus.SENT for r in rows(rt.ctx.engine))


def test_retries_back_off_exponentially(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 1)
    delays = []
    for _ in range(4):
        standin.fail_next(1, status=500)
        rt.worker.drain(clock())
        (row,) = rows(rt.ctx.engine)
        delays.append((row.next_attempt_at - clock()).total_seconds())
        clock.set(row.next_attempt_at)
    assert delays == sorted(delays) and delays[-1] > delays[0] * 2
    rt.worker.drain(clock())
    assert texts(standin) == ["hello 0"]


def test_rate_limit_waits_for_retry_after(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 1)
    standin.rate_limit_next(1, retry_after=7)
    start = clock()
    rt.worker.drain(start)
    assert texts(standin) == []
    rt.worker.drain(start + timedelta(seconds=6))
    assert texts(standin) == []
    rt.worker.drain(start + timedelta(seconds=7))
    assert texts(standin) == ["hello 0"]
    (row,) = rows(rt.ctx.engine)
    assert row.attempts == 1  # a rate limit is not a failed attempt


def test_worker_killed_after_claiming_loses_nothing(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 3)
    crashed = OutboxWorker(rt.ctx, rt.client, worker_id="crashed")
    assert len(crashed.claim(clock())) == 3  # ...and the process dies here
    survivor = OutboxWorker(rt.ctx, rt.client, worker_id="survivor")
    assert survivor.drain(clock()).sent == 0  # the lease still holds
    later = clock() + LEASE + timedelta(seconds=1)
    assert survivor.drain(later).sent == 3
    assert sorted(texts(standin)) == ["hello 0", "hello 1", "hello 2"]
    # The crashed worker cannot settle rows it no longer owns.
    crashed._finish(rows(rt.ctx.engine)[0], status=OutboxStatus.DEAD, error="late")
    assert rows(rt.ctx.engine)[0].status == OutboxStatus.SENT


def test_a_stopping_worker_finishes_its_row_and_hands_the_rest_back(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 3)
    stopping = OutboxWorker(rt.ctx, rt.client, worker_id="stopping")
    claimed = stopping.claim(clock())
    sent_one = stopping.send(claimed[:1], clock())  # SIGTERM arrives while this row is being sent
    stopping.stop()
    report = stopping.send(claimed[1:], clock())
    assert (sent_one.sent, report.sent, report.released) == (1, 0, 2)
    assert stopping.claim(clock()) == [] and stopping.drain_all(clock()).sent == 0  # claims nothing more
    assert [r.claimed_until for r in rows(rt.ctx.engine) if r.status == OutboxStatus.PENDING] == [None, None]
    # Another replica sends them at once, without waiting for a lease to run out.
    assert OutboxWorker(rt.ctx, rt.client, worker_id="other").drain(clock()).sent == 2
    assert texts(standin) == ["hello 0", "hello 1", "hello 2"]


def test_two_workers_draining_together_never_send_a_row_twice(rt, standin, clock):
    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 40)
    fast = ChannelPacer(per_second=1000, burst=1000)
    workers = [OutboxWorker(rt.ctx, rt.client, worker_id=f"w{i}", pacer=fast) for i in range(2)]
    barrier = threading.Barrier(2)

    def run(worker):
        barrier.wait()
        for _ in range(10):
            worker.drain(clock(), limit=5)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = texts(standin)
    assert sorted(sent) == sorted(f"hello {i}" for i in range(40))
    assert len(set(sent)) == 40
    senders = {r.claimed_by for r in rows(rt.ctx.engine)}
    assert all(r.status == OutboxStatus.SENT for r in rows(rt.ctx.engine)), senders


def test_permanent_error_dead_letters_and_alerts_admins_once(rt, standin, clock):
    queue_texts(rt.ctx.engine, 2, channel="C0GONE")
    report = rt.worker.drain(clock())
    assert report.dead == 2
    dead = [r for r in rows(rt.ctx.engine) if r.status == OutboxStatus.DEAD]
    assert len(dead) == 2 and all("channel_not_found" in r.last_error for r in dead)
    rt.worker.drain(clock())
    alerts = [c for c in standin.ok_calls("chat.postMessage") if "could not deliver" in (c.params.get("text") or "")]
    assert len(alerts) == 1
    assert alerts[0].response["channel"] == standin.dm_channel_for("UADMIN")


def test_repeating_a_keyed_message_queues_it_once(rt):
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, Kind.TEXT, CHANNEL, {"text": "x"}, dedupe_key="once")
        enqueue(session, Kind.TEXT, CHANNEL, {"text": "x"}, dedupe_key="once")
        assert rows(rt.ctx.engine) == []  # queued rows are written at commit, last in the transaction
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, Kind.TEXT, CHANNEL, {"text": "x"}, dedupe_key="once")
    assert len(rows(rt.ctx.engine)) == 1
    with unit_of_work(rt.ctx.engine) as session:
        assert not enqueue_now(session, Kind.TEXT, CHANNEL, {"text": "x"}, dedupe_key="once")
        assert enqueue_now(session, Kind.TEXT, CHANNEL, {"text": "y"}, dedupe_key="twice")
    assert len(rows(rt.ctx.engine)) == 2


def test_pacer_allows_a_short_burst_then_one_per_second():
    slept = []
    now = [0.0]

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacer = ChannelPacer(per_second=1, burst=3, sleep=sleep, monotonic=lambda: now[0])
    for _ in range(6):
        pacer.wait("C1")
    pacer.wait("C2")
    assert slept == [1.0, 1.0, 1.0]


def test_metrics_count_deliveries_and_dead_letters(rt, standin, clock):
    from bot import metrics

    def value(counter, label):
        return counter.labels(label)._value.get()

    standin.add_channel(CHANNEL, name="team")
    sent, dead = value(metrics.OUTBOX_SENT, Kind.TEXT), value(metrics.OUTBOX_DEAD, "channel_not_found")
    queue_texts(rt.ctx.engine, 2)
    queue_texts(rt.ctx.engine, 1, channel="C0GONE")
    rt.worker.drain(clock())
    assert value(metrics.OUTBOX_SENT, Kind.TEXT) - sent == 2
    assert value(metrics.OUTBOX_DEAD, "channel_not_found") - dead == 1


def test_delivered_rows_nobody_needs_are_deleted_after_thirty_days(rt, standin, clock):
    from bot.ticks import run_tick

    standin.add_channel(CHANNEL, name="team")
    queue_texts(rt.ctx.engine, 2)  # plain notices: nothing refers to them once sent
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, Kind.TEXT, CHANNEL, {"text": "keyed"}, dedupe_key="notice:keyed")  # idempotency record
        enqueue(session, Kind.NUDGE, "U0NOBODY", {"items": []})  # a nudge: refreshes re-render the latest
    rt.worker.drain(clock())
    standin.fail_with("channel_not_found", method="chat.postMessage")
    queue_texts(rt.ctx.engine, 1, prefix="dead")
    rt.worker.drain(clock())  # a dead letter, kept for the operator
    before = {r.id: (r.kind, r.status, r.dedupe_key) for r in rows(rt.ctx.engine)}

    run_tick(rt.ctx, clock() + timedelta(days=29))
    assert {r.id for r in rows(rt.ctx.engine)} == set(before)
    run_tick(rt.ctx, clock() + timedelta(days=31))
    left = {r.id: (r.kind, r.status, r.dedupe_key) for r in rows(rt.ctx.engine)}
    assert sorted(left.values(), key=str) == sorted(
        [v for v in before.values() if v[2] or v[0] == Kind.NUDGE or v[1] != OutboxStatus.SENT], key=str)
    assert len(left) == len(before) - 2  # the two delivered notices
