"""Votes, quorum and what each outcome does.

Go and Go-with-conditions votes count towards the gate's quorum (any / all /
N of its approvers). A single Hold, Recycle or Kill vote from an approver
decides at once: any approver may stop the line, and nobody has to wait for
the others to agree that something is wrong.

One vote per approver per round and one decision per round are UNIQUE
constraints; the launch and gate rows are locked (PostgreSQL) so that
twenty simultaneous clicks produce one outcome, and a constraint violation
still turns into a friendly "already" answer rather than an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.config import Settings
from bot.db import is_postgres
from models import Gate, GateDecision, GateStatus, Item, Launch, LaunchRole, LaunchStatus, Outcome, Vote

from . import access, audit, calendar, capacity, changes, gates, item_state, outbox, policy, reminders
from .changes import LaunchChanged, PromptsChanged
from .errors import Conflict, FieldErrors, NotFound
from .ids import db_id
from .readable import item_snapshot, outcome_label, safe, utc_time

STOP = (Outcome.HOLD, Outcome.RECYCLE, Outcome.KILL)
GOING = (Outcome.GO, Outcome.GO_WITH_CONDITIONS)
GATE_STATUS = {Outcome.GO: GateStatus.GO, Outcome.GO_WITH_CONDITIONS: GateStatus.GO_WITH_CONDITIONS,
               Outcome.HOLD: GateStatus.HOLD, Outcome.KILL: GateStatus.KILLED, Outcome.RECYCLE: GateStatus.PENDING}
REASON_MAX = 2000
CONDITION_MAX = 300
MAX_CONDITIONS = 3


@dataclass
class Condition:
    text: str = ""
    owner_id: str | None = None
    due: date | None = None


@dataclass
class Ballot:
    outcome: str
    reason: str = ""
    conditions: list[Condition] = field(default_factory=list)
    reopen: list[int] = field(default_factory=list)


@dataclass
class VoteResult:
    gate: Gate
    vote: Vote
    decision: GateDecision | None
    go_votes: int
    needed: int


# -- checks --------------------------------------------------------------------------------

def authorize(session: Session, launch: Launch, gate: Gate, actor: str, now: datetime) -> list[str]:
    """The gate's approvers, or an audited refusal when `actor` is not one of them."""
    people = gates.approvers(session, launch, gate)
    who = ", ".join(f"<@{u}>" for u in people[:5]) or "the readiness lead"
    if actor == launch.owner_id and not gate.allow_self_approval:
        raise access.refuse(session, launch=launch, actor=actor, action="vote", entity="gate", entity_id=gate.id,
                            message=f"You opened {launch.key}, so you can't decide its gates yourself: "
                                    f"{safe(gate.name)} is decided by {who}.", now=now)
    if actor not in people:
        raise access.refuse(session, launch=launch, actor=actor, action="vote", entity="gate", entity_id=gate.id,
                            message=f"Only the approvers of {safe(gate.name)} on {launch.key} can decide it: {who}.",
                            now=now)
    return people


def conflict(session: Session, launch: Launch, gate: Gate, round_: int) -> Conflict | None:
    """Why a vote on this gate and round cannot be taken now, if it cannot."""
    name = safe(gate.name)
    done = gates.decision_for(session, gate.id, round_)
    if done is not None:
        return Conflict(f"{name} was already decided in this review: *{outcome_label(done.outcome)}* "
                        f"({_voters(done)}, {utc_time(done.decided_at)}).")
    if launch.status != LaunchStatus.OPEN:
        state = {LaunchStatus.ON_HOLD: f"on hold — `/launch resume {launch.key}` first",
                 LaunchStatus.CANCELLED: "cancelled", LaunchStatus.LAUNCHED: "launched"}.get(launch.status)
        return Conflict(f"{launch.key} is {state}, so {name} can't be decided now.")
    if gate.status == GateStatus.IN_REVIEW and gates.lead_of(session, gate).id != gate.id:
        return Conflict(f"{name} is a fast-path gate: it is decided with the gate before it.")
    if gate.status != GateStatus.IN_REVIEW:
        return Conflict(f"{name} is not waiting for a decision any more (it is {gate.status.replace('_', ' ')}).")
    if gate.review_round != round_:
        return Conflict(f"This review of {name} is out of date; use the latest review message (round "
                        f"{gate.review_round}).")
    return None


