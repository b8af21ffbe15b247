"""Answering checklist items from the live prompt DM: every answer kind, validation in the
modal, edits with before/after, who may answer, reassigning — end to end through Slack."""
from __future__ import annotations

import json

import pytest

from bot.db import unit_of_work
from bot.services import answer_values
from bot.services.errors import FieldErrors
from models import Item, ItemState, Launch, LaunchStatus
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
    text_of,
)


@pytest.fixture
def launch(standin, bot):
    return open_launch_via_slack(standin, bot)


@pytest.fixture
def gate_calls(monkeypatch):
    """Every call of the gates hook (the gates issue reviews gates behind it)."""
    from bot.services import gates

    calls = []
    monkeypatch.setattr(gates, "items_changed", lambda session, launch, gate_ids, *, actor, now:
                        calls.append((launch.id, list(gate_ids), actor)))
    return calls


def first(engine, launch, **where) -> Item:
    found = items(engine, launch.id, state=ItemState.OPEN, **where)
    assert found, f"no open item with {where}"
    return found[0]


def card(standin, launch) -> dict:
    """The launch's status card (the one message in its channel)."""
    (message,) = standin.messages(launch.channel_id)
    return message


def click(standin, bot, user, message, action, value):
    resp = standin.click(bot.url, user, message, action, value=value)
    assert resp.status_code == 200
    return resp


def submit(standin, bot, user, callback_id, entries):
    view = open_modal(standin, user, callback_id)
    return standin.send_view_submission(bot.url, user, callback_id, modal_values(view, entries),
                                        view_id=view["id"])


# -- confirm items ------------------------------------------------------------------------

def test_done_updates_the_prompt_in_place_the_status_card_and_the_audit(standin, bot, launch, gate_calls):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    before_card = text_of(card(standin, launch))
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    click(standin, bot, "UWFM", prompt, "item.done", str(target.id))
    deliver(bot)

    assert item(engine, target.id).state == ItemState.DONE
    assert item(engine, target.id).answered_by == "UWFM"
    after = prompt_for(standin, bot, launch.id, "UWFM")
    assert after["ts"] == prompt["ts"] and "edited" in after  # chat.update, not a new message
    assert len(dms(standin, "UWFM")) == 1
    controls = next(b for b in after["blocks"] if b.get("block_id") == f"item-{target.id}")
    assert [e.get("text", {}).get("text") for e in controls["elements"]][0] == "Edit answer"
    assert text_of(card(standin, launch)) != before_card  # the status card moved on
    (event,) = events(engine, "item.answered")
    assert event.actor == "UWFM" and event.entity_id == target.id
    assert event.before["state"] == "open" and event.after["state"] == "done"
    assert gate_calls == [(launch.id, [target.gate_id], "UWFM")]


