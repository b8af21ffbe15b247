"""Delegating an item: the owner (or the launch owner / a readiness lead) picks someone who may
answer it for them — end to end through Slack, plus the service's own rules."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import delegates, waivers
from bot.services.errors import FieldErrors, Forbidden
from bot.ticks import run_tick
from models import Item, ItemState
from tests.flows import (
    home_publishes,
    open_home,
    published_home,
    deliver,
    dms,
    events,
    item,
    items,
    menu_value,
    modal_values,
    open_launch_via_slack,
    open_modal,
    prompt_for,
    remembered,
    text_of,
)
from tests.gate_support import gate_at, open_launch, satisfy, vote

DELEGATE = "ULEAD2"  # new to the launch: no prompt of their own


@pytest.fixture
def launch(standin, bot):
    return open_launch_via_slack(standin, bot)


def wfm_item(engine, launch) -> Item:
    found = items(engine, launch.id, owner_id="UWFM", answer_kind="confirm", state=ItemState.OPEN)
    assert found, "the checklist gives workforce management a confirm item"
    return found[0]


def delegate_via_menu(standin, bot, actor: str, target: Item, person: str | None, launch, *,
                      then_deliver: bool = True) -> dict:
    """Pick Delegate… on the owner's prompt as `actor`, fill the modal, submit; returns the ack body."""
    resp = standin.click(bot.url, actor, prompt_for(standin, bot, launch.id, target.owner_id), "item.menu",
                         value=menu_value(target.id, "delegate"))
    assert resp.status_code == 200
    view = open_modal(standin, actor, "item_delegate")
    resp = standin.send_view_submission(bot.url, actor, "item_delegate",
                                        modal_values(view, {"user": person} if person else {}),
                                        view_id=view["id"])
    assert resp.status_code == 200
    if then_deliver:
        deliver(bot)
    return resp.json() if resp.content.strip() else {}


def delegate_dm(standin, bot, target: Item, person: str = DELEGATE) -> dict:
    ref = remembered(bot.rt.ctx.engine, f"delegated:{target.id}:{person}")
    assert ref is not None, f"{person} was never sent the delegation DM"
    (message,) = [m for m in standin.messages(ref.channel_id) if m["ts"] == ref.ts]
    return message


def controls(message: dict) -> str:
    return json.dumps([b for b in message["blocks"] if b["type"] == "actions"])


# -- end to end -------------------------------------------------------------------------------

def test_owner_delegates_and_the_delegate_answers_from_their_dm(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    owner_dms = len(dms(standin, "UWFM"))
    assert delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch) == {}

    assert item(engine, target.id).delegate_id == DELEGATE
    (event,) = events(engine, "item.delegated")
    assert event.actor == "UWFM" and event.entity_id == target.id
    assert event.before["delegate"] is None and event.after["delegate"] == DELEGATE
    assert event.before["owner"] == event.after["owner"] == "UWFM"
    (dm,) = dms(standin, DELEGATE)  # exactly one DM, and it says who, what, which launch, when
    body = text_of(dm)
    assert "<@UWFM> delegated their item" in body and "LR-1" in body and "Instant payouts" in body
    assert target.due_at.strftime("%d %b %Y") in body
    assert f'"item-{target.id}"' in controls(dm) and '"item.done"' in controls(dm)
    assert "Delegated to <@ULEAD2>" in text_of(prompt_for(standin, bot, launch.id, "UWFM"))
    assert len(dms(standin, "UWFM")) == owner_dms  # they did it themselves: the prompt updates, no note
    assert DELEGATE in standin.channel(launch.channel_id)["members"]

    standin.click(bot.url, DELEGATE, dm, "item.done", value=str(target.id))
    deliver(bot)
    answered = item(engine, target.id)
    assert answered.state == ItemState.DONE and answered.answered_by == DELEGATE
    updated = delegate_dm(standin, bot, target)
    assert updated["ts"] == dm["ts"] and len(dms(standin, DELEGATE)) == 1  # updated in place
    assert '"item.done"' not in controls(updated) and "Edit answer" in controls(updated)
    assert "✅" in text_of(prompt_for(standin, bot, launch.id, "UWFM"))

    # Saving the same delegate again changes and sends nothing.
    standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
                  value=menu_value(target.id, "delegate"))
    view = open_modal(standin, "UWFM", "item_delegate")
    user_input = next(b for b in view["blocks"] if b.get("block_id") == "user")
    assert user_input["element"]["initial_user"] == DELEGATE  # pre-filled
    standin.send_view_submission(bot.url, "UWFM", "item_delegate", modal_values(view, {"user": DELEGATE}),
                                 view_id=view["id"])
    deliver(bot)
    assert len(events(engine, "item.delegated")) == 1 and len(dms(standin, DELEGATE)) == 1


