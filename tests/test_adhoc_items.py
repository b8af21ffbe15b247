"""Ad-hoc items: `/launch add KEY` and `/launch remove KEY`, through signed requests to the stand-in."""
from __future__ import annotations

import json
import threading
from datetime import date

from bot.db import unit_of_work
from models import Gate, Item
from tests.flows import (
    deliver,
    dms,
    events,
    items,
    modal_values,
    open_launch_via_slack,
    open_modal,
    prompt_for,
    text_of,
)

QUESTION = "Is the German FAQ translated?"


def slash(standin, bot, user: str, text: str) -> str:
    resp = standin.send_slash_command(bot.url, text=text, user_id=user, channel_id="C0GENERAL")
    assert resp.status_code == 200, resp.text
    return json.dumps(resp.json()) if resp.content.strip() else ""


def first_gate(bot, launch_id: int) -> Gate:
    with unit_of_work(bot.rt.ctx.engine) as session:
        return session.exec(Gate.__table__.select().where(Gate.launch_id == launch_id)
                            .order_by(Gate.position)).first()


def add_view(standin, bot, launch, user="UPM") -> dict:
    assert slash(standin, bot, user, f"add {launch.key}") == ""
    return open_modal(standin, user, "item_add")


def gate_option(view: dict) -> str:
    """The gate the modal pre-selects (Slack submits an initial option as selected)."""
    return next(b for b in view["blocks"] if b.get("block_id") == "gate")["element"]["initial_option"]["value"]


def ticked(values: dict) -> dict:
    """The Required checkbox as Slack sends it when left ticked."""
    values["required"] = {"required": {"type": "checkboxes", "selected_options": [
        {"value": "required", "text": {"type": "plain_text", "text": "Required"}}]}}
    return values


def entries(**kw) -> dict:
    base = {"question": QUESTION, "owner_role": "wfm", "due": "2027-08-20", "answer_kind": "confirm"}
    return {k: v for k, v in (base | kw).items() if v is not None}


