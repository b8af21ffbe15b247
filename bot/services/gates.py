"""Gate review: which gate is up, when it goes to review, and who is asked.

Gates are decided in order. The *current* gate is the first one not passed
(Go / Go with conditions); it is in review exactly while every required item
is answered or waived. A fast-path gate right after it joins that review once
its own required items are satisfied (and before anyone has voted), and the
vote on the current gate decides both — each gets its own decision row.

`items_changed` is the hook every item state change calls. Every path that
evaluates gates locks the launch row first (PostgreSQL), so two answers
committed at the same moment cannot both miss that the gate is complete.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.codecs import ReviewPayload
from models import (
    Gate,
    GateDecision,
    GateStatus,
    Item,
    ItemState,
    Launch,
    LaunchStatus,
    Vote,
)

from . import access, audit, changes, directory, locks, outbox
from .changes import ApprovalsChanged, LaunchChanged, ReviewChanged
from .outbox import LAUNCH_CHANNEL
from .readable import item_snapshot

PASSED = (GateStatus.GO, GateStatus.GO_WITH_CONDITIONS)
SATISFIED = (ItemState.DONE, ItemState.NA, ItemState.WAIVED)  # Item.satisfied
SYSTEM = audit.SYSTEM
CHANNEL = "channel"  # the review message's copy in the launch channel


class GateKind:
    """Outbox kinds of this module (rendered in bot/delivery/gate_renderers.py)."""

    NOTICE = "gate_notice"          # one line about a decision, hold, waiver… (DM or launch channel)
    LAUNCHES = "launches_notice"    # the same in LAUNCHES_CHANNEL, when that is set


# -- reading -------------------------------------------------------------------------------

def lock_launch(session: Session, launch_id: int) -> Launch:
    """The launch row, re-read and (PostgreSQL) locked for the rest of the transaction."""
    return locks.launch(session, launch_id)


def gates_of(session: Session, launch_id: int) -> list[Gate]:
    stmt = select(Gate).where(Gate.launch_id == launch_id).order_by(Gate.position)
    return list(session.exec(stmt.execution_options(populate_existing=True)))


def items_by_gate(session: Session, launch_id: int) -> dict[int, list[Item]]:
    stmt = select(Item).where(Item.launch_id == launch_id).order_by(Item.due_at, Item.id)
    out: dict[int, list[Item]] = {}
    for item in session.exec(stmt.execution_options(populate_existing=True)):
        out.setdefault(item.gate_id, []).append(item)
    return out


def satisfied(items: Iterable[Item]) -> bool:
    return all(i.satisfied for i in items if i.required)


def approvers(session: Session, launch: Launch, gate: Gate) -> list[str]:
    """Who may decide this gate: holders of its approver role on the launch.

    The launch owner is left out unless the template allows self-approval. If
    nobody is left, the workspace admins decide rather than nobody.
    """
    holders = access.role_holders(session, launch.id, gate.approver_role)
    if gate.approver_role == "readiness_lead" and launch.readiness_lead_id not in holders:
        holders.insert(0, launch.readiness_lead_id)
    eligible = [u for u in holders if gate.allow_self_approval or u != launch.owner_id]
    if not eligible:
        eligible = [u for u in directory.members(session, directory.ADMIN)
                    if gate.allow_self_approval or u != launch.owner_id]
    return eligible


def needed_votes(gate: Gate, approver_ids: list[str]) -> int:
    """Go votes that decide the gate: any → 1, all → everyone, N → N (at most everyone)."""
    if gate.quorum == "all":
        return max(1, len(approver_ids))
    if gate.quorum.isdigit():
        return max(1, min(int(gate.quorum), len(approver_ids) or 1))
    return 1


def quorum_label(gate: Gate, approver_ids: list[str]) -> str:
    if gate.quorum == "all":
        return f"all {len(approver_ids)} approvers"
    if gate.quorum.isdigit() and needed_votes(gate, approver_ids) > 1:
        return f"{needed_votes(gate, approver_ids)} of {len(approver_ids)} approvers"
    return "any one approver"


def votes_in(session: Session, gate_id: int, round_: int) -> list[Vote]:
    return list(session.exec(select(Vote).where(Vote.gate_id == gate_id, Vote.round == round_).order_by(Vote.id)))


def decision_for(session: Session, gate_id: int, round_: int) -> GateDecision | None:
    return session.exec(select(GateDecision).where(GateDecision.gate_id == gate_id,
                                                   GateDecision.round == round_)).first()


def decisions_of(session: Session, launch_id: int) -> list[GateDecision]:
    return list(session.exec(select(GateDecision).where(GateDecision.launch_id == launch_id)
                             .order_by(GateDecision.decided_at, GateDecision.id)))


def latest_decisions(session: Session, launch_id: int) -> dict[int, GateDecision]:
    """The most recent decision of each gate (for the status card)."""
    return {d.gate_id: d for d in decisions_of(session, launch_id)}


def current_index(gates: list[Gate]) -> int | None:
    return next((n for n, g in enumerate(gates) if g.status not in PASSED), None)


def review_chain(gates: list[Gate]) -> list[Gate]:
    """The current gate and the fast-path gates in review with it (lead first)."""
    start = current_index(gates)
    if start is None or gates[start].status != GateStatus.IN_REVIEW:
        return []
    chain = [gates[start]]
    for gate in gates[start + 1:]:
        if not (gate.fast_path and gate.status == GateStatus.IN_REVIEW):
            break
        chain.append(gate)
    return chain


def lead_of(session: Session, gate: Gate) -> Gate:
    """The gate whose review (and votes) this gate belongs to."""
    chain = review_chain(gates_of(session, gate.launch_id))
    return chain[0] if gate in chain[1:] else gate


# -- the review state machine --------------------------------------------------------------

def items_changed(session: Session, launch: Launch, gate_ids: Iterable[int], *, actor: str, now: datetime) -> None:
    """Called after items of these gates changed state (answered, reopened, waived…)."""
    launch = lock_launch(session, launch.id)  # already locked by the use case: no statement
    gates = gates_of(session, launch.id)      # read once, after the lock; sync changes these objects
    before = {g.id: (g.status, g.review_round) for g in gates}
    sync(session, launch, actor=actor, now=now, gates=gates)
    changed = set(gate_ids)
    chain = review_chain(gates)
    if chain and before.get(chain[0].id) == (chain[0].status, chain[0].review_round) \
            and changed & {g.id for g in chain}:
        refresh_review(session, launch, chain[0], chain[0].review_round, now=now)  # an answer changed under review


def unsatisfied_by_gate(session: Session, launch_id: int) -> dict[int, int]:
    """Gate id → its required items not yet answered or waived (gates with none are left out):
    one aggregate, no item rows loaded."""
    rows = session.exec(select(Item.gate_id, func.count()).where(
        Item.launch_id == launch_id, Item.required.is_(True), Item.state.not_in(SATISFIED)).group_by(Item.gate_id))
    return {gate_id: n for gate_id, n in rows}


def sync(session: Session, launch: Launch, *, actor: str, now: datetime, gates: list[Gate] | None = None) -> None:
    """Bring gate statuses in line with their items; ask approvers when a review opens.
    `gates`: the launch's gates in order, when the caller has just read them (after the lock)."""
    if launch.status != LaunchStatus.OPEN:
        return
    gates = gates if gates is not None else gates_of(session, launch.id)
    open_items = unsatisfied_by_gate(session, launch.id)
    start = current_index(gates)
    if start is None:
        finish_if_done(session, launch, now=now)
        return
    lead = gates[start]
    if lead.status in (GateStatus.HOLD, GateStatus.KILLED):
        return
    lead_ready = not open_items.get(lead.id)
    opened = withdrawn = False
    if lead_ready and lead.status != GateStatus.IN_REVIEW:
        _open(session, launch, lead, now, note="every required item is answered or waived")
        opened = True
    elif not lead_ready and lead.status == GateStatus.IN_REVIEW:
        _withdraw(session, launch, lead, now)
        withdrawn = True
    can_join = lead_ready and (opened or not votes_in(session, lead.id, lead.review_round))
    chain_ok, followers_moved = lead_ready, False
    for gate in gates[start + 1:]:
        in_chain = chain_ok and gate.fast_path
        ready = in_chain and not open_items.get(gate.id) and (gate.status == GateStatus.IN_REVIEW or can_join)
        if ready and gate.status != GateStatus.IN_REVIEW:
            _open(session, launch, gate, now, note=f"fast path: decided with {lead.name}")
            followers_moved = True
        elif not ready and gate.status == GateStatus.IN_REVIEW:
            gate.status = GateStatus.PENDING
            session.add(gate)
            followers_moved = True
        chain_ok = ready
    if opened:
        targets = review_targets(session, launch, lead)
        for target in targets:
            outbox.enqueue(session, outbox.Kind.REVIEW, recipient(target), _review_payload(lead, target),
                           launch_id=launch.id, dedupe_key=f"review:{lead.id}:{lead.review_round}:{target}", now=now)
        changes.record(session, ApprovalsChanged(tuple(t for t in targets if t != CHANNEL)), now=now)
    elif followers_moved and not withdrawn and lead.status == GateStatus.IN_REVIEW:
        refresh_review(session, launch, lead, lead.review_round, now=now)
    if opened or withdrawn or followers_moved:
        changes.record(session, LaunchChanged(launch.id), now=now)