def test_a_lead_delegating_someone_elses_item_tells_the_owner(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    owner_dms = len(dms(standin, "UWFM"))
    delegate_via_menu(standin, bot, "ULEAD", target, DELEGATE, launch)

    assert "<@ULEAD> delegated <@UWFM>'s item" in text_of(delegate_dm(standin, bot, target))
    (note,) = dms(standin, "UWFM")[owner_dms:]
    assert "<@ULEAD> delegated" in text_of(note) and "<@ULEAD2>" in text_of(note)
    assert "keep getting its reminders" in text_of(note)


def test_outsiders_and_the_delegate_cannot_choose_the_delegate(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    standin.click(bot.url, "UOUTSIDER", prompt, "item.menu", value=menu_value(target.id, "delegate"))
    refusal = standin.wait_for(lambda: standin.ephemerals(user="UOUTSIDER"))
    assert "<@UWFM>" in refusal[0]["text"] and "readiness lead" in refusal[0]["text"]
    assert standin.views("UOUTSIDER") == []  # no modal opened
    (refused,) = events(engine, "refused.item.delegate")
    assert refused.actor == "UOUTSIDER" and refused.entity_id == target.id
    assert item(engine, target.id).delegate_id is None

    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    standin.click(bot.url, DELEGATE, delegate_dm(standin, bot, target), "item.menu",
                  value=menu_value(target.id, "delegate"))
    standin.wait_for(lambda: standin.ephemerals(user=DELEGATE))
    assert len(events(engine, "refused.item.delegate")) == 2


@pytest.mark.parametrize("person,needle", [("UBOT2", "not a bot"), ("UGONE", "deactivated"),
                                           ("UWFM", "own this item already")])
def test_bots_deactivated_accounts_and_the_owner_are_refused_in_the_modal(standin, bot, launch, person, needle):
    standin.add_user("UBOT2", tz="UTC", is_bot=True)
    standin.add_user("UGONE", tz="UTC")
    standin.deactivate_user("UGONE")
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    body = delegate_via_menu(standin, bot, "UWFM", target, person, launch)
    assert body["response_action"] == "errors" and needle in body["errors"]["user"]
    assert item(engine, target.id).delegate_id is None and events(engine, "item.delegated") == []


def test_the_delegate_answers_from_their_home_tab(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    home = open_home(standin, bot, DELEGATE)
    assert "Your open items (1)" in text_of(home) and "Delegated to you by <@UWFM>" in text_of(home)

    publishes = home_publishes(standin, DELEGATE)
    standin.click(bot.url, DELEGATE, home, "item.done", value=str(target.id))
    assert item(engine, target.id).state == ItemState.DONE and item(engine, target.id).answered_by == DELEGATE
    assert "Your open items (0)" in text_of(published_home(standin, bot, DELEGATE, after=publishes))


def test_removing_the_delegate_takes_away_their_right_to_answer(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    stale_dm = delegate_dm(standin, bot, target)
    stale_home = open_home(standin, bot, DELEGATE)  # opened before the removal
    # Removed; the Home refresh has not gone out yet when the old delegate clicks Done there.
    assert delegate_via_menu(standin, bot, "UWFM", target, None, launch, then_deliver=False) == {}
    standin.click(bot.url, DELEGATE, stale_home, "item.done", value=str(target.id))
    refusal = standin.wait_for(lambda: standin.ephemerals(user=DELEGATE))
    assert "Only the item's owner (<@UWFM>)" in refusal[0]["text"]
    assert item(engine, target.id).state == ItemState.OPEN
    assert [e.actor for e in events(engine, "refused.item.answer")] == [DELEGATE]
    deliver(bot)

    assert item(engine, target.id).delegate_id is None
    removed = events(engine, "item.delegated")[-1]
    assert removed.before["delegate"] == DELEGATE and removed.after["delegate"] is None
    now_dm = delegate_dm(standin, bot, target)
    assert now_dm["ts"] == stale_dm["ts"] and "no longer delegated to you" in text_of(now_dm)
    assert controls(now_dm) == "[]" and len(dms(standin, DELEGATE)) == 1
    assert "Delegated to" not in text_of(prompt_for(standin, bot, launch.id, "UWFM"))
    assert "item.done" not in json.dumps(standin.home_view(DELEGATE))  # their open Home tab caught up
    timeline = json.dumps(standin.send_slash_command(bot.url, text="timeline LR-1", user_id="ULEAD").json())
    assert "delegated" in timeline and "removed the delegate" in timeline


def test_reassigning_clears_the_delegate_and_tells_them(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    standin.click(bot.url, "ULEAD", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
                  value=menu_value(target.id, "reassign"))
    view = open_modal(standin, "ULEAD", "item_reassign")
    standin.send_view_submission(bot.url, "ULEAD", "item_reassign", modal_values(view, {"user": "UTRAIN"}),
                                 view_id=view["id"])
    deliver(bot)
    assert item(engine, target.id).owner_id == "UTRAIN" and item(engine, target.id).delegate_id is None
    assert "no longer delegated to you" in text_of(delegate_dm(standin, bot, target))
    (event,) = events(engine, "item.reassigned")
    assert event.before["delegate"] == DELEGATE and event.after["delegate"] is None


def test_reminders_still_go_to_the_owner(standin, bot, launch, clock):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    clock.set(item(engine, target.id).next_nudge_at + timedelta(hours=15))  # 10–11:00 in New York
    run_tick(bot.rt.ctx, clock())
    deliver(bot)
    nudges = [m for m in dms(standin, "UWFM") if "⏰" in text_of(m)]
    assert nudges and f"item-{target.id}" in json.dumps(nudges[-1]["blocks"])
    assert "Delegated to <@ULEAD2>" in text_of(nudges[-1])
    assert not [m for m in dms(standin, DELEGATE) if "⏰" in text_of(m)]


def test_the_delegate_dm_follows_a_waiver_and_the_launch_being_killed(standin, bot, launch, clock):
    engine = bot.rt.ctx.engine
    target = wfm_item(engine, launch)
    delegate_via_menu(standin, bot, "UWFM", target, DELEGATE, launch)
    dm = delegate_dm(standin, bot, target)
    assert '"item.done"' in controls(dm)
    with unit_of_work(engine) as session:
        waivers.waive(session, target.id, "ULEAD", "Covered by the global brief", None, now=clock(),
                      settings=bot.rt.ctx.settings)
    deliver(bot)
    waived = delegate_dm(standin, bot, target)
    assert waived["ts"] == dm["ts"] and len(dms(standin, DELEGATE)) == 1  # updated in place
    assert '"item.done"' not in controls(waived) and "waived: Covered by the global brief" in text_of(waived)

    satisfy(bot.rt, clock, launch.id, 0)
    vote(bot.rt, clock, gate_at(bot.rt, launch.id, 0), "ULEAD", "kill", reason="Market withdrawn")
    deliver(bot)
    closed = delegate_dm(standin, bot, target)
    assert closed["ts"] == dm["ts"] and controls(closed) == "[]" and "cancelled" in text_of(closed).lower()


# -- the service on its own -------------------------------------------------------------------

def test_service_checks_who_may_delegate_before_changing_anything(rt, clock):
    launch_id = open_launch(rt, clock)
    with unit_of_work(rt.ctx.engine) as session:
        target = session.exec(select(Item).where(Item.launch_id == launch_id, Item.owner_id == "UWFM")).first()
    for actor in ("UOUTSIDER", "UTRAIN"):
        with pytest.raises(Forbidden), unit_of_work(rt.ctx.engine) as session:
            delegates.set_delegate(session, target.id, "UKB", actor=actor, now=clock())
    with pytest.raises(FieldErrors), unit_of_work(rt.ctx.engine) as session:
        delegates.set_delegate(session, target.id, "UWFM", actor="UPM", now=clock())
    with unit_of_work(rt.ctx.engine) as session:
        assert session.get(Item, target.id).delegate_id is None
        assert delegates.set_delegate(session, target.id, None, actor="UWFM", now=clock()) is False
        assert delegates.set_delegate(session, target.id, "UKB", actor="UPM", now=clock()) is True
    with unit_of_work(rt.ctx.engine) as session:
        assert delegates.set_delegate(session, target.id, "UKB", actor="ULEAD", now=clock()) is False
        assert session.get(Item, target.id).delegate_id == "UKB"
    refused = [e for e in events(rt.ctx.engine) if e.action == "refused.item.delegate"]
    assert [e.actor for e in refused] == ["UOUTSIDER", "UTRAIN"]
    assert len(events(rt.ctx.engine, "item.delegated")) == 1
