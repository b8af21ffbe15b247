"""The daily digest in the launch channel: only when something changed or is overdue, once a
business day at 09:00 for the readiness lead (London), with progress per gate and overdue
items with their owners."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from bot.db import unit_of_work
from bot.ticks import run_tick
from models import ItemState, Launch, LaunchStatus
from tests.flows import deliver, events, items, open_launch_via_slack, prompt_for, text_of

UTC = timezone.utc


@pytest.fixture
def launch(standin, bot):
    return open_launch_via_slack(standin, bot)


def digests(standin, launch) -> list[dict]:
    return [m for m in standin.messages(launch.channel_id) if "Daily digest" in text_of(m)]


def tick(bot, when: datetime) -> None:
    run_tick(bot.rt.ctx, when)
    deliver(bot, now=when)


def london_nine(day) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=UTC)  # 09:00 BST


def test_no_digest_while_nothing_happens(standin, bot, launch, clock):
    for day in range(3, 7):  # Tue 3 – Fri 6 Aug, every hour
        for hour in range(24):
            tick(bot, datetime(2027, 8, day, hour, tzinfo=UTC))
    assert digests(standin, launch) == []


def test_a_change_brings_one_digest_the_next_morning(standin, bot, launch, clock):
    engine = bot.rt.ctx.engine
    target = items(engine, launch.id, owner_id="UWFM", answer_kind="confirm")[0]
    for hour in range(8, 15):  # Monday morning: nothing to say yet
        tick(bot, datetime(2027, 8, 2, hour, tzinfo=UTC))
    clock.set(datetime(2027, 8, 2, 15, 0, tzinfo=UTC))
    standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done", value=str(target.id))
    for hour in range(15, 24 + 24 + 24):  # Mon afternoon to Wed night
        tick(bot, datetime(2027, 8, 2, 0, tzinfo=UTC) + timedelta(hours=hour))
    (digest,) = digests(standin, launch)
    body = text_of(digest)
    assert "<@UWFM> answered" in body and "Progress by gate" in body
    assert "Discovery" in body and "Planning" in body
    assert "Overdue" not in body
    (event,) = events(engine, "digest.sent")
    assert event.at == datetime(2027, 8, 3, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in London


def test_overdue_items_bring_a_digest_every_business_day_with_owners(standin, bot, launch):
    engine = bot.rt.ctx.engine
    first_due = min(i.due_at for i in items(engine, launch.id))
    overdue = [i for i in items(engine, launch.id) if i.due_at == first_due]
    day = first_due.date() + timedelta(days=1)
    ticked = []
    for _ in range(7):  # a week of mornings after the first due date
        when = london_nine(day)
        tick(bot, when)
        tick(bot, when + timedelta(hours=3))  # a later tick the same day adds nothing
        ticked.append(day)
        day += timedelta(days=1)
    business = [d for d in ticked if d.weekday() < 5]
    posted = digests(standin, launch)
    assert len(posted) == len(business)
    body = text_of(posted[-1])
    assert f"Overdue ({len(overdue)})" in body
    for item in overdue:
        assert f"<@{item.owner_id}>" in body
    assert "business day" in body


def test_no_digest_for_a_launch_on_hold(standin, bot, launch):
    engine = bot.rt.ctx.engine
    with unit_of_work(engine) as session:
        row = session.get(Launch, launch.id)
        row.status = LaunchStatus.ON_HOLD
        session.add(row)
    first_due = min(i.due_at for i in items(engine, launch.id))
    tick(bot, london_nine(first_due.date() + timedelta(days=1)))
    assert digests(standin, launch) == []


def test_reminders_alone_are_not_a_change(standin, bot, launch):
    engine = bot.rt.ctx.engine
    first_nudge = min(i.next_nudge_at for i in items(engine, launch.id, state=ItemState.OPEN) if i.next_nudge_at)
    start = datetime.combine(first_nudge.date(), time(0, 0), tzinfo=UTC)
    for hour in range(0, 24 * 2):
        tick(bot, start + timedelta(hours=hour))
    assert events(engine, "nudge.sent")  # people were reminded…
    assert digests(standin, launch) == []  # …but nothing changed and nothing is overdue yet


def test_the_digest_names_waivers_in_words(standin, bot, launch, clock):
    from bot.services import waivers

    engine = bot.rt.ctx.engine
    target = items(engine, launch.id, owner_id="UWFM", answer_kind="confirm")[0]
    clock.set(datetime(2027, 8, 2, 15, 0, tzinfo=UTC))
    with unit_of_work(engine) as session:
        waivers.waive(session, target.id, "ULEAD", "Covered by the EU plan", None, now=clock(),
                      settings=bot.rt.ctx.settings)
    tick(bot, london_nine(datetime(2027, 8, 3)))
    (digest,) = digests(standin, launch)
    assert f"<@ULEAD> waived *{target.question}*" in text_of(digest)
