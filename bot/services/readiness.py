"""Readiness metrics from the record: audit events, immutable decisions, items and gates.

Every figure is one grouped query (no query per launch), labelled only with
low-cardinality values — launch kind, gate id (from the templates), role — never
a launch name or a person, so they can go to Prometheus as they are and private
launches leak nothing.

* open launches by kind and state (now)
* overdue required items by role (now: open or blocked, past due, launch open)
* gate cycle time: first review opened (`gate.review_opened`) → the decision that
  passed or killed the gate, per kind and gate
* first-time-right: the gate's first decided round was Go / Go with conditions
  (not Hold, Recycle or Kill), per kind and gate
* decided on time: that decision came on or before the gate's due date
* answered late: `item.answered` events after the item's due time, by role
* waivers granted: `item.waived` events, by role

`since` limits the event-based figures to events at or after it.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, select

from models import AuditEvent, Gate, GateDecision, Item, ItemState, Launch, LaunchStatus

CLOSING = ("go", "go_with_conditions", "kill")
PASSING = ("go", "go_with_conditions")
DAY = 86400.0
ANSWERED = ("item.answered", "item.marked_na")  # first answers (edits are not counted again)


@dataclass
class GateStats:
    kind: str
    gate: str
    cycle_seconds: list[float] = field(default_factory=list)
    first_reviews: int = 0
    first_time_right: int = 0
    decided: int = 0
    on_time: int = 0

    @property
    def first_time_right_ratio(self) -> float | None:
        return self.first_time_right / self.first_reviews if self.first_reviews else None

    @property
    def on_time_ratio(self) -> float | None:
        return self.on_time / self.decided if self.decided else None


@dataclass
class Readiness:
    since: datetime | None
    launches: dict[tuple[str, str], int]          # (kind, state) → count
    overdue: dict[str, int]                       # role → open required items past due
    gates: dict[tuple[str, str], GateStats]       # (kind, gate id)
    answered_late: dict[str, int]                 # role → answers after the due time
    answered: dict[str, int]                      # role → answers
    waivers: dict[str, int]                       # role → waivers granted

    def rows(self) -> list[dict]:
        """Flat rows (metric, kind, gate, role, state, value) for CSV and JSON."""
        out: list[dict] = []

        def add(metric, value, **labels):
            out.append({"metric": metric, "kind": labels.get("kind", ""), "gate": labels.get("gate", ""),
                        "role": labels.get("role", ""), "state": labels.get("state", ""), "value": value})

        for (kind, state), n in sorted(self.launches.items()):
            add("launches", n, kind=kind, state=state)
        for role, n in sorted(self.overdue.items()):
            add("overdue_items", n, role=role)
        for (kind, gate), g in sorted(self.gates.items()):
            if g.cycle_seconds:
                add("gate_cycle_days_median", round(statistics.median(g.cycle_seconds) / DAY, 2), kind=kind, gate=gate)
                add("gate_cycle_days_mean", round(statistics.fmean(g.cycle_seconds) / DAY, 2), kind=kind, gate=gate)
                add("gate_cycles", len(g.cycle_seconds), kind=kind, gate=gate)
            if g.first_reviews:
                add("first_time_right_ratio", round(g.first_time_right_ratio, 4), kind=kind, gate=gate)
            if g.decided:
                add("decided_on_time_ratio", round(g.on_time_ratio, 4), kind=kind, gate=gate)
        for role in sorted(set(self.answered) | set(self.answered_late)):
            add("items_answered", self.answered.get(role, 0), role=role)
            add("items_answered_late", self.answered_late.get(role, 0), role=role)
        for role, n in sorted(self.waivers.items()):
            add("waivers_granted", n, role=role)
        return out


def compute(session: Session, *, now: datetime, since: datetime | None = None) -> Readiness:
    return Readiness(
        since=since,
        launches=_launches(session),
        overdue=_overdue(session, now),
        gates=_gates(session, since),
        answered_late=_answers(session, since, late=True),
        answered=_answers(session, since, late=False),
        waivers=_waivers(session, since),
    )


def _launches(session: Session) -> dict[tuple[str, str], int]:
    rows = session.exec(select(Launch.kind, Launch.status, func.count()).group_by(Launch.kind, Launch.status))
    return {(kind, status): n for kind, status, n in rows}


def _overdue(session: Session, now: datetime) -> dict[str, int]:
    rows = session.exec(
        select(Item.owner_role, func.count()).join(Launch, Launch.id == Item.launch_id)
        .where(Launch.status == LaunchStatus.OPEN, Item.required.is_(True),
               Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]), Item.due_at < now)
        .group_by(Item.owner_role))
    return dict(rows.all())


def _gates(session: Session, since: datetime | None) -> dict[tuple[str, str], GateStats]:
    """Per gate: its first review opening, its first decided round and its closing decision."""
    opened = (select(AuditEvent.entity_id.label("gate_id"), func.min(AuditEvent.at).label("opened_at"))
              .where(AuditEvent.action == "gate.review_opened", AuditEvent.entity == "gate")
              .group_by(AuditEvent.entity_id).subquery())
    first_round = (select(GateDecision.gate_id, func.min(GateDecision.round).label("round"))
                   .group_by(GateDecision.gate_id).subquery())
    closing = (select(GateDecision.gate_id, func.min(GateDecision.decided_at).label("closed_at"))
               .where(GateDecision.outcome.in_(CLOSING)).group_by(GateDecision.gate_id).subquery())
    first = select(GateDecision.gate_id, GateDecision.outcome, GateDecision.decided_at).join(
        first_round, and_(first_round.c.gate_id == GateDecision.gate_id, first_round.c.round == GateDecision.round)
    ).subquery()
    stmt = (select(Launch.kind, Gate.gate_key, Gate.due_at, opened.c.opened_at, closing.c.closed_at,
                   first.c.outcome, first.c.decided_at)
            .join(Launch, Launch.id == Gate.launch_id)
            .join(first, first.c.gate_id == Gate.id)
            .outerjoin(opened, opened.c.gate_id == Gate.id)
            .outerjoin(closing, closing.c.gate_id == Gate.id))
    out: dict[tuple[str, str], GateStats] = {}
    for kind, gate_key, due_at, opened_at, closed_at, first_outcome, first_at in session.exec(stmt):
        stats = out.setdefault((kind, gate_key), GateStats(kind, gate_key))
        if since is None or first_at >= since:
            stats.first_reviews += 1
            stats.first_time_right += first_outcome in PASSING
        if closed_at is not None and (since is None or closed_at >= since):
            stats.decided += 1
            stats.on_time += closed_at.date() <= due_at.date()
            if opened_at is not None:
                stats.cycle_seconds.append(max(0.0, (closed_at - opened_at).total_seconds()))
    return out


def _item_events(actions: tuple[str, ...], since: datetime | None):
    stmt = select(Item.owner_role, func.count()).join(
        AuditEvent, and_(AuditEvent.entity == "item", AuditEvent.entity_id == Item.id)
    ).where(AuditEvent.action.in_(actions))
    return stmt.where(AuditEvent.at >= since) if since is not None else stmt


def _answers(session: Session, since: datetime | None, *, late: bool) -> dict[str, int]:
    stmt = _item_events(ANSWERED, since)
    if late:
        stmt = stmt.where(AuditEvent.at > Item.due_at)
    return dict(session.exec(stmt.group_by(Item.owner_role)).all())


def _waivers(session: Session, since: datetime | None) -> dict[str, int]:
    return dict(session.exec(_item_events(("item.waived",), since).group_by(Item.owner_role)).all())


def cycle_buckets() -> list[float]:
    """Histogram bounds for gate cycle time, in seconds: 1, 2, 5, 10, 20, 40 and 80 days."""
    return [d * DAY for d in (1, 2, 5, 10, 20, 40, 80)]


def by_bucket(values: list[float], bounds: list[float]) -> list[tuple[float, int]]:
    """Cumulative counts per upper bound, as Prometheus histograms want them."""
    counts = defaultdict(int)
    for bound in bounds:
        counts[bound] = sum(v <= bound for v in values)
    return [(b, counts[b]) for b in bounds]