def _open(session: Session, launch: Launch, gate: Gate, now: datetime, note: str) -> None:
    gate.status = GateStatus.IN_REVIEW
    gate.review_round += 1
    gate.review_opened_at = now
    session.add(gate)
    audit.record(session, actor=SYSTEM, action="gate.review_opened", entity="gate", entity_id=gate.id,
                 launch_id=launch.id, after={"round": gate.review_round}, note=note, at=now)


def _withdraw(session: Session, launch: Launch, gate: Gate, now: datetime) -> None:
    gate.status = GateStatus.PENDING
    session.add(gate)
    audit.record(session, actor=SYSTEM, action="gate.review_withdrawn", entity="gate", entity_id=gate.id,
                 launch_id=launch.id, before={"round": gate.review_round},
                 note="a required item was reopened", at=now)
    refresh_review(session, launch, gate, gate.review_round, now=now)


def finish_if_done(session: Session, launch: Launch, *, now: datetime, actor: str = SYSTEM) -> bool:
    """Every gate passed and every condition met → the launch is launched (and announced)."""
    if launch.status != LaunchStatus.OPEN:
        return False
    gates = gates_of(session, launch.id)
    if not gates or current_index(gates) is not None:
        return False
    if now.date() < launch.launch_date:  # ready, but "launched" waits for the day (lifecycle.launch_day)
        changes.record(session, LaunchChanged(launch.id), now=now)
        return False
    conditions = session.exec(select(Item).where(Item.launch_id == launch.id, Item.source_decision_id.is_not(None)))
    if any(i.required and not i.satisfied for i in conditions):
        return False
    launch.status = LaunchStatus.LAUNCHED
    launch.updated_at = now
    session.add(launch)
    audit.record(session, actor=actor, action="launch.launched", entity="launch", entity_id=launch.id,
                 launch_id=launch.id, before={"status": LaunchStatus.OPEN}, after={"status": LaunchStatus.LAUNCHED},
                 at=now)
    announce(session, launch, "launched", now=now)
    changes.record(session, LaunchChanged(launch.id), now=now)
    return True


