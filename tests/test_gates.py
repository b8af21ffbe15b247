"""Gate review: when a gate goes to review, who is asked, the order of gates,
fast path, the review message staying truthful, and the status card."""
from __future__ import annotations

import json

from sqlmodel import select

from bot.db import unit_of_work
from bot.services import answers
from models import GateStatus, ItemState, OutboxMessage, OutboxStatus
from tests.flows import deliver, dms, events, remembered, text_of
from tests.gate_support import (
    add_approvers,
    answer,
    decide_buttons,
    decisions_of,
    gate_at,
    items_of,
    launch_of,
    open_launch,
    satisfy,
    set_gate,
    vote,
)


def reviews(standin, user: str) -> list[dict]:
    return [m for m in dms(standin, user) if "Review:" in text_of(m)]


def channel_of(rt, launch_id: int) -> str:
    return launch_of(rt, launch_id).channel_id


def channel_reviews(standin, rt, launch_id: int) -> list[dict]:
    return [m for m in standin.messages(channel_of(rt, launch_id)) if "Review:" in text_of(m)]


def test_review_opens_once_every_required_item_is_answered(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    deliver(bot)
    required = [i for i in items_of(rt, launch_id, 0) if i.required]
    for item in required[:-1]:
        answer(rt, clock, item)
    assert gate_at(rt, launch_id, 0).status == GateStatus.PENDING
    deliver(bot)
    assert reviews(standin, "ULEAD") == []

    answer(rt, clock, required[-1])
    gate = gate_at(rt, launch_id, 0)
    assert (gate.status, gate.review_round) == (GateStatus.IN_REVIEW, 1)
    deliver(bot)
    for approver in ("ULEAD", "ULEAD2"):
        (message,) = reviews(standin, approver)
        assert len(decide_buttons(message)) == 5  # Go, Go with conditions, Hold, Recycle, Kill
        body = text_of(message)
        for item in required:
            assert item.question[:30] in body
    assert reviews(standin, "UPM") == []  # the owner does not approve their own launch
    (in_channel,) = channel_reviews(standin, rt, launch_id)
    assert decide_buttons(in_channel)
    assert [e.entity_id for e in events(rt.ctx.engine, "gate.review_opened")] == [gate.id]


def test_review_shows_answers_evidence_and_blocked_items(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    items = items_of(rt, launch_id, 0)
    optional = items[-1]
    with unit_of_work(rt.ctx.engine) as session:  # template setup: one optional item in the first gate
        row = session.get(type(optional), optional.id)
        row.required = False
        session.add(row)
    with unit_of_work(rt.ctx.engine) as session:
        answers.mark_with_reason(session, optional.id, ItemState.BLOCKED, {"reason": "Vendor contract unsigned"},
                                 actor=optional.owner_id, now=clock(), settings=rt.ctx.settings)
    satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    (message,) = reviews(standin, "ULEAD")
    body = text_of(message)
    assert "Vendor contract unsigned" in body and "blocked" in body
    assert "https://evidence.example.com/" in body or "https://docs.example.com/" in body
    link_items = [i for i in items if i.answer_kind == "link" and i.required]
    for item in link_items:
        assert f"https://docs.example.com/{item.item_key}" in body
    assert "item.waive" in [e.get("action_id") for b in message["blocks"] for e in [b.get("accessory") or {}]]


def test_editing_an_answer_updates_the_review_in_place(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    (before,) = reviews(standin, "ULEAD")
    text_item = next((i for i in items_of(rt, launch_id, 0) if i.answer_kind in ("text", "link")), None)
    assert text_item is not None
    new = "https://docs.example.com/v2-of-the-brief" if text_item.answer_kind == "link" else "Second thoughts"
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, text_item.id, {"value": new}, actor=text_item.owner_id, now=clock(),
                       settings=rt.ctx.settings)
    deliver(bot)
    (after,) = reviews(standin, "ULEAD")  # still one message, updated
    assert after["ts"] == before["ts"] and "edited" in after
    assert new in text_of(after) and new not in text_of(before)
    assert gate_at(rt, launch_id, 0).review_round == 1


def test_reopening_an_item_withdraws_the_review_and_removes_its_buttons(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    done = satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    with unit_of_work(rt.ctx.engine) as session:
        answers.reopen(session, done[0].id, actor=done[0].owner_id, now=clock(), settings=rt.ctx.settings)
    assert gate_at(rt, launch_id, 0).status == GateStatus.PENDING
    deliver(bot)
    (withdrawn,) = reviews(standin, "ULEAD")
    assert decide_buttons(withdrawn) == [] and "withdrawn" in text_of(withdrawn)
    (in_channel,) = channel_reviews(standin, rt, launch_id)
    assert decide_buttons(in_channel) == []

    answer(rt, clock, done[0])
    assert gate_at(rt, launch_id, 0).review_round == 2
    deliver(bot)
    second = reviews(standin, "ULEAD")
    assert len(second) == 2 and decide_buttons(second[-1]) and "round 2" in text_of(second[-1])


def test_gates_are_decided_in_order(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 1)
    assert gate_at(rt, launch_id, 1).status == GateStatus.PENDING  # its turn has not come
    satisfy(rt, clock, launch_id, 0)
    assert [gate_at(rt, launch_id, p).status for p in (0, 1)] == [GateStatus.IN_REVIEW, GateStatus.PENDING]
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    assert [gate_at(rt, launch_id, p).status for p in (0, 1)] == [GateStatus.GO, GateStatus.IN_REVIEW]
    deliver(bot)
    assert len(reviews(standin, "ULEAD")) == 2


def test_fast_path_gate_is_decided_with_the_gate_before_it(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    set_gate(rt, launch_id, 1, fast_path=True)
    satisfy(rt, clock, launch_id, 0)
    satisfy(rt, clock, launch_id, 1)
    first, second = gate_at(rt, launch_id, 0), gate_at(rt, launch_id, 1)
    assert (first.status, second.status) == (GateStatus.IN_REVIEW, GateStatus.IN_REVIEW)
    deliver(bot)
    (message,) = reviews(standin, "ULEAD")  # one review covers both gates
    assert "Fast path" in text_of(message) and second.name in text_of(message)

    standin.click(bot.url, "ULEAD", message, "gate.decide:go")
    lead_decision, fast = standin.wait_for(lambda: decisions_of(rt, launch_id))
    assert (lead_decision.gate_id, fast.gate_id) == (first.id, second.id)
    assert fast.decided_with_id == lead_decision.id and fast.outcome == lead_decision.outcome == "go"
    assert {s["id"] for s in fast.snapshot} == {i.id for i in items_of(rt, launch_id, 1)}
    assert [gate_at(rt, launch_id, p).status for p in (0, 1)] == [GateStatus.GO, GateStatus.GO]


def test_fast_path_gate_does_not_join_a_review_already_voted_on(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    set_gate(rt, launch_id, 0, quorum="all")
    set_gate(rt, launch_id, 1, fast_path=True)
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    satisfy(rt, clock, launch_id, 1)
    assert gate_at(rt, launch_id, 1).status == GateStatus.PENDING  # ULEAD voted without seeing it
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD2")
    assert len(decisions_of(rt, launch_id)) == 1
    assert gate_at(rt, launch_id, 1).status == GateStatus.IN_REVIEW  # now reviewed on its own


def test_stale_buttons_show_the_outcome_and_a_late_click_is_answered(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, "ULEAD2")
    satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    (mine,) = reviews(standin, "ULEAD")
    (theirs,) = reviews(standin, "ULEAD2")
    standin.click(bot.url, "ULEAD", mine, "gate.decide:go")
    standin.wait_for(lambda: decisions_of(rt, launch_id))  # the vote is recorded right after the ack
    deliver(bot)
    gate = gate_at(rt, launch_id, 0)
    for message in (*reviews(standin, "ULEAD"), *reviews(standin, "ULEAD2"), *channel_reviews(standin, rt, launch_id)):
        assert decide_buttons(message) == []
        assert "decided by <@ULEAD>" in text_of(message)
    # ULEAD2 clicks the button they still had on screen before the update reached them.
    go = next(e for b in theirs["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"] == "gate.decide:go")
    standin.send_block_action(bot.url, "ULEAD2", "gate.decide:go", go["value"], message=theirs,
                              channel_id=theirs["channel"])
    told = standin.wait_for(lambda: standin.ephemerals(user="ULEAD2"))
    assert "already decided" in told[-1]["text"]
    assert len(decisions_of(rt, launch_id)) == 1 and gate.status == GateStatus.GO


def test_status_card_coalesces_a_burst_into_one_update(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    deliver(bot)
    card_ref = remembered(rt.ctx.engine, f"status_card:{launch_id}")
    updates_before = len(standin.ok_calls("chat.update"))
    burst = [i for i in items_of(rt, launch_id, 0) if i.required][:4]
    for item in burst:
        answer(rt, clock, item)  # four commands, four transactions
    with unit_of_work(rt.ctx.engine) as session:
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "status_card",
                                                          OutboxMessage.status == OutboxStatus.PENDING)).all()
    assert len(queued) == 1
    deliver(bot)
    card_updates = [c for c in standin.ok_calls("chat.update")[updates_before:] if c.params["ts"] == card_ref.ts]
    assert len(card_updates) == 1
    (card,) = [m for m in standin.messages(card_ref.channel_id) if m["ts"] == card_ref.ts]
    assert "in review" in text_of(card) or "%" in text_of(card)


def test_status_card_shows_decisions_and_who_made_them(standin, bot, rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    satisfy(rt, clock, launch_id, 1)
    deliver(bot)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    deliver(bot)
    ref = remembered(rt.ctx.engine, f"status_card:{launch_id}")
    (card,) = [m for m in standin.messages(ref.channel_id) if m["ts"] == ref.ts]
    assert "*Go* by <@ULEAD>" in text_of(card)
    assert json.dumps(card).count("in review") == 1  # the next gate, round 1
