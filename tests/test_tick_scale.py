"""A scheduler pass is set-based: its SQL does not grow with the number of launches,
and its due-row queries can use the partial indexes the migration creates."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, text, update
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import digest, escalations, reminders, tick_batches, waivers
from bot.ticks import run_tick
from models import AuditEvent, Item, Launch, OutboxMessage, UserProfile
from tests.conftest import PEOPLE, PG_URL
from tests.gate_support import open_launch

# Monday 20 Sep 2027, 10:00 UTC: Discovery items of a 15 Nov launch are due and overdue
# (nudges, escalations to the lead and the owner, a digest with overdue items).
BUSY = datetime(2027, 9, 20, 10, 0, tzinfo=timezone.utc)


def seed(rt, clock, count: int) -> None:
    with unit_of_work(rt.ctx.engine) as session:
        for user, tz in PEOPLE.items():
            session.merge(UserProfile(user_id=user, tz=tz, fetched_at=clock()))
    for n in range(count):
        launch_id = open_launch(rt, clock, markets=("GB",), name=f"Launch {n}")
        with unit_of_work(rt.ctx.engine) as session:
            session.execute(update(Launch).where(Launch.id == launch_id).values(channel_id=f"CLAUNCH{n}"))


def seed_again(rt, clock, count: int) -> None:
    """Forget every launch, reminder, message and audit event, then seed `count` launches afresh."""
    with unit_of_work(rt.ctx.engine) as session:
        for table in ("nudge", "outboxmessage", "auditevent", "item", "gate", "launchrole", "launch"):
            session.execute(text(f"DELETE FROM {table}"))
    seed(rt, clock, count)


def counted_pass(rt, at: datetime) -> tuple[int, Counter]:
    """Statements of one pass, and what it did: outbox rows by kind, and reminders (audit
    events) by action — one message per person a day, so messages stop growing, events do not."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with unit_of_work(rt.ctx.engine) as session:
        before = session.exec(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())).first() or 0
    event.listen(rt.ctx.engine, "before_cursor_execute", count)
    try:
        run_tick(rt.ctx, at)
    finally:
        event.remove(rt.ctx.engine, "before_cursor_execute", count)
    with unit_of_work(rt.ctx.engine) as session:
        kinds = Counter(session.exec(select(OutboxMessage.kind).where(OutboxMessage.id > before)).all())
        kinds.update(session.exec(select(AuditEvent.action).where(AuditEvent.action.in_(
            ["nudge.sent", "escalation.sent"]))).all())
        people = Counter(session.exec(select(OutboxMessage.recipient).where(
            OutboxMessage.id > before, OutboxMessage.kind.in_(["nudge", "nudge_day"]))).all())
    assert set(people.values()) == {1}  # one reminder per person, however many launches they are in
    return len(statements), kinds