def _voters(decision: GateDecision) -> str:
    names = [f"<@{v['voter']}>" for v in decision.votes if v.get("outcome") == decision.outcome] or \
        [f"<@{v['voter']}>" for v in decision.votes]
    return ", ".join(names[:5]) or "launchgate"


def check(session: Session, gate_id: int, round_: int, actor: str, now: datetime) -> tuple[Launch, Gate]:
    """Before opening a decision modal: may `actor` vote on this review right now?"""
    gate = session.get(Gate, gate_id)
    if gate is None:
        raise NotFound("That gate no longer exists.")
    launch = session.get(Launch, gate.launch_id)
    authorize(session, launch, gate, actor, now)
    check_gate_open(launch, gate, now)
    problem = conflict(session, launch, gate, round_) or _already_voted(session, gate, round_, actor)
    if problem:
        raise problem
    return launch, gate


def _already_voted(session: Session, gate: Gate, round_: int, actor: str) -> Conflict | None:
    vote = session.exec(select(Vote).where(Vote.gate_id == gate.id, Vote.round == round_,
                                           Vote.voter_id == actor)).first()
    if vote is None:
        return None
    return Conflict(f"You already voted *{outcome_label(vote.outcome)}* on {safe(gate.name)} "
                    f"({utc_time(vote.at)}). Votes can't be changed.")


def review_items(session: Session, gate: Gate) -> list[Item]:
    """Items of the gate and of the fast-path gates in review with it (Recycle picks from these)."""
    chain = gates.review_chain(gates.gates_of(session, gate.launch_id)) or [gate]
    by_gate = gates.items_by_gate(session, gate.launch_id)
    return [i for g in chain for i in by_gate.get(g.id, [])]


def clean(ballot: Ballot, items: list[Item], today: date) -> Ballot:
    """Validate a ballot; FieldErrors keys are the modal's block ids (see gate_views)."""
    errors: dict[str, str] = {}
    try:
        outcome = Outcome(ballot.outcome)
    except ValueError:
        raise FieldErrors({"reason": "Unknown decision."}) from None
    reason = (ballot.reason or "").strip()
    if outcome != Outcome.GO and not reason:
        errors["reason"] = f"Say why — a reason is required for {outcome_label(outcome)}."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason to {REASON_MAX} characters (this one has {len(reason)})."
    conditions: list[Condition] = []
    if outcome == Outcome.GO_WITH_CONDITIONS:
        for n, cond in enumerate(ballot.conditions[:MAX_CONDITIONS], start=1):
            text = " ".join((cond.text or "").split())
            if not text:
                if cond.owner_id or cond.due:
                    errors[f"condition_{n}"] = "Describe the condition, or clear its owner and date."
                continue
            if len(text) > CONDITION_MAX:
                errors[f"condition_{n}"] = f"Keep a condition to {CONDITION_MAX} characters."
            if not cond.owner_id:
                errors[f"condition_{n}_owner"] = "Pick who owns this condition."
            if cond.due is None:
                errors[f"condition_{n}_due"] = "Pick when it is due."
            elif cond.due < today:
                errors[f"condition_{n}_due"] = "The due date can't be in the past."
            conditions.append(Condition(text, cond.owner_id, cond.due))
        if not conditions and "condition_1" not in errors:
            errors["condition_1"] = "Add at least one condition (or choose Go)."
    reopen: list[int] = []
    if outcome == Outcome.RECYCLE:
        known = {i.id: i for i in items}
        reopen = [i for i in dict.fromkeys(db_id(r) for r in ballot.reopen) if i in known]
        if not reopen:
            errors["reopen"] = "Pick the items to send back."
        elif not any(known[i].required for i in reopen):
            errors["reopen"] = "Pick at least one required item: optional items don't hold the gate back."
    if errors:
        raise FieldErrors(errors)
    return Ballot(outcome, reason, conditions, reopen)


