"""Waivers: who may waive, how they count, and what happens when one expires."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.db import unit_of_work
from bot.services import waivers
from bot.services.errors import FieldErrors, Forbidden
from bot.ticks import run_tick
from models import GateStatus, ItemState
from tests.flows import deliver, dms, events, open_modal, text_of
from tests.gate_support import answer, decisions_of, form_values, gate_at, items_of, open_launch, vote


def waive(rt, clock, item, actor="ULEAD", reason="Covered by the global brief", until=None):
    with unit_of_work(rt.ctx.engine) as session:
        return waivers.waive(session, item.id, actor, reason, until, now=clock(), settings=rt.ctx.settings)


def item_now(rt, item):
    with unit_of_work(rt.ctx.engine) as session:
        return session.get(type(item), item.id)


def test_lead_waives_from_slack_and_the_gate_goes_to_review(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    required = [i for i in items_of(rt, launch_id, 0) if i.required]
    for item in required[:-1]:
        answer(rt, clock, item)
    last = required[-1]

    resp = standin.send_slash_command(bot.url, text="waive LR-1", user_id="ULEAD")
    assert resp.status_code == 200
    view = open_modal(standin, "ULEAD", "item_waive")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "item")
    offered = {o["value"] for g in picker["element"]["option_groups"] for o in g["options"]}
    assert str(last.id) in offered and not {str(i.id) for i in required[:-1]} & offered  # answered ones are not
    answer_errors = standin.send_view_submission(bot.url, "ULEAD", "item_waive", form_values(view, {
        "item": last.id})).json()
    assert answer_errors["response_action"] == "errors" and "reason" in answer_errors["errors"]
    assert item_now(rt, last).state == ItemState.OPEN

    standin.send_view_submission(bot.url, "ULEAD", "item_waive", form_values(view, {
        "item": last.id, "reason": "Covered by the global brief", "expires": date(2027, 8, 20)}))
    waived = item_now(rt, last)
    assert (waived.state, waived.waived_by, waived.waiver_reason) == (ItemState.WAIVED, "ULEAD",
                                                                      "Covered by the global brief")
    # Through 20 Aug in the lead's time zone (London, summer time): ends at 23:00 UTC that day.
    assert waived.waiver_expires_at == datetime(2027, 8, 20, 23, 0, tzinfo=timezone.utc)
    assert waived.next_nudge_at is None
    assert gate_at(rt, launch_id, 0).status == GateStatus.IN_REVIEW  # a waived item counts as satisfied
    (event,) = events(rt.ctx.engine, "item.waived")
    assert event.actor == "ULEAD" and event.before["state"] == "open" and event.after["state"] == "waived"
    deliver(bot)
    if last.owner_id != "ULEAD":
        assert any("waived" in text_of(m) for m in dms(standin, last.owner_id))


def test_only_a_readiness_lead_may_waive(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    reply = standin.send_slash_command(bot.url, text="waive LR-1", user_id="UPM").json()
    assert "Only a readiness lead" in reply["text"]
    assert standin.views("UPM") == []
    item = items_of(rt, launch_id, 0)[0]
    with pytest.raises(Forbidden):
        waive(rt, clock, item, actor="UWFM")
    assert [e.actor for e in events(rt.ctx.engine, "refused.waive")] == ["UPM", "UWFM"]
    assert item_now(rt, item).state == ItemState.OPEN


def test_waive_button_on_a_blocked_item_in_the_review(standin, bot, rt, clock):
    from bot.services import answers

    launch_id = open_launch(rt, clock)
    optional = items_of(rt, launch_id, 0)[-1]
    with unit_of_work(rt.ctx.engine) as session:  # template setup: an optional item
        row = session.get(type(optional), optional.id)
        row.required = False
        session.add(row)
    with unit_of_work(rt.ctx.engine) as session:
        answers.mark_with_reason(session, optional.id, ItemState.BLOCKED, {"reason": "Waiting for legal"},
                                 actor=optional.owner_id, now=clock(), settings=rt.ctx.settings)
    for item in items_of(rt, launch_id, 0):
        if item.required:
            answer(rt, clock, item)
    deliver(bot)
    review = [m for m in dms(standin, "ULEAD") if "Review:" in text_of(m)][-1]
    standin.click(bot.url, "ULEAD", review, lambda e: e.get("action_id") == "item.waive"
                  and e.get("value") == str(optional.id))
    view = open_modal(standin, "ULEAD", "item_waive")
    assert "Waiting for legal" not in text_of(view) and optional.question[:40] in text_of(view)
    standin.send_view_submission(bot.url, "ULEAD", "item_waive", form_values(view, {"reason": "Not needed"}))
    assert item_now(rt, optional).state == ItemState.WAIVED


def test_expiry_in_the_past_is_refused(rt, clock):
    launch_id = open_launch(rt, clock)
    item = items_of(rt, launch_id, 0)[0]
    with pytest.raises(FieldErrors) as caught:
        waive(rt, clock, item, until=clock().date() - timedelta(days=1))
    assert "expires" in caught.value.errors


def test_an_expired_waiver_reopens_the_item_and_tells_its_owner(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    required = [i for i in items_of(rt, launch_id, 0) if i.required]
    for item in required[:-1]:
        answer(rt, clock, item)
    last = required[-1]
    waive(rt, clock, last, until=date(2027, 8, 10))
    assert gate_at(rt, launch_id, 0).status == GateStatus.IN_REVIEW
    deliver(bot)

    before = datetime(2027, 8, 10, 12, 0, tzinfo=timezone.utc)
    run_tick(rt.ctx, before)
    assert item_now(rt, last).state == ItemState.WAIVED  # still valid on its last day

    after = datetime(2027, 8, 11, 7, 0, tzinfo=timezone.utc)
    dry = run_tick(rt.ctx, after, dry_run=True)
    assert any("waiver expired" in line for line in dry.lines)
    assert item_now(rt, last).state == ItemState.WAIVED  # a dry run changes nothing

    clock.set(after)
    report = run_tick(rt.ctx, after)
    assert any("waiver expired" in line for line in report.lines)
    reopened = item_now(rt, last)
    assert reopened.state == ItemState.OPEN and reopened.waiver_reason is None
    assert reopened.due_at > after and reopened.next_nudge_at is not None
    assert gate_at(rt, launch_id, 0).status == GateStatus.PENDING  # the review is withdrawn
    (event,) = events(rt.ctx.engine, "item.waiver_expired")
    assert event.before["waiver_reason"] == "Covered by the global brief" and event.after["state"] == "open"
    deliver(bot, now=after)
    told = [m for m in dms(standin, last.owner_id) if "expired" in text_of(m)]
    assert len(told) == 1 and "Covered by the global brief" in text_of(told[0])

    run_tick(rt.ctx, after + timedelta(hours=1))  # nothing more to expire
    assert len(events(rt.ctx.engine, "item.waiver_expired")) == 1


def test_a_waiver_expiring_after_the_decision_leaves_the_decision_standing(rt, clock):
    launch_id = open_launch(rt, clock)
    required = [i for i in items_of(rt, launch_id, 0) if i.required]
    for item in required[:-1]:
        answer(rt, clock, item)
    waive(rt, clock, required[-1], until=date(2027, 8, 10))
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    after = datetime(2027, 8, 12, 9, 0, tzinfo=timezone.utc)
    run_tick(rt.ctx, after)
    assert item_now(rt, required[-1]).state == ItemState.OPEN
    assert gate_at(rt, launch_id, 0).status == GateStatus.GO
    (decision,) = decisions_of(rt, launch_id)
    assert next(s for s in decision.snapshot if s["id"] == required[-1].id)["state"] == "waived"


def test_lead_takes_a_waiver_back_and_the_gate_waits_for_the_item_again(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    required = [i for i in items_of(rt, launch_id, 0) if i.required]
    last = next(i for i in required[::-1] if i.owner_id != "ULEAD")  # someone else's: they are told
    for item in required:
        if item.id != last.id:
            answer(rt, clock, item)
    reply = standin.send_slash_command(bot.url, text="unwaive LR-1", user_id="ULEAD").json()
    assert "nothing to take back" in reply["text"]
    waive(rt, clock, last)
    assert gate_at(rt, launch_id, 0).status == GateStatus.IN_REVIEW

    refused = standin.send_slash_command(bot.url, text="unwaive LR-1", user_id="UPM").json()
    assert "Only a readiness lead" in refused["text"] and not standin.views("UPM")
    standin.send_slash_command(bot.url, text="unwaive LR-1", user_id="ULEAD")
    view = open_modal(standin, "ULEAD", "item_unwaive")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "item")
    assert [o["value"] for g in picker["element"]["option_groups"] for o in g["options"]] == [str(last.id)]
    no_reason = standin.send_view_submission(bot.url, "ULEAD", "item_unwaive", form_values(view, {
        "item": last.id})).json()
    assert no_reason["response_action"] == "errors" and "reason" in no_reason["errors"]
    assert item_now(rt, last).state == ItemState.WAIVED

    standin.send_view_submission(bot.url, "ULEAD", "item_unwaive", form_values(view, {
        "item": last.id, "reason": "Legal says the FR copy needs its own review"}))
    reopened = item_now(rt, last)
    assert (reopened.state, reopened.waived_by, reopened.waiver_reason) == (ItemState.OPEN, None, None)
    assert reopened.next_nudge_at is not None  # reminders start again
    assert gate_at(rt, launch_id, 0).status == GateStatus.PENDING  # the review waits for it again
    (event,) = events(rt.ctx.engine, "item.waiver_revoked")
    assert (event.actor, event.before["state"], event.after["state"]) == ("ULEAD", "waived", "open")
    assert event.note == "Legal says the FR copy needs its own review"
    assert [e.actor for e in events(rt.ctx.engine, "refused.waive")] == ["UPM"]
    deliver(bot)
    told = [text_of(m) for m in dms(standin, last.owner_id) if "took back the waiver" in text_of(m)]
    assert len(told) == 1 and "Legal says the FR copy needs its own review" in told[0]
    timeline = standin.send_slash_command(bot.url, text="timeline LR-1", user_id="ULEAD").text
    assert "took back the waiver" in timeline


def test_a_form_sent_without_an_item_is_refused_by_the_services_next_to_the_picker(rt, clock):
    """Waive, take back and remove each need a picked item: the services say so (field "item"),
    whatever surface calls them."""
    from bot.services import adhoc

    open_launch(rt, clock)
    now = clock()
    with unit_of_work(rt.ctx.engine) as session:
        with pytest.raises(FieldErrors) as waive:
            waivers.waive(session, None, "ULEAD", "covered", None, now=now, settings=rt.ctx.settings)
        with pytest.raises(FieldErrors) as revoke:
            waivers.revoke(session, None, "ULEAD", "changed", now=now, settings=rt.ctx.settings)
        with pytest.raises(FieldErrors) as remove:
            adhoc.remove_item(session, None, "dropped", actor="UPM", now=now)
    assert waive.value.errors == {"item": "Pick the item to waive."}
    assert revoke.value.errors == {"item": "Pick the item whose waiver you take back."}
    assert remove.value.errors == {"item": "Pick the item to remove."}
