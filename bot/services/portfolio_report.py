"""`launchgate portfolio [--html]`: every open launch, a gate timeline, what is at risk, and the metrics.

Read set-based (launches, their gates, grouped item counts, decisions of the
week: a fixed number of statements). The timeline is SVG drawn on the server:
the geometry is computed here, the Jinja2 template writes the elements
(autoescaped), so the page needs no script and prints as it shows.

Private launches are left out unless the reader may see them (`viewer`), or the
operator asks for them (`include_private`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from models import Gate, GateDecision, Item, ItemState, Launch, LaunchStatus

from . import access, readiness
from .report import KIND_LABELS, STATUS_LABELS, TEMPLATES, md, safe_url
from .readable import outcome_label

ACTIVE = (LaunchStatus.OPEN, LaunchStatus.ON_HOLD)
PASSED = ("go", "go_with_conditions")
GATE_COLOURS = {"pending": "#9aa5b1", "in_review": "#f0a202", "go": "#2e7d32", "go_with_conditions": "#66bb6a",
                "hold": "#c62828", "killed": "#6d1b1b"}
WIDTH, LABEL_W, ROW_H, TOP = 980, 240, 30, 40


@dataclass
class GateMark:
    key: str
    name: str
    due: date
    status: str
    x: float = 0.0
    colour: str = ""


@dataclass
class LaunchLine:
    key: str
    name: str
    kind: str
    markets: str
    launch_date: date
    status: str
    private: bool
    gates: list[GateMark]
    current: GateMark | None
    required: int = 0
    done: int = 0
    overdue: int = 0
    blocked: int = 0
    held: bool = False
    # drawing
    y: float = 0.0
    x_start: float = 0.0
    x_launch: float = 0.0

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * self.done / self.required)

    @property
    def risks(self) -> list[str]:
        out = []
        if self.held:
            out.append("on hold")
        if self.overdue:
            out.append(f"{self.overdue} overdue required item{'s' if self.overdue != 1 else ''}")
        if self.blocked:
            out.append(f"{self.blocked} blocked item{'s' if self.blocked != 1 else ''}")
        return out


@dataclass
class Chart:
    width: int
    height: int
    label_w: int
    start: date
    end: date
    today_x: float
    ticks: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Portfolio:
    generated: datetime
    launches: list[LaunchLine]
    chart: Chart | None
    decisions: list[dict]
    next_week: list[LaunchLine]
    metrics: list[dict]
    hidden: int

    @property
    def at_risk(self) -> list[LaunchLine]:
        return [line for line in self.launches if line.risks]


def build(session: Session, *, now: datetime, viewer: str | None = None, include_private: bool = False,
          since: datetime | None = None) -> Portfolio:
    where = [Launch.status.in_(ACTIVE), access.visible_to(session, viewer)]
    if viewer is None and not include_private:
        where.append(Launch.private.is_(False))
    launches = list(session.exec(select(Launch).where(*where).order_by(Launch.launch_date, Launch.id)))
    hidden = 0
    if viewer is None and not include_private:
        hidden = session.exec(select(func.count()).select_from(Launch).where(
            Launch.status.in_(ACTIVE), Launch.private.is_(True))).one()
    ids = [launch.id for launch in launches]
    by_launch: dict[int, list[GateMark]] = {i: [] for i in ids}
    counts: dict[int, tuple[int, int, int, int]] = {}
    if ids:
        for gate in session.exec(select(Gate).where(Gate.launch_id.in_(ids)).order_by(Gate.launch_id, Gate.position)):
            by_launch[gate.launch_id].append(GateMark(gate.gate_key, gate.name, gate.due_at.date(), gate.status,
                                                      colour=GATE_COLOURS.get(gate.status, "#9aa5b1")))
        open_states = [ItemState.OPEN, ItemState.BLOCKED]
        rows = session.exec(select(
            Item.launch_id, func.count(),
            func.sum(case((Item.state.in_([ItemState.DONE, ItemState.NA, ItemState.WAIVED]), 1), else_=0)),
            func.sum(case((and_(Item.state.in_(open_states), Item.due_at < now), 1), else_=0)),
            func.sum(case((Item.state == ItemState.BLOCKED, 1), else_=0)),
        ).where(Item.launch_id.in_(ids), Item.required.is_(True)).group_by(Item.launch_id))
        counts = {lid: (int(n), int(d or 0), int(o or 0), int(b or 0)) for lid, n, d, o, b in rows}
    lines = []
    for launch in launches:
        marks = by_launch[launch.id]
        current = next((g for g in marks if g.status not in PASSED), None)
        required, done, overdue, blocked = counts.get(launch.id, (0, 0, 0, 0))
        lines.append(LaunchLine(launch.key, launch.name, KIND_LABELS.get(launch.kind, launch.kind),
                                ", ".join(launch.markets), launch.launch_date,
                                STATUS_LABELS.get(launch.status, launch.status), launch.private, marks, current,
                                required, done, overdue, blocked, launch.status == LaunchStatus.ON_HOLD))
    week_ago = now - timedelta(days=7)
    return Portfolio(
        generated=now,
        launches=lines,
        chart=_chart(lines, now.date()),
        decisions=_decisions(session, [launch.id for launch in launches], week_ago),
        next_week=[line for line in lines if now.date() <= line.launch_date <= now.date() + timedelta(days=7)],
        metrics=readiness.compute(session, now=now, since=since).rows(),
        hidden=hidden,
    )


def _decisions(session: Session, launch_ids: list[int], since: datetime) -> list[dict]:
    if not launch_ids:
        return []
    rows = session.exec(select(GateDecision, Gate.name, Launch.id, Launch.name)
                        .join(Gate, Gate.id == GateDecision.gate_id).join(Launch, Launch.id == GateDecision.launch_id)
                        .where(GateDecision.launch_id.in_(launch_ids), GateDecision.decided_at >= since)
                        .order_by(GateDecision.decided_at))
    return [{"key": f"LR-{lid}", "launch": lname, "gate": gname, "outcome": outcome_label(d.outcome),
             "at": d.decided_at.date().isoformat()} for d, gname, lid, lname in rows]


def _chart(lines: list[LaunchLine], today: date) -> Chart | None:
    if not lines:
        return None
    days = [today] + [g.due for line in lines for g in line.gates] + [line.launch_date for line in lines]
    start, end = min(days) - timedelta(days=3), max(days) + timedelta(days=3)
    span = max((end - start).days, 1)
    plot = WIDTH - LABEL_W - 20

    def x(day: date) -> float:
        return round(LABEL_W + plot * (day - start).days / span, 1)

    for n, line in enumerate(lines):
        line.y = TOP + n * ROW_H + ROW_H / 2
        for gate in line.gates:
            gate.x = x(gate.due)
        first = min((g.due for g in line.gates), default=line.launch_date)
        line.x_start, line.x_launch = x(min(first, line.launch_date)), x(line.launch_date)
    chart = Chart(WIDTH, TOP + len(lines) * ROW_H + 20, LABEL_W, start, end, x(today))
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            chart.ticks.append((x(month), month.strftime("%b %Y")))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return chart


def render(portfolio: Portfolio, *, html: bool = False) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # only reports need it: not on every start

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=md, safe_url=safe_url)
    return env.get_template("portfolio.html.j2" if html else "portfolio.md.j2").render(p=portfolio)
