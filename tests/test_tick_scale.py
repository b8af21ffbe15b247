"""A scheduler pass is set-based: its SQL does not grow with the number of launches,
and its due-row queries can use the partial indexes the migration creates."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text, update
from sqlmodel import select

from bot.db import unit_of_work
from bot.ticks import run_tick
from models import AuditEvent, Launch, OutboxMessage, UserProfile
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
    with unit_of_work(rt.ctx.engine) as session:  # start again from a clean ledger and outbox
        for table in ("nudge", "outboxmessage", "auditevent", "item", "gate", "launchrole", "launch"):
            session.execute(text(f"DELETE FROM {table}"))
    seed(rt, clock, more)
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
