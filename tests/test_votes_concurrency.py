"""Simultaneous votes: one vote per person, one outcome per review, whatever the timing.

Run against PostgreSQL (LAUNCHGATE_TEST_DATABASE_URL) to exercise the row
locks and unique constraints under real concurrency; on SQLite the same
tests check that serialised writers give the same answers.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import decisions
from bot.services.errors import Conflict
from models import AuditEvent, GateDecision, Vote
from tests.flows import deliver, text_of
from tests.gate_support import add_approvers, decisions_of, gate_at, launch_of, open_launch, satisfy, set_gate, votes_of

THREADS = 20
APPROVERS = [f"UAPPROVER{n:02d}" for n in range(THREADS)]


def all_at_once(count: int, work) -> list:
    """Run `work(n)` in `count` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as exc:  # collected and asserted on by the test
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def cast(rt, clock, gate, voter):
    with unit_of_work(rt.ctx.engine) as session:
        return decisions.cast_vote(session, gate.id, gate.review_round, voter, decisions.Ballot("go"), now=clock(),
                                   settings=rt.ctx.settings)


@pytest.fixture
def crowded_review(rt, clock):
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, *APPROVERS)
    return launch_id


def test_twenty_approvers_at_once_with_quorum_any_give_one_outcome(rt, clock, crowded_review):
    launch_id = crowded_review
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    results = all_at_once(THREADS, lambda n: cast(rt, clock, gate, APPROVERS[n]))
    won = [r for r in results if isinstance(r, decisions.VoteResult)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == THREADS - 1, results
    assert all("already decided" in str(r) for r in lost)
    assert len(votes_of(rt, gate.id)) == 1
    assert len(decisions_of(rt, launch_id)) == 1
    with unit_of_work(rt.ctx.engine) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "gate.decided")).all()) == 1


def test_twenty_approvers_at_once_with_quorum_all_give_twenty_votes_and_one_decision(rt, clock, crowded_review):
    launch_id = crowded_review
    set_gate(rt, launch_id, 0, quorum="all")
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    # ULEAD is an approver too: they vote first, then the twenty pile in together.
    cast(rt, clock, gate, "ULEAD")
    results = all_at_once(THREADS, lambda n: cast(rt, clock, gate, APPROVERS[n]))
    assert all(isinstance(r, decisions.VoteResult) for r in results), results
    assert sum(r.decision is not None for r in results) == 1
    assert len({v.voter_id for v in votes_of(rt, gate.id)}) == THREADS + 1
    (decision,) = decisions_of(rt, launch_id)
    assert len(decision.votes) == THREADS + 1 and decision.outcome == "go"


def test_one_person_clicking_twenty_times_votes_once(rt, clock, crowded_review):
    launch_id = crowded_review
    set_gate(rt, launch_id, 0, quorum="all")
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    results = all_at_once(THREADS, lambda n: cast(rt, clock, gate, "ULEAD"))
    assert sum(isinstance(r, decisions.VoteResult) for r in results) == 1
    assert all("already voted" in str(r) for r in results if not isinstance(r, decisions.VoteResult))
    assert [v.voter_id for v in votes_of(rt, gate.id)] == ["ULEAD"]
    assert decisions_of(rt, launch_id) == []


@pytest.mark.parametrize("quorum", ["any", "all"])
def test_concurrent_clicks_through_slack(standin, bot, rt, clock, quorum):
    people = ["ULEAD", "ULEAD2", "UAPPROVER00", "UAPPROVER01", "UAPPROVER02", "UAPPROVER03"]
    for person in people[2:]:
        standin.add_user(person, tz="Europe/London")
    launch_id = open_launch(rt, clock)
    add_approvers(rt, launch_id, *people[1:])
    set_gate(rt, launch_id, 0, quorum=quorum)
    satisfy(rt, clock, launch_id, 0)
    deliver(bot)
    channel = launch_of(rt, launch_id).channel_id
    (review,) = [m for m in standin.messages(channel) if "Review:" in text_of(m)]
    responses = all_at_once(len(people), lambda n: standin.click(bot.url, people[n], review, "gate.decide:go"))
    assert all(r.status_code == 200 for r in responses)
    gate = gate_at(rt, launch_id, 0)
    expected_votes = 1 if quorum == "any" else len(people)
    standin.wait_for(lambda: len(standin.ephemerals(channel=channel)) == len(people), timeout=10)
    assert len(votes_of(rt, gate.id)) == expected_votes
    (decision,) = decisions_of(rt, launch_id)
    assert len(decision.votes) == expected_votes
    replies = [e["text"] for e in standin.ephemerals(channel=channel)]
    assert sum("already decided" in r for r in replies) == len(people) - expected_votes


def test_the_database_itself_refuses_a_second_vote_or_decision(rt, clock):
    launch_id = open_launch(rt, clock)
    satisfy(rt, clock, launch_id, 0)
    gate = gate_at(rt, launch_id, 0)
    with unit_of_work(rt.ctx.engine) as session:
        session.add(Vote(gate_id=gate.id, round=1, voter_id="ULEAD", outcome="go", at=clock()))
    with pytest.raises(IntegrityError):
        with unit_of_work(rt.ctx.engine) as session:
            session.add(Vote(gate_id=gate.id, round=1, voter_id="ULEAD", outcome="kill", at=clock()))
    with unit_of_work(rt.ctx.engine) as session:
        session.add(GateDecision(gate_id=gate.id, launch_id=launch_id, round=1, outcome="go", decided_at=clock()))
    with pytest.raises(IntegrityError):
        with unit_of_work(rt.ctx.engine) as session:
            session.add(GateDecision(gate_id=gate.id, launch_id=launch_id, round=1, outcome="kill",
                                     decided_at=clock()))