def test_owner_adds_an_item_and_its_owner_is_prompted(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    view = add_view(standin, bot, launch)
    gate_block = next(b for b in view["blocks"] if b.get("block_id") == "gate")
    assert gate_block["element"]["initial_option"]["value"] == str(first_gate(bot, launch.id).id)
    resp = standin.send_view_submission(bot.url, "UPM", "item_add", ticked(modal_values(view, entries(gate=gate_option(view)))))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n"), resp.text
    (added,) = items(bot.rt.ctx.engine, launch.id, question=QUESTION)
    assert added.owner_id == "UWFM" and added.owner_role == "wfm" and added.required is True
    assert added.due_at.date() == date(2027, 8, 20) and added.gate_id == first_gate(bot, launch.id).id
    (created,) = [e for e in events(bot.rt.ctx.engine, "item.created") if e.entity_id == added.id]
    assert created.actor == "UPM" and created.note == "ad hoc"
    deliver(bot)
    assert QUESTION in text_of(prompt_for(standin, bot, launch.id, "UWFM"))


def test_a_person_new_to_the_launch_gets_an_intro_and_an_invite(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    view = add_view(standin, bot, launch, user="ULEAD")
    standin.send_view_submission(bot.url, "ULEAD", "item_add",
                                 modal_values(view, entries(owner_role=None, owner="UOUTSIDER", gate=gate_option(view))))
    (added,) = items(bot.rt.ctx.engine, launch.id, question=QUESTION)
    assert added.owner_id == "UOUTSIDER"
    deliver(bot)
    assert any(QUESTION in text_of(m) for m in dms(standin, "UOUTSIDER"))
    assert added.required is False  # "Required" was unticked
    assert any("UOUTSIDER" in c.params["users"] for c in standin.ok_calls("conversations.invite"))


def test_bad_input_is_shown_next_to_the_fields(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    view = add_view(standin, bot, launch)
    body = standin.send_view_submission(bot.url, "UPM", "item_add", modal_values(
        view, entries(question="   ", due="2027-07-01", owner_role=None, gate=gate_option(view)))).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"question", "due", "owner_role"}
    assert "past" in body["errors"]["due"]
    assert items(bot.rt.ctx.engine, launch.id, question=QUESTION) == []


def test_outsiders_may_not_add_or_remove(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    assert "Only the launch owner or a readiness lead" in slash(standin, bot, "UWFM", f"add {launch.key}")
    assert "Only the launch owner or a readiness lead" in slash(standin, bot, "UWFM", f"remove {launch.key}")
    assert [e.action for e in events(bot.rt.ctx.engine) if e.action.startswith("refused.")] == [
        "refused.item.add", "refused.item.remove"]


def test_removing_needs_a_reason_and_keeps_the_item_on_record(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    target = next(i for i in items(bot.rt.ctx.engine, launch.id, owner_id="UWFM") if i.is_open)
    assert slash(standin, bot, "ULEAD", f"remove {launch.key}") == ""
    view = open_modal(standin, "ULEAD", "item_remove")
    body = standin.send_view_submission(bot.url, "ULEAD", "item_remove",
                                        modal_values(view, {"item": str(target.id)})).json()
    assert body["response_action"] == "errors" and "reason" in body["errors"]
    resp = standin.send_view_submission(bot.url, "ULEAD", "item_remove",
                                        modal_values(view, {"item": str(target.id), "reason": "Not in scope"}))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n")
    with unit_of_work(bot.rt.ctx.engine) as session:
        assert session.get(Item, target.id) is None
    (removed,) = events(bot.rt.ctx.engine, "item.removed")
    assert removed.actor == "ULEAD" and removed.note == "Not in scope"
    assert removed.before["question"] == target.question and removed.before["owner"] == "UWFM"
    deliver(bot)
    assert target.question not in text_of(prompt_for(standin, bot, launch.id, "UWFM"))


def test_simultaneous_adds_lose_nothing(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    view = add_view(standin, bot, launch)
    people = ["UPM", "ULEAD", "UADMIN"] * 2
    results: list = []
    start = threading.Barrier(len(people))

    def submit(n, user):
        values = ticked(modal_values(view, entries(question=f"Extra check {n}", gate=gate_option(view))))
        start.wait()
        results.append(standin.send_view_submission(bot.url, user, "item_add", values,
                                                    private_metadata=json.dumps({"l": launch.id})))

    threads = [threading.Thread(target=submit, args=(n, u)) for n, u in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200] * len(people)
    added = [i for i in items(bot.rt.ctx.engine, launch.id) if i.item_key.startswith("adhoc-")]
    assert sorted(i.question for i in added) == sorted(f"Extra check {n}" for n in range(len(people)))
    assert len({i.item_key for i in added}) == len(people)


def test_simultaneous_removals_lose_nothing_and_never_fail(standin, bot):
    """Five removals at once, three of them of the same item: each item goes once, nobody gets a 500."""
    launch = open_launch_via_slack(standin, bot)
    targets = [i for i in items(bot.rt.ctx.engine, launch.id) if i.is_open][:3]
    picks = [targets[0].id] * 3 + [t.id for t in targets[1:]]
    results: list = []
    start = threading.Barrier(len(picks))

    def submit(item_id, user):
        start.wait()
        results.append(standin.send_view_submission(
            bot.url, user, "item_remove", {"item": {"item": {"type": "static_select", "selected_option": {
                "value": str(item_id), "text": {"type": "plain_text", "text": "x"}}}},
                "reason": {"reason": {"type": "plain_text_input", "value": "Out of scope"}}},
            private_metadata=json.dumps({"l": launch.id})))

    threads = [threading.Thread(target=submit, args=(item_id, ("UPM", "ULEAD")[n % 2]))
               for n, item_id in enumerate(picks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [200] * len(picks)
    left = {i.id for i in items(bot.rt.ctx.engine, launch.id)}
    assert not left & {t.id for t in targets}
    removed = [e.entity_id for e in events(bot.rt.ctx.engine, "item.removed")]
    assert sorted(removed) == sorted(t.id for t in targets)  # each exactly once