def test_clicking_done_twice_records_it_once(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    click(standin, bot, "UWFM", prompt, "item.done", str(target.id))
    click(standin, bot, "UWFM", prompt, "item.done", str(target.id))  # the old message, clicked again
    assert len(events(engine, "item.answered")) == 1


@pytest.mark.parametrize("op,state,action", [("na", ItemState.NA, "item.marked_na"),
                                             ("blocked", ItemState.BLOCKED, "item.marked_blocked")])
def test_not_applicable_and_blocked_need_a_reason(standin, bot, launch, op, state, action):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    click(standin, bot, "UWFM", prompt, "item.menu", menu_value(target.id, op))
    modal = open_modal(standin, "UWFM", "item_reason")
    assert json.loads(modal["private_metadata"])["i"] == target.id
    resp = submit(standin, bot, "UWFM", "item_reason", {"reason": "   "})
    assert resp.json()["response_action"] == "errors" and "reason" in resp.json()["errors"]
    assert item(engine, target.id).state == ItemState.OPEN

    resp = submit(standin, bot, "UWFM", "item_reason", {"reason": "<!channel> waiting on legal"})
    assert not resp.content.strip(b"{} \n")  # closes the modal
    deliver(bot)
    saved = item(engine, target.id)
    assert saved.state == state and saved.note == "<!channel> waiting on legal"
    (event,) = events(engine, action)
    assert event.after["note"] == "<!channel> waiting on legal"
    prompt = text_of(prompt_for(standin, bot, launch.id, "UWFM"))
    assert "&lt;!channel&gt; waiting on legal" in prompt
    assert not any(c.mentions_broadcast for c in standin.calls)


def test_confirm_edit_modal_can_reopen_an_answered_item(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done", str(target.id))
    deliver(bot)
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.answer", str(target.id))
    modal = open_modal(standin, "UWFM", "item_answer")
    status = next(b for b in modal["blocks"] if b["block_id"] == "status")
    assert status["element"]["initial_option"]["value"] == "done"  # pre-filled with the current answer
    resp = submit(standin, bot, "UWFM", "item_answer", {"status": "na"})
    assert "note" in resp.json()["errors"]  # n/a needs a reason, also here
    submit(standin, bot, "UWFM", "item_answer", {"status": "open"})
    saved = item(engine, target.id)
    assert saved.state == ItemState.OPEN and saved.answered_by is None
    assert saved.next_nudge_at is not None  # back on the reminder schedule
    assert [e.action for e in events(engine) if e.entity == "item"] == ["item.answered", "item.reopened"]


def test_reopen_from_the_overflow(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.done", str(target.id))
    deliver(bot)
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
          menu_value(target.id, "reopen"))
    assert item(engine, target.id).state == ItemState.OPEN
    (event,) = events(engine, "item.reopened")
    assert event.before["state"] == "done" and event.after["state"] == "open"


# -- value answers --------------------------------------------------------------------------

def test_number_answer_is_checked_in_the_modal_and_prefilled_when_edited(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = next(i for i in items(engine, launch.id, answer_kind="number", owner_id="UWFM")
                  if i.max_value is not None)
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.answer", str(target.id))
    modal = open_modal(standin, "UWFM", "item_answer")
    assert json.loads(modal["private_metadata"])["i"] == target.id
    assert target.unit in json.dumps(modal)

    too_big = submit(standin, bot, "UWFM", "item_answer", {"value": str(int(target.max_value) + 1)}).json()
    assert too_big["response_action"] == "errors"
    assert f"{int(target.max_value):,} {target.unit}" in too_big["errors"]["value"]
    bad_link = submit(standin, bot, "UWFM", "item_answer", {"value": "12", "evidence": "wiki page"}).json()
    assert "evidence" in bad_link["errors"]
    assert item(engine, target.id).state == ItemState.OPEN

    submit(standin, bot, "UWFM", "item_answer", {"value": "12.5", "evidence": "https://wiki.example.com/plan"})
    deliver(bot)
    saved = item(engine, target.id)
    assert saved.state == ItemState.DONE and saved.answer == 12.5
    assert saved.evidence == "https://wiki.example.com/plan"
    assert "12.5" in text_of(prompt_for(standin, bot, launch.id, "UWFM"))

    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.answer", str(target.id))
    modal = open_modal(standin, "UWFM", "item_answer")
    value = next(b for b in modal["blocks"] if b["block_id"] == "value")
    assert value["element"]["initial_value"] == "12.5"
    evidence = next(b for b in modal["blocks"] if b["block_id"] == "evidence")
    assert evidence["element"]["initial_value"] == "https://wiki.example.com/plan"
    submit(standin, bot, "UWFM", "item_answer", {"value": "14", "evidence": "https://wiki.example.com/plan"})
    (edit,) = events(engine, "item.edited")
    assert edit.before["answer"] == 12.5 and edit.after["answer"] == 14


@pytest.mark.parametrize("kind,bad,error,good", [
    ("link", "see the wiki", "https://", "https://wiki.example.com/brief"),
    ("text", "  ", "Required", "Customers ask about fees first."),
    ("choice", None, "Required", None),
])
def test_value_kinds_are_validated(standin, bot, launch, kind, bad, error, good):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, answer_kind=kind)
    owner = target.owner_id
    if kind == "choice":
        good = target.choices[0]
    click(standin, bot, owner, prompt_for(standin, bot, launch.id, owner), "item.answer", str(target.id))
    resp = submit(standin, bot, owner, "item_answer", {"value": bad} if bad is not None else {}).json()
    assert resp["response_action"] == "errors" and error in resp["errors"]["value"]
    assert item(engine, target.id).state == ItemState.OPEN
    submit(standin, bot, owner, "item_answer", {"value": good})
    assert item(engine, target.id).answer == good.strip()


def test_choice_outside_the_list_is_refused():
    choice = Item(answer_kind="choice", choices=["Yes", "No"], question="q", owner_role="wfm")
    with pytest.raises(FieldErrors) as err:
        answer_values.parse(choice, {"value": "Maybe"})
    assert "value" in err.value.errors


def test_forecast_is_stored_structured_one_row_per_queue(standin, bot, launch):
    # No capacity.yaml in the tests' settings: each market of the launch (FR, DE) gets a default queue.
    engine = bot.rt.ctx.engine
    target = first(engine, launch, answer_kind="forecast")
    owner = target.owner_id
    click(standin, bot, owner, prompt_for(standin, bot, launch.id, owner), "item.answer", str(target.id))
    modal = open_modal(standin, owner, "item_answer")
    assert {"fq.fr-default", "fa.fr-default", "fq.de-default", "fa.de-default"} <= {
        b["block_id"] for b in modal["blocks"] if b["type"] == "input"}
    assert "Markets: *FR, DE*" in json.dumps(modal["blocks"])
    resp = submit(standin, bot, owner, "item_answer",
                  {"fq.fr-default": "1200, 900, -5, 400, 300, 250", "fa.fr-default": "6.5",
                   "fq.de-default": "600, 500", "fa.de-default": "4", "sl_percent": "150"}).json()
    assert set(resp["errors"]) == {"fq.fr-default", "fq.de-default", "sl_percent"}
    assert "six whole numbers" in resp["errors"]["fq.de-default"]
    submit(standin, bot, owner, "item_answer",
           {"fq.fr-default": "1200, 900, 600, 400, 300, 250", "fa.fr-default": "6.5",
            "fq.de-default": "600 500 400 300 200 100", "fa.de-default": "4", "sl_percent": "80",
            "sl_seconds": "60", "shrinkage": "30", "note": "Based on the 2026 card launch"})
    deliver(bot)
    saved = item(engine, target.id)
    assert saved.state == ItemState.DONE
    assert saved.answer["weekly_contacts"] == [1800, 1400, 1000, 700, 500, 350]   # totals for older readers
    assert saved.answer["queues"] == [
        {"queue": "fr-default", "weekly_contacts": [1200, 900, 600, 400, 300, 250], "aht_minutes": 6.5},
        {"queue": "de-default", "weekly_contacts": [600, 500, 400, 300, 200, 100], "aht_minutes": 4}]
    assert (saved.answer["sl_percent"], saved.answer["sl_seconds"], saved.answer["shrinkage_percent"]) == (80, 60, 30)
    assert saved.note == "Based on the 2026 card launch"
    assert "SL 80% in 60 s" in text_of(prompt_for(standin, bot, launch.id, owner))
    # Editing starts from the stored forecast, queue by queue.
    click(standin, bot, owner, prompt_for(standin, bot, launch.id, owner), "item.answer", str(target.id))
    modal = open_modal(standin, owner, "item_answer")
    initial = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert initial["fq.fr-default"] == "1200, 900, 600, 400, 300, 250" and initial["fa.fr-default"] == "6.5"
    assert initial["shrinkage"] == "30"


def test_single_number_forecast_still_parses():
    forecast = Item(answer_kind="forecast", question="q", owner_role="marketing")
    values = {**{f"week{n}": str(100 * n) for n in range(1, 7)}, "aht": "6", "sl_percent": "80", "sl_seconds": "30",
              "shrinkage": "30"}
    assert answer_values.parse(forecast, values).value["weekly_contacts"] == [100, 200, 300, 400, 500, 600]


@pytest.mark.parametrize("raw,expected", [("1,200", 1200), ("1 200", 1200), ("12,5", 12.5), ("80%", 80),
                                          ("abc", None), ("nan", None), ("", None)])
def test_numbers_read_the_way_people_type_them(raw, expected):
    assert answer_values.number(raw) == expected


# -- who may answer ---------------------------------------------------------------------------

def test_outsider_is_refused_ephemerally_and_the_attempt_is_audited(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    valued = first(engine, launch, owner_id="UWFM", answer_kind="number")
    click(standin, bot, "UOUTSIDER", prompt, "item.done", str(target.id))
    click(standin, bot, "UOUTSIDER", prompt, "item.answer", str(valued.id))
    standin.wait_for(lambda: len(standin.ephemerals(user="UOUTSIDER")) == 2)
    refusals = standin.ephemerals(user="UOUTSIDER")
    assert all("Only the item's owner" in r["text"] and "<@UWFM>" in r["text"] for r in refusals)
    assert item(engine, target.id).state == ItemState.OPEN
    assert standin.views("UOUTSIDER") == []  # no modal opened
    assert [e.action for e in events(engine, launch_id=launch.id) if e.action.startswith("refused")] == \
        ["refused.item.answer", "refused.item.answer"]
    assert all(e.actor == "UOUTSIDER" for e in events(engine) if e.action.startswith("refused"))


@pytest.mark.parametrize("who", ["ULEAD", "UPM", "UDELEGATE"])
def test_lead_launch_owner_and_delegate_may_answer(standin, bot, launch, who):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    if who == "UDELEGATE":
        standin.add_user("UDELEGATE", tz="Europe/London")
        with unit_of_work(engine) as session:
            row = session.get(Item, target.id)
            row.delegate_id = "UDELEGATE"
            session.add(row)
    click(standin, bot, who, prompt_for(standin, bot, launch.id, "UWFM"), "item.done", str(target.id))
    saved = item(engine, target.id)
    assert saved.state == ItemState.DONE and saved.answered_by == who


@pytest.mark.parametrize("status,said", [(LaunchStatus.CANCELLED, "cancelled"), (LaunchStatus.LAUNCHED, "complete")])
def test_a_closed_launch_takes_no_answers(standin, bot, launch, status, said):
    """An old prompt or nudge clicked after the launch was cancelled or completed."""
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    with unit_of_work(engine) as session:
        row = session.get(Launch, launch.id)
        row.status = status
        session.add(row)
    click(standin, bot, "UWFM", prompt, "item.done", str(target.id))
    standin.wait_for(lambda: standin.ephemerals(user="UWFM"))
    assert said in standin.ephemerals(user="UWFM")[0]["text"]
    assert item(engine, target.id).state == ItemState.OPEN


# -- reassigning --------------------------------------------------------------------------------

def test_owner_hands_an_item_to_someone_new_to_the_launch(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
          menu_value(target.id, "reassign"))
    resp = submit(standin, bot, "UWFM", "item_reassign", {"user": "UWFM"}).json()
    assert "already own" in resp["errors"]["user"]
    submit(standin, bot, "UWFM", "item_reassign", {"user": "ULEAD2"})
    deliver(bot)

    assert item(engine, target.id).owner_id == "ULEAD2"
    (intro,) = dms(standin, "ULEAD2")
    assert "<@UWFM> handed you" in text_of(intro) and '"item.done"' in json.dumps(intro["blocks"])
    assert f"item-{target.id}" not in json.dumps(prompt_for(standin, bot, launch.id, "UWFM")["blocks"])
    assert len(dms(standin, "UWFM")) == 1  # they did it themselves: no DM about it
    (event,) = events(engine, "item.reassigned")
    assert event.before["owner"] == "UWFM" and event.after["owner"] == "ULEAD2"
    assert "ULEAD2" in standin.channel(launch.channel_id)["members"]


def test_lead_reassigns_and_both_owners_hear_once(standin, bot, launch):
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    training_prompt = prompt_for(standin, bot, launch.id, "UTRAIN")
    click(standin, bot, "ULEAD", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
          menu_value(target.id, "reassign"))
    submit(standin, bot, "ULEAD", "item_reassign", {"user": "UTRAIN"})
    deliver(bot)

    updated = prompt_for(standin, bot, launch.id, "UTRAIN")
    assert updated["ts"] == training_prompt["ts"] and f"item-{target.id}" in json.dumps(updated["blocks"])
    new_dms = dms(standin, "UTRAIN")[1:]
    assert len(new_dms) == 1 and "<@ULEAD> (for <@UWFM>) handed you" in text_of(new_dms[0])
    old_dms = dms(standin, "UWFM")[1:]
    assert len(old_dms) == 1 and "from you to <@UTRAIN>" in text_of(old_dms[0])


def test_reassign_refuses_outsiders_and_bots(standin, bot, launch):
    engine = bot.rt.ctx.engine
    standin.add_user("UBOT", tz="UTC", is_bot=True)
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    click(standin, bot, "UOUTSIDER", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
          menu_value(target.id, "reassign"))
    standin.wait_for(lambda: standin.ephemerals(user="UOUTSIDER"))
    assert "reassign" in standin.ephemerals(user="UOUTSIDER")[0]["text"]
    assert [e.action for e in events(engine) if e.action.startswith("refused")] == ["refused.item.reassign"]

    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.menu",
          menu_value(target.id, "reassign"))
    resp = submit(standin, bot, "UWFM", "item_reassign", {"user": "UBOT"}).json()
    assert "not a bot" in resp["errors"]["user"]
    assert item(engine, target.id).owner_id == "UWFM"


def test_items_answered_from_the_home_tab_refresh_it(standin, bot, launch):
    engine = bot.rt.ctx.engine
    confirm = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    number = first(engine, launch, owner_id="UWFM", answer_kind="number")
    home = open_home(standin, bot, "UWFM")
    assert f"home-q-{confirm.id}" in json.dumps(home["blocks"])
    publishes = home_publishes(standin, "UWFM")
    click(standin, bot, "UWFM", home, "item.done", str(confirm.id))
    assert item(engine, confirm.id).state == ItemState.DONE
    published_home(standin, bot, "UWFM", after=publishes)

    publishes = home_publishes(standin, "UWFM")
    click(standin, bot, "UWFM", standin.home_view("UWFM"), "item.answer", str(number.id))
    submit(standin, bot, "UWFM", "item_answer", {"value": "3"})  # a modal opened from Home
    assert item(engine, number.id).answer == 3
    home_now = json.dumps(published_home(standin, bot, "UWFM", after=publishes)["blocks"])
    assert f"home-q-{number.id}" not in home_now and f"home-q-{confirm.id}" not in home_now  # no longer open


def test_a_stale_home_tab_click_is_refused_in_the_app_dm(standin, bot, launch):
    """Home has no response_url: the refusal arrives as an ephemeral in the app's DM."""
    engine = bot.rt.ctx.engine
    target = first(engine, launch, owner_id="UWFM", answer_kind="confirm")
    home = open_home(standin, bot, "UWFM")
    with unit_of_work(engine) as session:  # meanwhile the lead handed the item to someone else
        row = session.get(Item, target.id)
        row.owner_id = "UTRAIN"
        session.add(row)
    click(standin, bot, "UWFM", home, "item.done", str(target.id))
    refusal = standin.wait_for(lambda: standin.ephemerals(user="UWFM"))
    assert refusal[0]["source"] == "chat.postEphemeral" and "<@UTRAIN>" in refusal[0]["text"]
    assert item(engine, target.id).state == ItemState.OPEN