# -- messages ------------------------------------------------------------------------------

def recipient(target: str) -> str:
    return LAUNCH_CHANNEL if target == CHANNEL else target


def _review_payload(gate: Gate, target: str) -> dict:
    return ReviewPayload(gate=gate.id, round=gate.review_round, to=target).dump()


def review_purpose(gate_id: int, round_: int, target: str) -> str:
    return f"review:{gate_id}:{round_}:{target}"


def review_targets(session: Session, launch: Launch, gate: Gate, round_: int | None = None) -> list[str]:
    people = approvers(session, launch, gate)
    if round_ is not None:
        people += [v.voter_id for v in votes_in(session, gate.id, round_)]
    return list(dict.fromkeys(people)) + [CHANNEL]


def refresh_review(session: Session, launch: Launch, gate: Gate, round_: int, *, now: datetime) -> None:
    """Every copy of this review (votes, outcome, or withdrawn) is re-rendered at commit (bot/services/effects.py)."""
    if round_ >= 1:
        changes.record(session, ReviewChanged(launch.id, gate.id, round_), now=now)


def notify(session: Session, launch: Launch, to: str, what: str, *, now: datetime, dedupe: str | None = None,
           **ids) -> None:
    """A one-line notice, worded at send time from the ids (see gate_renderers)."""
    outbox.enqueue(session, GateKind.NOTICE, recipient(to), {"what": what, **ids}, launch_id=launch.id,
                   dedupe_key=f"notice:{what}:{dedupe}" if dedupe else None, now=now)