# -- voting --------------------------------------------------------------------------------

def check_gate_open(launch: Launch, gate: Gate, now: datetime) -> None:
    """A gate with an opening time (template key `opens`) is not decided before it."""
    if gate.opens_at is not None and now < gate.opens_at:
        raise item_state.NotOpenYet(
            f"Not yet: {safe(gate.name)} can be decided from "
            f"{item_state.opens_text(gate.opens_at, gate.opens_offset_business_days)}; "
            f"{launch.key} launches {launch.launch_date:%a %d %b %Y}.")


def _lock_gate(session: Session, gate_id: int) -> Gate | None:
    stmt = select(Gate).where(Gate.id == gate_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def cast_vote(session: Session, gate_id: int, round_: int, actor: str, ballot: Ballot, *, now: datetime,
              settings: Settings) -> VoteResult:
    """Record `actor`'s vote; decide the gate when it reaches quorum (or on a stop vote)."""
    gate = session.get(Gate, gate_id)
    if gate is None:
        raise NotFound("That gate no longer exists.")
    launch = gates.lock_launch(session, gate.launch_id)
    gate = _lock_gate(session, gate_id)
    people = authorize(session, launch, gate, actor, now)
    check_gate_open(launch, gate, now)
    problem = conflict(session, launch, gate, round_) or _already_voted(session, gate, round_, actor)
    if problem:
        raise problem
    ballot = clean(ballot, review_items(session, gate), now.date())
    capacity.check_go(session, launch, gate, ballot.outcome, settings)
    vote = Vote(gate_id=gate.id, round=round_, voter_id=actor, outcome=ballot.outcome, reason=ballot.reason or None,
                conditions=[_condition_json(c) for c in ballot.conditions] or None,
                reopen_item_ids=ballot.reopen or None, at=now)
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError:
        raise Conflict(f"You already voted on {safe(gate.name)}. Votes can't be changed.") from None
    audit.record(session, actor=actor, action="vote.cast", entity="gate", entity_id=gate.id, launch_id=launch.id,
                 after={"round": round_, "outcome": ballot.outcome, "reason": ballot.reason or None,
                        "conditions": vote.conditions, "reopen": vote.reopen_item_ids}, at=now)
    votes = gates.votes_in(session, gate.id, round_)
    needed = gates.needed_votes(gate, people)
    go_votes = sum(v.outcome in GOING for v in votes)
    decision = None
    if ballot.outcome in STOP:
        decision = _decide(session, launch, gate, round_, votes, Outcome(ballot.outcome), people, now, settings)
    elif go_votes >= needed:
        outcome = Outcome.GO_WITH_CONDITIONS if any(v.outcome == Outcome.GO_WITH_CONDITIONS for v in votes) \
            else Outcome.GO
        decision = _decide(session, launch, gate, round_, votes, outcome, people, now, settings)
    gates.refresh_review(session, launch, gate, round_, now=now)
    changes.record(session, LaunchChanged(launch.id), now=now)
    return VoteResult(gate, vote, decision, go_votes, needed)


def _condition_json(cond: Condition) -> dict:
    return {"text": cond.text, "owner": cond.owner_id, "due": cond.due.isoformat() if cond.due else None}


def _vote_json(vote: Vote) -> dict:
    return {"voter": vote.voter_id, "outcome": vote.outcome, "reason": vote.reason, "at": vote.at.isoformat(),
            "conditions": vote.conditions, "reopen": vote.reopen_item_ids}


# -- deciding ------------------------------------------------------------------------------

def _record(session: Session, launch: Launch, gate: Gate, round_: int, outcome: Outcome, votes: list[Vote],
            people: list[str], now: datetime, *, reason: str | None, conditions: list | None,
            items: list[Item], with_id: int | None = None) -> GateDecision:
    decision = GateDecision(gate_id=gate.id, launch_id=launch.id, round=round_, outcome=outcome, decided_at=now,
                            approvers=people, votes=[_vote_json(v) for v in votes], reason=reason,
                            conditions=conditions, snapshot=[item_snapshot(i) for i in items],
                            decided_with_id=with_id)
    try:
        with session.begin_nested():
            session.add(decision)
    except IntegrityError:
        raise Conflict(f"{safe(gate.name)} was already decided in this review.") from None
    audit.record(session, actor=votes[-1].voter_id if votes else gates.SYSTEM, action="gate.decided", entity="gate",
                 entity_id=gate.id, launch_id=launch.id,
                 before={"status": gate.status},
                 after={"decision": decision.id, "round": round_, "outcome": outcome, "reason": reason,
                        "conditions": conditions, "votes": decision.votes, "approvers": people,
                        "with": with_id}, at=now)
    gate.status = GATE_STATUS[outcome]
    if outcome in (*GOING, Outcome.KILL):
        gate.decided_at = now
    session.add(gate)
    return decision


def _decide(session: Session, launch: Launch, lead: Gate, round_: int, votes: list[Vote], outcome: Outcome,
            people: list[str], now: datetime, settings: Settings) -> GateDecision:
    all_gates = gates.gates_of(session, launch.id)
    chain = gates.review_chain(all_gates) or [lead]
    by_gate = gates.items_by_gate(session, launch.id)
    counted = (outcome,) if outcome in STOP else GOING
    deciding = [v for v in votes if v.outcome in counted]
    reason = "; ".join(v.reason for v in deciding if v.reason) or None
    conditions = [c for v in deciding for c in (v.conditions or [])] or None
    decision = _record(session, launch, lead, round_, outcome, votes, people, now, reason=reason,
                       conditions=conditions, items=by_gate.get(lead.id, []))
    followers = chain[1:]
    if outcome in GOING:
        for gate in followers:
            _record(session, launch, gate, gate.review_round, outcome, votes, people, now, reason=reason,
                    conditions=None, items=by_gate.get(gate.id, []), with_id=decision.id)
        if conditions:
            _add_conditions(session, launch, decision, all_gates, chain[-1], conditions, now, settings)
        gates.notify(session, launch, gates.CHANNEL, "decided", decision=decision.id, now=now, dedupe=str(decision.id))
        gates.sync(session, launch, actor=deciding[-1].voter_id, now=now)
        return decision
    for gate in followers:
        gate.status = GateStatus.PENDING
        session.add(gate)
    if outcome == Outcome.HOLD:
        _set_launch_status(session, launch, LaunchStatus.ON_HOLD, "launch.held", deciding[-1].voter_id, now, reason)
        gates.notify(session, launch, gates.CHANNEL, "decided", decision=decision.id, now=now, dedupe=str(decision.id))
    elif outcome == Outcome.KILL:
        _set_launch_status(session, launch, LaunchStatus.CANCELLED, "launch.cancelled", deciding[-1].voter_id, now,
                           reason)
        gates.announce(session, launch, "cancelled", now=now, decision=decision.id)
    else:
        _recycle(session, launch, decision, deciding[-1], now, settings)
        gates.notify(session, launch, gates.CHANNEL, "decided", decision=decision.id, now=now, dedupe=str(decision.id))
    return decision


def _set_launch_status(session: Session, launch: Launch, status: str, action: str, actor: str, now: datetime,
                       reason: str | None) -> None:
    before = launch.status
    launch.status = status
    launch.updated_at = now
    session.add(launch)
    audit.record(session, actor=actor, action=action, entity="launch", entity_id=launch.id, launch_id=launch.id,
                 before={"status": before}, after={"status": status}, note=reason, at=now)
    # Every stakeholder's live prompt says the launch is on hold, cancelled or complete.
    changes.record(session, PromptsChanged(launch.id), now=now)


def _recycle(session: Session, launch: Launch, decision: GateDecision, vote: Vote, now: datetime,
             settings: Settings) -> None:
    """Reopen the picked items; their owners are told why."""
    for item_id in vote.reopen_item_ids or []:
        item = session.get(Item, item_id)
        item_state.send_back(session, item, launch, actor=vote.voter_id, reason=decision.reason, now=now,
                             settings=settings)
        if item.owner_id:
            gates.notify(session, launch, item.owner_id, "recycled", now=now, item=item.id, decision=decision.id,
                         dedupe=f"{decision.id}:{item.id}")


def _add_conditions(session: Session, launch: Launch, decision: GateDecision, all_gates: list[Gate], last: Gate,
                    conditions: list[dict], now: datetime, settings: Settings) -> None:
    """Each condition becomes a required item of the next gate (the final gate if none is left)."""
    target = next((g for g in all_gates if g.position > last.position), all_gates[-1])
    gate = session.get(Gate, decision.gate_id)
    cadence = policy.for_launch(settings, launch)
    for n, cond in enumerate(conditions, start=1):
        due = date.fromisoformat(cond["due"])
        item = Item(
            launch_id=launch.id, gate_id=target.id, item_key=f"condition-{decision.id}-{n}",
            question=cond["text"],
            action=f"Condition set when {gate.name} was approved: {decision.reason or 'see the decision'}",
            why=f"{gate.name} passed on condition that this is done by {due.isoformat()}.",
            owner_role=_role_of(session, launch, cond["owner"]), owner_id=cond["owner"], answer_kind="confirm",
            required=True, due_offset_business_days=calendar.business_days_between(launch.launch_date, due,
                                                                                    launch.markets),
            due_at=datetime.combine(due, calendar.DUE_TIME, tzinfo=timezone.utc), source_decision_id=decision.id,
        )
        reminders.schedule_item(item, launch, cadence, now)
        session.add(item)
        session.flush()
        item_state.created(session, item, launch, actor=decision.votes[-1]["voter"],
                           after={"question": item.question, "owner": item.owner_id, "due_at": item.due_at,
                                  "gate": target.gate_key, "decision": decision.id}, note="condition", now=now)
        gates.notify(session, launch, item.owner_id, "condition", now=now, item=item.id, decision=decision.id,
                     dedupe=f"{decision.id}:{item.id}")
        if launch.channel_id:
            outbox.enqueue(session, outbox.Kind.INVITE, launch.channel_id, {"users": [item.owner_id]},
                           launch_id=launch.id, dedupe_key=f"invite:{launch.id}:{item.owner_id}", now=now)


def _role_of(session: Session, launch: Launch, user_id: str) -> str:
    role = session.exec(select(LaunchRole.role).where(LaunchRole.launch_id == launch.id,
                                                      LaunchRole.user_id == user_id).order_by(LaunchRole.id)).first()
    return role or "product_manager"


# -- resuming ------------------------------------------------------------------------------

def resume(session: Session, launch: Launch, actor: str, *, now: datetime, settings: Settings) -> Launch:
    """Lift a Hold: prompts start again and the held gate gets a fresh review."""
    launch = gates.lock_launch(session, launch.id)
    if not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="resume", entity="launch",
                            entity_id=launch.id, now=now,
                            message=f"Only the launch owner or a readiness lead can resume {launch.key}.")
    if launch.status != LaunchStatus.ON_HOLD:
        raise Conflict(f"{launch.key} is not on hold (it is {launch.status.replace('_', ' ')}).")
    _set_launch_status(session, launch, LaunchStatus.OPEN, "launch.resumed", actor, now, None)
    for gate in gates.gates_of(session, launch.id):
        if gate.status == GateStatus.HOLD:
            gate.status = GateStatus.PENDING
            session.add(gate)
    cadence = policy.for_launch(settings, launch)
    for items in gates.items_by_gate(session, launch.id).values():
        for item in items:
            if item.is_open:
                reminders.schedule_item(item, launch, cadence, now)
                session.add(item)
    gates.notify(session, launch, gates.CHANNEL, "resumed", now=now, by=actor, dedupe=f"{launch.id}:{now.isoformat()}")
    gates.sync(session, launch, actor=actor, now=now)
    changes.record(session, LaunchChanged(launch.id), now=now)
    return launch
