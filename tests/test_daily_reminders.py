"""People, not launches: one reminder and one escalation per person and day, across every launch
they are in, grouped by launch inside (most urgent first), folded to fit Slack's limits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import escalations, reminders as nudging
from bot.services.outbox import Kind
from bot.ticks import run_tick as full_tick
from models import Item, Launch, Nudge, OutboxMessage, OutboxStatus, UserProfile
from tests.conftest import PEOPLE
from tests.flows import deliver, dms, events, menu_value, modal_values, open_home, open_modal, outbox, text_of
from tests.gate_support import open_launch

# Monday 20 Sep 2027, 10:00 UTC: Discovery items of a 15 Nov launch are due and overdue.
BUSY = datetime(2027, 9, 20, 10, 0, tzinfo=timezone.utc)
BUSY_NY = datetime(2027, 9, 20, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York


def seed(bot, clock, count: int, **kwargs) -> list[int]:
    """`count` launches with their channels, every opening message already delivered."""
    engine = bot.rt.ctx.engine
    with unit_of_work(engine) as session:
        for user, tz in PEOPLE.items():
            session.merge(UserProfile(user_id=user, tz=tz, fetched_at=clock()))
    ids = [open_launch(bot.rt, clock, markets=("GB",), name=f"Launch {n:02d}", **kwargs) for n in range(count)]
    with unit_of_work(engine) as session:
        for n, launch_id in enumerate(ids):
            session.execute(update(Launch).where(Launch.id == launch_id).values(channel_id=f"CLAUNCH{n}"))
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
    return ids


def tick(bot, clock, now):
    """The reminder steps of a pass at `now` (these tests' launch channels exist only by id), delivered."""
    clock.set(now)
    full_tick(bot.rt.ctx, now, steps=(nudging.send_nudges, escalations.send_escalations))
    deliver(bot, now=now)


def reminders(standin, user: str, marker: str = "⏰") -> list[dict]:
    return [m for m in dms(standin, user) if marker in text_of(m)]


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_a_person_in_forty_launches_gets_one_reminder_that_fits(standin, bot, clock):
    ids = seed(bot, clock, 40)
    engine = bot.rt.ctx.engine
    for now in (BUSY_NY, BUSY_NY.replace(minute=1)):  # a second pass (or replica) the same day adds nothing
        tick(bot, clock, now)
    (message,) = reminders(standin, "UMKT")
    blocks = message["blocks"]
    assert len(blocks) <= 50 and all(len(text) <= 3000 for text in sections(message))
    launches_shown = [b["block_id"] for b in blocks if b.get("block_id", "").startswith("daily-") and
                      b["block_id"] != "daily-home"]
    assert len(launches_shown) == 8
    assert "…and 32 more launches" in text_of(message) and "Home" in text_of(message)
    assert "in 40 launches need your answer" in message["text"]
    # The per-launch ledger keeps its guarantee: each launch is claimed once for the person today.
    with unit_of_work(engine) as session:
        claims = session.exec(select(Nudge.launch_id).where(Nudge.user_id == "UMKT", Nudge.kind == "nudge")).all()
    assert sorted(claims) == ids
    assert len([e for e in events(engine, "nudge.sent") if e.after["to"] == "UMKT"]) == 40
    assert [r.kind for r in outbox(engine) if r.recipient == "UMKT" and r.kind.startswith("nudge")] == [Kind.NUDGE_DAY]


def test_the_grouped_reminder_puts_the_most_urgent_launch_first(standin, bot, clock):
    first, second = seed(bot, clock, 2)
    engine = bot.rt.ctx.engine
    with unit_of_work(engine) as session:  # the second launch's items are a week more overdue
        for row in session.exec(select(Item).where(Item.launch_id == second, Item.owner_id == "UMKT")):
            row.due_at -= timedelta(days=7)
            session.add(row)
    tick(bot, clock, BUSY_NY)
    (message,) = reminders(standin, "UMKT")
    order = [b["block_id"] for b in message["blocks"] if b.get("block_id", "").startswith("daily-")]
    assert order[:2] == [f"daily-{second}", f"daily-{first}"]
    assert "overdue" in sections(message)[1]
    assert "daily-home" in order and "more launches" not in text_of(message)


def test_one_launch_still_gets_its_own_nudge_with_controls(standin, bot, clock):
    seed(bot, clock, 1)
    tick(bot, clock, BUSY_NY)
    (message,) = reminders(standin, "UMKT")
    assert "item.done" in text_of(message) or "item.answer" in text_of(message)


def test_a_lead_gets_one_escalation_a_day_across_launches(standin, bot, clock):
    ids = seed(bot, clock, 5)
    engine = bot.rt.ctx.engine
    for now in (BUSY, BUSY.replace(hour=11)):
        tick(bot, clock, now)
    (message,) = reminders(standin, "ULEAD", "🚨")
    assert len(message["blocks"]) <= 50
    assert all(f"daily-{i}" in text_of(message) for i in ids)
    assert "as readiness lead" in text_of(message)
    # The owner, too: one message whatever the number of launches (Paris, 4 business days overdue).
    assert len(reminders(standin, "UPM", "🚨")) <= 1
    with unit_of_work(engine) as session:
        levels = set(session.exec(select(Item.escalation_level).where(Item.due_at < BUSY - (BUSY - BUSY.replace(
            day=15)), Item.state == "open", Item.required.is_(True))).all())
    assert 0 not in levels  # every long-overdue item reached the lead
    assert len(events(engine, "escalation.sent")) >= 5


def test_the_grouped_reminder_is_brought_up_to_date_in_place(standin, bot, clock):
    first, second = seed(bot, clock, 2)
    tick(bot, clock, BUSY_NY)
    (message,) = reminders(standin, "UMKT")
    assert f"daily-{first}" in text_of(message) and f"daily-{second}" in text_of(message)
    engine = bot.rt.ctx.engine
    shown = [i for i in _open_items(engine, "UMKT") if f"daily-{i.launch_id}" in text_of(message)]
    for target in [i for i in shown if i.launch_id == first]:  # answered from the Home tab
        home = open_home(standin, bot, "UMKT")
        standin.click(bot.url, "UMKT", home, "item.menu", value=menu_value(target.id, "na"))
        view = open_modal(standin, "UMKT", "item_reason")
        standin.send_view_submission(bot.url, "UMKT", "item_reason", modal_values(view, {"reason": "Not in GB"}),
                                     view_id=view["id"])
    deliver(bot, now=clock())
    (updated,) = reminders(standin, "UMKT")
    assert updated["ts"] == message["ts"] and "edited" in updated
    assert f"daily-{first}" not in text_of(updated) and f"daily-{second}" in text_of(updated)


def _open_items(engine, owner: str) -> list[Item]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(Item).where(Item.owner_id == owner, Item.state == "open").order_by(Item.id)))