@pytest.mark.parametrize("more", [6])
def test_a_busy_pass_issues_as_many_statements_for_many_launches_as_for_few(rt, clock, more):
    seed(rt, clock, 2)
    few, few_kinds = counted_pass(rt, BUSY)
    seed_again(rt, clock, more)  # start again from a clean ledger and outbox
    many, many_kinds = counted_pass(rt, BUSY)
    assert few_kinds["nudge.sent"] > 0 and few_kinds["escalation.sent"] > 0 and few_kinds["digest"] == 2
    per_launch = ("nudge.sent", "escalation.sent", "digest")
    assert {k: few_kinds[k] * more // 2 for k in per_launch} == {k: many_kinds[k] for k in per_launch}  # 3× the work…
    assert many == few  # …in the same statements


NUDGE_QUERY = """EXPLAIN SELECT item.id FROM item JOIN launch ON launch.id = item.launch_id
WHERE launch.status = 'open' AND item.state = 'open' AND item.required IS true AND item.owner_id IS NOT NULL
AND item.next_nudge_at IS NOT NULL AND item.next_nudge_at <= '2027-09-21 00:00+00'"""
ESCALATION_QUERY = """EXPLAIN SELECT item.id FROM item JOIN launch ON launch.id = item.launch_id
WHERE launch.status = 'open' AND item.state IN ('open', 'blocked') AND item.required IS true
AND item.due_at < '2027-09-20 10:00+00' AND item.escalation_level < 2"""
OUTBOX_QUERY = """EXPLAIN SELECT id FROM outboxmessage WHERE status = 'pending'
AND next_attempt_at <= '2027-09-20 10:00+00' ORDER BY id LIMIT 50"""


@pytest.mark.skipif(not PG_URL, reason="EXPLAIN plans are PostgreSQL's")
@pytest.mark.parametrize(("query", "index"), [(NUDGE_QUERY, "ix_item_nudge_due"),
                                              (ESCALATION_QUERY, "ix_item_escalation_due"),
                                              (OUTBOX_QUERY, "ix_outboxmessage_due")])
def test_due_row_queries_can_use_the_partial_indexes(rt, clock, query, index):
    seed(rt, clock, 1)
    with rt.ctx.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # a seeded test table is tiny: ask what *can* be used
        plan = "\n".join(conn.execute(text(query)).scalars())
    assert index in plan, plan


def outcome(rt) -> Counter:
    """What the people were sent, and what the audit trail says, however many passes it took."""
    with unit_of_work(rt.ctx.engine) as session:
        done = Counter((row.recipient, row.kind) for row in session.exec(select(OutboxMessage)).all())
        done.update(session.exec(select(AuditEvent.action).where(AuditEvent.action.in_(
            ["nudge.sent", "escalation.sent", "digest.sent"]))).all())
    return done


def test_a_pass_out_of_time_leaves_the_rest_to_the_next_which_goes_on_where_it_stopped(rt, clock, monkeypatch):
    monkeypatch.setattr(tick_batches, "BATCH_ROWS", 1)      # one person a batch
    monkeypatch.setattr(tick_batches, "BATCH_LAUNCHES", 1)  # one launch a digest batch
    seed(rt, clock, 3)
    passes, report = [], None
    while report is None or report.unfinished:
        report = run_tick(rt.ctx, BUSY, budget=0, resume=report.resume if report else None)  # spent at once
        passes.append(list(report.unfinished))
        assert len(passes) < 50
    budgeted = outcome(rt)
    assert len(passes) > 3 and passes[0] == ["reminders", "escalations", "digests"] and passes[-1] == []
    seed_again(rt, clock, 3)  # the same launches again, done by one pass with no budget
    assert not run_tick(rt.ctx, BUSY).unfinished
    whole = outcome(rt)
    assert whole["nudge.sent"] and whole["escalation.sent"] and whole["digest.sent"] == 3
    assert budgeted == whole  # everyone told once, of the same things: only spread over passes
    reminders_sent = [n for key, n in whole.items() if isinstance(key, tuple) and key[1] in ("nudge", "nudge_day")]
    assert reminders_sent and set(reminders_sent) == {1}  # one a person


def test_a_quiet_pass_reads_no_launch_for_its_digest_nor_items_that_are_not_escalating_yet(rt, clock):
    seed(rt, clock, 2)
    with unit_of_work(rt.ctx.engine) as session:  # one item due an hour ago: the lead hears of it in 2 business days
        item = session.exec(select(Item).where(Item.state == "open", Item.required.is_(True),
                                               Item.due_at > BUSY).order_by(Item.id)).first()
        item.due_at = item.escalate_at = BUSY.replace(hour=9)
        fresh = item.id
    run_tick(rt.ctx, BUSY)
    with unit_of_work(rt.ctx.engine) as session:
        launches = session.exec(select(Launch)).all()
        # decided today: the lead (London) is next considered at 09:00 London tomorrow, 08:00 UTC
        assert {launch.digest_due_at for launch in launches} == {datetime(2027, 9, 21, 8, 0, tzinfo=timezone.utc)}
        # due Monday: Wednesday in London (midnight BST, 23:00 UTC the day before) is the first day it can escalate
        assert session.get(Item, fresh).escalate_at == datetime(2027, 9, 21, 23, 0, tzinfo=timezone.utc)
        assert session.get(Item, fresh).escalation_level == 0
    later = BUSY.replace(hour=11)
    with unit_of_work(rt.ctx.engine) as session:
        assert session.exec(select(func.count()).select_from(Item).where(Item.escalate_at <= later)).one() == 0
        queued = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        # …and the two steps' due-row queries find nothing to read
        assert session.exec(select(Launch.id).where(*digest._digestible(), digest._due(later))).all() == []
        assert session.exec(select(Item.id).join(Launch, Launch.id == Item.launch_id)
                            .where(*escalations._overdue(later))).all() == []
    run_tick(rt.ctx, later)
    with unit_of_work(rt.ctx.engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == queued  # an hour later: nothing


BAD_PLANS = ("SCAN item", "SCAN launch", "ix_item_state", "ix_launch_status (status=?)")


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's query planner")
def test_on_sqlite_no_scheduler_query_reads_every_open_item_or_launch(rt, clock):
    """SQLite keeps no statistics and cannot match a partial index's WHERE to bound parameters:
    it once read every open item (through the item.state index) to find the few due ones."""
    seed(rt, clock, 2)
    seen = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "item" in statement:
            seen.append((statement, parameters))

    event.listen(rt.ctx.engine, "before_cursor_execute", grab)
    try:
        run_tick(rt.ctx, BUSY, steps=(reminders.send_nudges, escalations.send_escalations, digest.send_digests,
                                      waivers.expire_waivers))
    finally:
        event.remove(rt.ctx.engine, "before_cursor_execute", grab)
    assert len(seen) >= 5
    with rt.ctx.engine.connect() as conn:
        plans = {statement: [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
                 for statement, params in seen}
    bad = {statement: plan for statement, plan in plans.items() if any(b in line for line in plan for b in BAD_PLANS)}
    assert not bad, bad


@pytest.mark.skipif(not PG_URL, reason="two replicas' schedulers share a database on PostgreSQL")
def test_two_replicas_running_budgeted_passes_at_once_tell_everyone_once(rt, clock, monkeypatch):
    """Each replica's scheduler runs its own passes (its own resume point) over the same due rows at
    the same moment: between them everyone is told exactly what one pass would have told them."""
    from tests.test_votes_concurrency import all_at_once

    monkeypatch.setattr(tick_batches, "BATCH_ROWS", 1)
    monkeypatch.setattr(tick_batches, "BATCH_LAUNCHES", 1)
    seed(rt, clock, 3)

    def replica(_):
        report = None
        for _ in range(60):
            report = run_tick(rt.ctx, BUSY, budget=0, resume=report.resume if report else None)
            if not report.unfinished:
                return True
        return False

    assert all_at_once(2, replica) == [True, True]
    together = outcome(rt)
    seed_again(rt, clock, 3)
    run_tick(rt.ctx, BUSY)
    alone = outcome(rt)
    assert alone["nudge.sent"] and alone["escalation.sent"] and alone["digest.sent"] == 3
    assert together == alone
