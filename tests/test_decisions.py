"""Deciding gates: who may, quorum, the five outcomes and what each one does."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import answers
from bot.services.errors import Conflict, FieldErrors, Forbidden
from bot.ticks import run_tick
from models import GateDecision, GateStatus, ImmutableRecord, ItemState, LaunchStatus, OutboxMessage
from tests.flows import deliver, dms, events, open_modal, prompt_for, text_of
from tests.gate_support import (
    add_approvers,
    answer,
    blocks_text,
    buttons,
    decide_buttons,
    decisions_of,
    form_values,
    gate_at,
    gates_of,
    items_of,
    launch_of,
    open_launch,
    review_message,
    satisfy,
    set_gate,
    vote,
    votes_of,
)


@pytest.fixture
def in_review(standin, bot, rt, clock):
    """A launch whose first gate is in review, its review messages delivered."""
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    return launch_id


def channel_review(standin, rt, launch_id):
    return [m for m in standin.messages(launch_of(rt, launch_id).channel_id) if "Review:" in text_of(m)][-1]


# -- who may decide ------------------------------------------------------------------------

@pytest.mark.parametrize("who,setup,allowed,refusal", [
    ("ULEAD", {}, True, None),
    ("UOUTSIDER", {}, False, "Only the approvers"),
    ("UWFM", {}, False, "Only the approvers"),                      # a stakeholder, not an approver
    ("UPM", {"approver": True}, False, "can't decide its gates yourself"),  # owner holding the role too
    ("UPM", {"approver": True, "self": True}, True, None),          # the template allows self-approval
])
def test_authorization_matrix(standin, bot, rt, clock, in_review, who, setup, allowed, refusal):
    launch_id = in_review
    if setup.get("approver"):
        add_approvers(rt, launch_id, "UPM")
    if setup.get("self"):
        set_gate(rt, launch_id, 0, allow_self_approval=True)
    standin.click(bot.url, who, channel_review(standin, rt, launch_id), "gate.decide:go")
    if allowed:
        (decision,) = standin.wait_for(lambda: decisions_of(rt, launch_id))
        assert decision.votes[0]["voter"] == who
        return
    told = standin.wait_for(lambda: standin.ephemerals(user=who))
    assert refusal in told[-1]["text"]
    assert votes_of(rt, gate_at(rt, launch_id, 0).id) == []
    (refused,) = events(rt.ctx.engine, "refused.vote")
    assert refused.actor == who and refused.entity_id == gate_at(rt, launch_id, 0).id


def test_outsider_gets_no_decision_modal(standin, bot, rt, clock, in_review):
    standin.click(bot.url, "UOUTSIDER", channel_review(standin, rt, in_review), "gate.decide:hold")
    told = standin.wait_for(lambda: standin.ephemerals(user="UOUTSIDER"))
    assert "Only the approvers" in told[-1]["text"]
    assert standin.calls_to("views.open") == [] and standin.views("UOUTSIDER") == []
    assert len(events(rt.ctx.engine, "refused.vote")) == 1


# -- quorum ----------------------------------------------------------------------------------

@pytest.mark.parametrize("quorum,votes_to_decide", [("any", 1), ("all", 3), ("2", 2), ("5", 3)])
def test_quorum_variants(rt, clock, quorum, votes_to_decide):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2", "ULEAD3")
    set_gate(rt, launch_id, 0, quorum=quorum)
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    for n, voter in enumerate(["ULEAD", "ULEAD2", "ULEAD3"][:votes_to_decide], start=1):
        result = vote(rt, clock, gate, voter)
        assert (result.decision is not None) == (n == votes_to_decide)
        assert result.needed == votes_to_decide
    (decision,) = decisions_of(rt, launch_id)
    assert decision.outcome == "go" and len(decision.votes) == votes_to_decide
    assert set(decision.approvers) == {"ULEAD", "ULEAD2", "ULEAD3"}
    assert gate_at(rt, launch_id, 0).status == GateStatus.GO


def test_a_single_stop_vote_decides_even_under_quorum_all(rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    set_gate(rt, launch_id, 0, quorum="all")
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    assert vote(rt, clock, gate, "ULEAD").decision is None
    result = vote(rt, clock, gate, "ULEAD2", "hold", reason="WFM plan missing for week 2")
    assert result.decision.outcome == "hold"
    assert [v["outcome"] for v in result.decision.votes] == ["go", "hold"]
    assert result.decision.reason == "WFM plan missing for week 2"
    assert launch_of(rt, launch_id).status == LaunchStatus.ON_HOLD


def test_go_and_go_with_conditions_votes_combine(rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    set_gate(rt, launch_id, 0, quorum="all")
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    from bot.services.decisions import Condition

    vote(rt, clock, gate, "ULEAD", "go_with_conditions", reason="Macros are late",
         conditions=[Condition("Publish the refund macros", "UCONTENT", date(2027, 9, 1))])
    decision = vote(rt, clock, gate, "ULEAD2").decision
    assert decision.outcome == "go_with_conditions"
    assert decision.conditions == [{"text": "Publish the refund macros", "owner": "UCONTENT", "due": "2027-09-01"}]


def test_votes_cannot_be_cast_twice_or_changed(rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    set_gate(rt, launch_id, 0, quorum="all")
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    vote(rt, clock, gate, "ULEAD")
    with pytest.raises(Conflict, match="already voted"):
        vote(rt, clock, gate, "ULEAD", "kill", reason="changed my mind")
    assert [v.outcome for v in votes_of(rt, gate.id)] == ["go"]


@pytest.mark.parametrize("outcome", ["go_with_conditions", "hold", "recycle", "kill"])
def test_a_reason_is_required_for_everything_but_go(rt, clock, outcome):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    with pytest.raises(FieldErrors) as caught:
        vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD", outcome, reason="  ")
    assert "reason" in caught.value.errors
    assert votes_of(rt, gate_at(rt, launch_id, 0).id) == [] and decisions_of(rt, launch_id) == []


def test_deciding_a_gate_out_of_turn_is_refused(rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 1)
    with pytest.raises(Conflict, match="not waiting for a decision"):
        vote(rt, clock, gate_at(rt, launch_id, 1), "ULEAD")


# -- outcomes through Slack ----------------------------------------------------------------

def test_go_with_conditions_from_slack_creates_tracked_items(standin, bot, rt, clock, in_review):
    launch_id = in_review
    standin.click(bot.url, "ULEAD", review_message(standin, "ULEAD"), "gate.decide:go_with_conditions")
    view = open_modal(standin, "ULEAD", "gate_decision")
    due = date(2027, 9, 1)
    # Nothing typed in the reason, an owner missing: the modal says so next to the fields and keeps the rest.
    resp = standin.send_view_submission(bot.url, "ULEAD", "gate_decision", form_values(view, {
        "condition_1": "Publish the refund macros", "condition_1_due": due}))
    assert resp.json()["response_action"] == "errors"
    assert set(resp.json()["errors"]) == {"reason", "condition_1_owner"}
    assert decisions_of(rt, launch_id) == []

    resp = standin.send_view_submission(bot.url, "ULEAD", "gate_decision", form_values(view, {
        "reason": "Macros are late but tracked", "condition_1": "Publish the refund macros",
        "condition_1_owner": "UCONTENT", "condition_1_due": due,
        "condition_2": "Brief the partner team leads", "condition_2_owner": "UVENDOR",
        "condition_2_due": date(2027, 9, 3)}))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n")
    (decision,) = decisions_of(rt, launch_id)
    assert decision.outcome == "go_with_conditions" and decision.reason == "Macros are late but tracked"
    next_gate = gate_at(rt, launch_id, 1)
    conditions = [i for i in items_of(rt, launch_id, 1) if i.source_decision_id == decision.id]
    assert [(c.question, c.owner_id, c.due_at.date(), c.required) for c in conditions] == [
        ("Publish the refund macros", "UCONTENT", due, True),
        ("Brief the partner team leads", "UVENDOR", date(2027, 9, 3), True)]
    assert all(c.gate_id == next_gate.id and c.state == ItemState.OPEN and c.next_nudge_at for c in conditions)
    assert len(events(rt.ctx.engine, "item.created")) == 2
    deliver(bot)
    assert any("Publish the refund macros" in text_of(m) and "condition" in text_of(m)
               for m in dms(standin, "UCONTENT"))

    # The next gate cannot go to review while a condition is open.
    for item in items_of(rt, launch_id, 1):
        if item.required and item.source_decision_id is None:
            answer(rt, clock, item)
    assert gate_at(rt, launch_id, 1).status == GateStatus.PENDING
    for condition in conditions:
        answer(rt, clock, condition)
    assert gate_at(rt, launch_id, 1).status == GateStatus.IN_REVIEW


def test_hold_pauses_prompts_until_resumed(standin, bot, rt, clock, in_review):
    launch_id = in_review
    standin.click(bot.url, "ULEAD", review_message(standin, "ULEAD"), "gate.decide:hold")
    view = open_modal(standin, "ULEAD", "gate_decision")
    standin.send_view_submission(bot.url, "ULEAD", "gate_decision",
                                 form_values(view, {"reason": "Vendor contract not signed"}))
    assert launch_of(rt, launch_id).status == LaunchStatus.ON_HOLD
    assert gate_at(rt, launch_id, 0).status == GateStatus.HOLD
    deliver(bot)
    channel = standin.messages(launch_of(rt, launch_id).channel_id)
    assert any("Vendor contract not signed" in text_of(m) and "/launch resume LR-1" in text_of(m) for m in channel)
    assert "on hold" in blocks_text(prompt_for(standin, bot, launch_id, "UWFM"))  # stakeholders see it too

    # The reminder tick sends nothing for a held launch, even when items are due.
    due = min(i.due_at for i in items_of(rt, launch_id) if i.is_open and i.required)
    busy = due.replace(hour=15, minute=0)
    clock.set(busy)
    run_tick(rt.ctx, busy)
    with unit_of_work(rt.ctx.engine) as session:
        held = session.exec(select(OutboxMessage).where(OutboxMessage.launch_id == launch_id,
                                                        OutboxMessage.kind.in_(["nudge", "escalation"]))).all()
    assert held == []

    refused = standin.send_slash_command(bot.url, text="resume LR-1", user_id="UOUTSIDER").json()
    assert "Only the launch owner or a readiness lead" in refused["text"]
    assert events(rt.ctx.engine, "refused.resume")
    resumed = standin.send_slash_command(bot.url, text="resume LR-1", user_id="UPM").json()
    assert "running again" in resumed["text"]
    assert launch_of(rt, launch_id).status == LaunchStatus.OPEN
    gate = gate_at(rt, launch_id, 0)
    assert (gate.status, gate.review_round) == (GateStatus.IN_REVIEW, 2)  # a fresh review round
    run_tick(rt.ctx, busy)
    with unit_of_work(rt.ctx.engine) as session:
        nudged = session.exec(select(OutboxMessage).where(OutboxMessage.launch_id == launch_id,
                                                          OutboxMessage.kind.in_(["nudge", "escalation"]))).all()
    assert nudged  # prompts run again
    assert [e.action for e in events(rt.ctx.engine, launch_id=launch_id)
            if e.action in ("launch.held", "launch.resumed")] == ["launch.held", "launch.resumed"]


def test_recycle_reopens_the_picked_items_and_tells_their_owners(standin, bot, rt, clock, in_review):
    launch_id = in_review
    standin.click(bot.url, "ULEAD", review_message(standin, "ULEAD"), "gate.decide:recycle")
    view = open_modal(standin, "ULEAD", "gate_decision")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "reopen")
    assert {o["value"] for o in picker["element"]["options"]} == {str(i.id) for i in items_of(rt, launch_id, 0)}
    resp = standin.send_view_submission(bot.url, "ULEAD", "gate_decision",
                                        form_values(view, {"reason": "Brief is outdated"}))
    assert resp.json()["errors"] == {"reopen": "Pick the items to send back."}

    sent_back = next(i for i in items_of(rt, launch_id, 0) if i.required and i.owner_id != "ULEAD")
    standin.send_view_submission(bot.url, "ULEAD", "gate_decision", form_values(view, {
        "reason": "Brief is outdated", "reopen": [sent_back.id]}))
    (decision,) = decisions_of(rt, launch_id)
    assert decision.outcome == "recycle"
    reopened = next(i for i in items_of(rt, launch_id, 0) if i.id == sent_back.id)
    assert reopened.state == ItemState.OPEN and reopened.next_nudge_at is not None
    assert gate_at(rt, launch_id, 0).status == GateStatus.PENDING
    deliver(bot)
    told = [m for m in dms(standin, sent_back.owner_id) if "sent back" in text_of(m)]
    assert len(told) == 1 and "Brief is outdated" in text_of(told[0])
    assert decide_buttons(review_message(standin, "ULEAD")) == []

    answer(rt, clock, reopened)
    assert gate_at(rt, launch_id, 0).review_round == 2
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    assert [(d.round, d.outcome) for d in decisions_of(rt, launch_id)] == [(1, "recycle"), (2, "go")]


def test_kill_cancels_the_launch_and_is_announced(standin, bot, rt, clock, in_review):
    launch_id = in_review
    announcements = standin.add_channel(name="launches")
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"launches_channel": announcements})
    standin.click(bot.url, "ULEAD", review_message(standin, "ULEAD"), "gate.decide:kill")
    view = open_modal(standin, "ULEAD", "gate_decision")
    standin.send_view_submission(bot.url, "ULEAD", "gate_decision",
                                 form_values(view, {"reason": "Regulator said no"}))
    assert launch_of(rt, launch_id).status == LaunchStatus.CANCELLED
    assert gate_at(rt, launch_id, 0).status == GateStatus.KILLED
    deliver(bot)
    (line,) = standin.messages(announcements)
    assert "cancelled" in line["text"] and "Regulator said no" in line["text"]
    assert any("cancelled" in text_of(m) for m in standin.messages(launch_of(rt, launch_id).channel_id))
    prompt = prompt_for(standin, bot, launch_id, "UWFM")
    assert "cancelled" in blocks_text(prompt) and buttons(prompt) == []  # nothing left to click
    with pytest.raises(Conflict):
        vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")


def test_final_go_marks_the_launch_launched_on_its_date_and_announces_it(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    announcements = standin.add_channel(name="launches")
    rt.ctx.settings = rt.ctx.settings.model_copy(update={"launches_channel": announcements})
    for gate in gates_of(rt, launch_id):
        satisfy(rt, clock, launch_id, gate.position)
        assert launch_of(rt, launch_id).status == LaunchStatus.OPEN
        vote(rt, clock, gate_at(rt, launch_id, gate.position), "ULEAD")
    # Every gate passed, but "launched" waits for the launch date: the card says it is ready.
    assert launch_of(rt, launch_id).status == LaunchStatus.OPEN
    assert len(decisions_of(rt, launch_id)) == len(gates_of(rt, launch_id))
    deliver(bot)
    assert standin.messages(announcements) == []
    card = standin.messages(launch_of(rt, launch_id).channel_id)[0]
    assert "Ready" in text_of(card) and "every gate passed" in text_of(card)
    run_tick(rt.ctx, datetime(2027, 11, 12, 9, 0, tzinfo=timezone.utc))  # the Friday before: still waiting
    assert launch_of(rt, launch_id).status == LaunchStatus.OPEN
    run_tick(rt.ctx, datetime(2027, 11, 15, 6, 0, tzinfo=timezone.utc))  # launch day
    assert launch_of(rt, launch_id).status == LaunchStatus.LAUNCHED
    deliver(bot, now=datetime(2027, 11, 15, 6, 1, tzinfo=timezone.utc))
    (line,) = standin.messages(announcements)
    assert "launched" in line["text"] and "LR-1" in line["text"]
    assert events(rt.ctx.engine, "launch.launched")


def test_final_gate_with_conditions_launches_when_they_are_met(rt, clock):
    from bot.services.decisions import Condition

    launch_id = open_launch(rt, clock)
    gates = gates_of(rt, launch_id)
    for gate in gates[:-1]:
        satisfy(rt, clock, launch_id, gate.position)
        vote(rt, clock, gate_at(rt, launch_id, gate.position), "ULEAD")
    satisfy(rt, clock, launch_id, gates[-1].position)
    vote(rt, clock, gate_at(rt, launch_id, gates[-1].position), "ULEAD", "go_with_conditions",
         reason="One retro action left", conditions=[Condition("Share the retro notes", "UPM", date(2027, 12, 1))])
    assert launch_of(rt, launch_id).status == LaunchStatus.OPEN  # a condition is still open
    (condition,) = [i for i in items_of(rt, launch_id) if i.source_decision_id]
    clock.set(datetime(2027, 11, 16, 10, 0, tzinfo=timezone.utc))  # the day after the launch date
    with unit_of_work(rt.ctx.engine) as session:
        answers.mark_done(session, condition.id, actor="UPM", now=clock(), settings=rt.ctx.settings)
    assert launch_of(rt, launch_id).status == LaunchStatus.LAUNCHED


# -- the record ------------------------------------------------------------------------------

def test_decision_snapshot_holds_every_item_as_it_was(rt, clock):
    launch_id = open_launch(rt, clock)
    items = items_of(rt, launch_id, 0)
    waived = items[-1]
    from bot.services import waivers

    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, waived.id, "ULEAD", "Covered by the global brief", None, now=clock(),
                      settings=rt.ctx.settings)
    satisfy(rt, clock, launch_id, 0)
    (decision,) = [vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD").decision]
    by_id = {s["id"]: s for s in decision.snapshot}
    assert set(by_id) == {i.id for i in items}
    for item in items_of(rt, launch_id, 0):
        snap = by_id[item.id]
        assert (snap["state"], snap["answer"], snap["evidence"], snap["owner"]) == \
               (item.state, item.answer, item.evidence, item.owner_id)
    assert by_id[waived.id]["waiver"] == {"reason": "Covered by the global brief", "by": "ULEAD", "expires_at": None}

    # Later changes do not touch the record.
    with unit_of_work(rt.ctx.engine) as session:
        answers.reopen(session, items[0].id, actor="ULEAD", now=clock(), settings=rt.ctx.settings)
    (again,) = decisions_of(rt, launch_id)
    assert again.snapshot == decision.snapshot


def test_a_decision_can_never_be_changed(rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    decision = vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD").decision
    with pytest.raises(ImmutableRecord):
        with unit_of_work(rt.ctx.engine) as session:
            row = session.get(GateDecision, decision.id)
            row.outcome = "kill"
            session.add(row)
    for sql in ("UPDATE gatedecision SET outcome = 'kill'", "DELETE FROM gatedecision"):
        with pytest.raises(Exception, match="immutable"):  # the database itself refuses
            with rt.ctx.engine.begin() as conn:
                conn.execute(text(sql))
    assert [d.outcome for d in decisions_of(rt, launch_id)] == ["go"]


def test_refused_attempts_commit_their_audit_but_nothing_else(rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    with pytest.raises(Forbidden):
        vote(rt, clock, gate_at(rt, launch_id, 0), "UOUTSIDER")
    assert votes_of(rt, gate_at(rt, launch_id, 0).id) == []
    assert [e.actor for e in events(rt.ctx.engine, "refused.vote")] == ["UOUTSIDER"]