def announce(session: Session, launch: Launch, what: str, *, now: datetime, **ids) -> None:
    """Launched / cancelled: in the launch channel and in LAUNCHES_CHANNEL."""
    notify(session, launch, CHANNEL, what, now=now, dedupe=f"{launch.id}:channel", **ids)
    outbox.enqueue(session, GateKind.LAUNCHES, "launches_channel", {"what": what, **ids}, launch_id=launch.id,
                   dedupe_key=f"launches:{what}:{launch.id}", now=now)


# -- review read model (rendered by bot/blocks/gate_views.py) ------------------------------

@dataclass
class ReviewGate:
    gate: Gate
    items: list[dict]                   # item snapshots: now, or as they were at the decision
    decision: GateDecision | None = None


@dataclass
class Review:
    launch: Launch
    lead: Gate
    round: int
    state: str                          # open | decided | withdrawn
    gates: list[ReviewGate]
    votes: list[Vote] = field(default_factory=list)
    approvers: list[str] = field(default_factory=list)
    needed: int = 1
    decision: GateDecision | None = None

    @property
    def go_votes(self) -> int:
        return sum(v.outcome in ("go", "go_with_conditions") for v in self.votes)

    def vote_of(self, user_id: str) -> Vote | None:
        return next((v for v in self.votes if v.voter_id == user_id), None)


def review(session: Session, gate_id: int, round_: int) -> Review | None:
    lead = session.get(Gate, gate_id)
    if lead is None:
        return None
    launch = session.get(Launch, lead.launch_id)
    gates = gates_of(session, launch.id)
    items = items_by_gate(session, launch.id)
    decision = decision_for(session, gate_id, round_)
    people = approvers(session, launch, lead)
    base: dict[str, Any] = dict(launch=launch, lead=lead, round=round_, votes=votes_in(session, gate_id, round_),
                approvers=people, needed=needed_votes(lead, people))
    if decision is not None:
        together = session.exec(select(GateDecision).where(GateDecision.decided_with_id == decision.id)
                                .order_by(GateDecision.id)).all()
        parts = [ReviewGate(lead, list(decision.snapshot), decision)]
        parts += [ReviewGate(session.get(Gate, d.gate_id), list(d.snapshot), d) for d in together]
        return Review(state="decided", gates=parts, decision=decision, **base)
    chain = review_chain(gates)
    if chain and chain[0].id == gate_id and lead.review_round == round_ and launch.status == LaunchStatus.OPEN:
        parts = [ReviewGate(g, [item_snapshot(i) for i in items.get(g.id, [])]) for g in chain]
        return Review(state="open", gates=parts, **base)
    return Review(state="withdrawn", gates=[ReviewGate(lead, [item_snapshot(i) for i in items.get(lead.id, [])])],
                  **base)
