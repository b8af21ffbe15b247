"""Done and Reopen are saved before the ack and applied just after it (bot/listeners/clicks.py):
the ack never waits for the change, and a click taken is never lost — if its process stops
before applying it, the scheduler of any replica does, once, at the click's time."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.db import read_only
from bot.listeners import clicks as click_listener
from bot.services import clicks
from models import ItemState, PendingClick
from tests.conftest import PG_URL
from tests.flows import deliver, events, item, items, open_launch_via_slack, prompt_for
from tests.test_answers import first
from tests.test_votes_concurrency import all_at_once


@pytest.fixture
def launch(standin, bot):
    return open_launch_via_slack(standin, bot, markets=("GB",))


def waiting(engine) -> list[PendingClick]:
    with read_only(engine) as session:
        return list(session.exec(select(PendingClick).order_by(PendingClick.id)))


@pytest.fixture
def stopped_after_ack(bot, standin):
    """The process stops between the ack and the change: clicks are saved, never applied here."""
    bot.rt.apply_later = lambda job: None
    standin.settle_bot = None


def test_a_click_its_process_never_applied_is_applied_by_the_scheduler_at_the_click_time(
        standin, bot, launch, clock, stopped_after_ack):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    clicked_at = clock()
    resp = standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done",
                         value=str(target.id))
    assert resp.status_code == 200
    assert item(engine, target.id).state == ItemState.OPEN  # acked, not applied yet
    (saved,) = waiting(engine)
    assert (saved.action, saved.actor, saved.item_id) == ("item.done", "UWFM", target.id)

    clock.advance(seconds=30)
    assert click_listener.apply_due(bot.rt) == 0  # its own process still has time
    clock.advance(seconds=31)
    assert click_listener.apply_due(bot.rt) == 1
    done = item(engine, target.id)
    assert done.state == ItemState.DONE and done.answered_by == "UWFM" and done.answered_at == clicked_at
    (answered,) = [e for e in events(engine, "item.answered", launch_id=launch.id) if e.entity_id == target.id]
    assert answered.actor == "UWFM" and answered.at == clicked_at
    assert waiting(engine) == []
    clock.advance(minutes=10)
    assert click_listener.apply_due(bot.rt) == 0  # once
    deliver(bot)
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    controls = next(b for b in prompt["blocks"] if b.get("block_id") == f"item-{target.id}")
    assert controls["elements"][0]["text"]["text"] == "Edit answer"


def test_a_refused_click_applied_later_is_told_through_its_response_url(standin, bot, launch, clock,
                                                                        stopped_after_ack):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    standin.click(bot.url, "UOUTSIDER", prompt_for(standin, bot, launch.id, "UWFM"), "item.done",
                  value=str(target.id))
    assert standin.ephemerals(user="UOUTSIDER") == []
    clock.advance(minutes=2)
    assert click_listener.apply_due(bot.rt) == 1
    (refusal,) = standin.ephemerals(user="UOUTSIDER")
    assert "Only the item's owner" in refusal["text"]
    assert item(engine, target.id).state == ItemState.OPEN and waiting(engine) == []
    assert [e.actor for e in events(engine, "refused.item.answer", launch_id=launch.id)] == ["UOUTSIDER"]


def test_a_click_that_failed_is_tried_again_and_not_lost(standin, bot, launch, clock, monkeypatch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    real = clicks.ACTIONS["item.done"]
    monkeypatch.setitem(clicks.ACTIONS, "item.done", lambda *a, **kw: (_ for _ in ()).throw(OSError("db away")))
    resp = standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done",
                         value=str(target.id))
    assert resp.status_code == 200 and standin.ephemerals(user="UWFM") == []  # no error shown: it is kept
    assert item(engine, target.id).state == ItemState.OPEN and len(waiting(engine)) == 1
    monkeypatch.setitem(clicks.ACTIONS, "item.done", real)
    clock.advance(minutes=2)
    assert click_listener.apply_due(bot.rt) == 1
    assert item(engine, target.id).state == ItemState.DONE and waiting(engine) == []


def test_reopen_from_the_menu_is_saved_and_applied_too(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done", value=str(target.id))
    assert item(engine, target.id).state == ItemState.DONE
    deliver(bot)
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    standin.click(bot.url, "UWFM", prompt, "item.menu", value=f'{{"i": {target.id}, "op": "reopen"}}')
    assert item(engine, target.id).state == ItemState.OPEN
    assert [e.entity_id for e in events(engine, "item.reopened", launch_id=launch.id)] == [target.id]
    assert waiting(engine) == []


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
def test_the_ack_does_not_wait_for_a_busy_launch(standin, bot, launch):
    """Another command holds the launch row: the click is acked at once and applied when it is free."""
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    standin.settle_bot = None
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM launch WHERE id = :id FOR UPDATE"), {"id": launch.id})
        resp = standin.click(bot.url, "UWFM", prompt, "item.done", value=str(target.id))
        assert resp.status_code == 200
        assert item(engine, target.id).state == ItemState.OPEN and len(waiting(engine)) == 1
        holder.rollback()
    assert bot.rt.settle()
    assert item(engine, target.id).state == ItemState.DONE and waiting(engine) == []


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
def test_replicas_applying_the_same_clicks_at_once_apply_each_once(standin, bot, clock, stopped_after_ack):
    """Three schedulers find the same ten waiting clicks on two launches at the same moment."""
    engine = bot.rt.ctx.engine
    launches = [open_launch_via_slack(standin, bot, name=f"Launch {n}", markets=("GB",)) for n in range(2)]
    targets = [i for lch in launches for i in items(engine, lch.id, state=ItemState.OPEN, answer_kind="confirm")
               if i.owner_id][:10]
    for target in targets:
        standin.click(bot.url, target.owner_id, prompt_for(standin, bot, target.launch_id, target.owner_id),
                      "item.done", value=str(target.id))
    assert len(waiting(engine)) == len(targets)
    clock.advance(minutes=2)
    applied = all_at_once(3, lambda n: click_listener.apply_due(bot.rt))
    assert not [r for r in applied if isinstance(r, Exception)]
    assert sum(applied) == len(targets) and waiting(engine) == []
    answered = [e.entity_id for e in events(engine, "item.answered")]
    assert sorted(answered) == sorted(t.id for t in targets)


def test_shutdown_applies_the_clicks_already_acked(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    standin.settle_bot = None
    gate = threading.Event()
    bot.rt.apply_later(gate.wait)  # the click pool is busy with an earlier click
    standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done", value=str(target.id))
    assert item(engine, target.id).state == ItemState.OPEN
    gate.set()
    bot.rt.clicks.shutdown(wait=True)  # as `launchgate serve` stops
    assert item(engine, target.id).state == ItemState.DONE and waiting(engine) == []
