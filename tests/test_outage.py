"""A long Slack outage loses nothing and duplicates nothing (issue 12, point 1).

Virtual time: the worker drains at each reading of the test clock, as
`launchgate tick --at` does, every 15 s of a 20-minute run of 503s.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.db import unit_of_work
from bot.delivery.worker import OutboxWorker
from bot.services.outbox import Kind, enqueue
from bot.ticks import run_tick
from models import OutboxMessage, OutboxStatus
from sqlmodel import select
from tests.flows import launch_form

STEP = timedelta(seconds=15)


def outbox_rows(engine):
    with unit_of_work(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def tick(rt, clock):
    run_tick(rt.ctx, clock())
    return rt.worker.drain_all(clock())


def test_twenty_minute_outage_delivers_everything_once_within_a_minute_of_recovery(bot, standin, clock):
    rt = bot.rt
    start = clock()
    opened = 0
    while clock() < start + timedelta(minutes=20):
        if clock() - start in (timedelta(0), timedelta(minutes=7), timedelta(minutes=15)):
            name = f"Outage launch {opened}"
            resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form(name=name))
            assert resp.status_code == 200 and not resp.content.strip(b"{} \n"), resp.text
            opened += 1
            if opened == 1:  # the bot was up (Bolt's one auth.test done) when Slack went down
                standin.fail_next(10**9, status=503)
                before_outage = len(standin.calls)
        tick(rt, clock)
        clock.advance(seconds=STEP.total_seconds())
    assert opened == 3
    assert not [c for c in standin.calls[before_outage:] if c.ok], "Slack was down; nothing went through"
    assert not [r for r in outbox_rows(rt.ctx.engine) if r.status == OutboxStatus.DEAD]

    standin.recover()
    recovered_at = clock()
    first_ok = None
    while clock() < recovered_at + timedelta(minutes=10):
        tick(rt, clock)
        if first_ok is None and any(c.ok for c in standin.calls[before_outage:]):
            first_ok = clock()
        clock.advance(seconds=STEP.total_seconds())

    assert first_ok is not None and first_ok - recovered_at <= timedelta(minutes=1)
    rows = outbox_rows(rt.ctx.engine)
    assert Counter(r.status for r in rows if r.kind != Kind.ADMIN_ALERT) == {OutboxStatus.SENT: len(
        [r for r in rows if r.kind != Kind.ADMIN_ALERT])}
    # Every launch has its channel, status card and one intro DM per stakeholder — never two.
    creates = [c for c in standin.calls if c.method == "conversations.create" and c.ok]
    assert len(creates) == 3
    for create in creates:
        channel = create.response["channel"]["id"]
        cards = [m for m in standin.messages(channel) if "LR-" in m.get("text", "")]
        assert len(cards) >= 1
    posts = Counter((c.params.get("channel"), c.params.get("text")) for c in standin.calls
                    if c.method == "chat.postMessage" and c.ok)
    assert posts and max(posts.values()) == 1, [k for k, v in posts.items() if v > 1]
    intro_rows = [r for r in rows if r.kind == Kind.INTRO_DM]
    assert intro_rows and all(r.status == OutboxStatus.SENT for r in intro_rows)


def test_transient_errors_retry_for_the_budget_then_dead_letter(rt, standin, clock):
    standin.add_channel("C0TEAM", name="team")
    with unit_of_work(rt.ctx.engine) as session:
        enqueue(session, Kind.TEXT, "C0TEAM", {"text": "hello"}, now=clock())
    standin.fail_next(10**9, status=502)
    start = clock()
    while clock() < start + timedelta(hours=23, minutes=50):
        rt.worker.drain(clock())
        clock.advance(minutes=5)
    (row,) = [r for r in outbox_rows(rt.ctx.engine) if r.kind == Kind.TEXT]
    assert row.status == OutboxStatus.PENDING  # still trying near the end of the budget
    while row.status == OutboxStatus.PENDING and clock() < start + timedelta(hours=25):
        rt.worker.drain(clock())
        (row,) = [r for r in outbox_rows(rt.ctx.engine) if r.kind == Kind.TEXT]
        clock.advance(minutes=5)
    assert row.status == OutboxStatus.DEAD and "gave up after 24 h" in row.last_error


def test_only_one_row_probes_slack_while_it_is_down(rt, standin, clock):
    """Backed-off rows wait minutes apart, but one row is tried at least every minute,
    and its success after recovery brings the others forward."""
    standin.add_channel("C0TEAM", name="team")
    with unit_of_work(rt.ctx.engine) as session:
        for i in range(20):
            enqueue(session, Kind.TEXT, "C0TEAM", {"text": f"n{i}"}, now=clock())
    standin.fail_next(10**9, status=503)
    start = clock()
    while clock() < start + timedelta(minutes=30):
        rt.worker.drain_all(clock())
        clock.advance(seconds=10)
    late = [c for c in standin.calls if c.method == "chat.postMessage"]
    calls_in_last_ten_minutes = len(late)  # cumulative; compare with a window below
    before = calls_in_last_ten_minutes
    window_start = clock()
    while clock() < window_start + timedelta(minutes=10):
        rt.worker.drain_all(clock())
        clock.advance(seconds=10)
    in_window = len([c for c in standin.calls if c.method == "chat.postMessage"]) - before
    # 20 rows at a 5-minute cap try about 40-80 times in 10 minutes; not once every 10 s each (1,200).
    assert 10 <= in_window <= 100
    standin.recover()
    recovered = clock()
    while clock() < recovered + timedelta(minutes=2):
        rt.worker.drain_all(clock())
        clock.advance(seconds=10)
    assert sorted(m["text"] for m in standin.messages("C0TEAM")) == sorted(f"n{i}" for i in range(20))
