"""`launchgate report KEY [--html]`: the readiness report a lead pastes into a review.

The data is gathered here into plain objects; Jinja2 templates in
bot/reports/templates lay it out. HTML is autoescaped; Markdown goes through
the `md` filter, which escapes what would turn text into markup (table
pipes, emphasis, links, raw HTML) and keeps each value on one line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from models import GateDecision, ItemState, Launch, UserProfile, utcnow

from bot.config import load_settings

from . import capacity_report, gates, launches, timeline
from .readable import OUTCOME_ICONS, STATE_LABELS, answer_text, item_snapshot, outcome_label

TEMPLATES = Path(__file__).resolve().parent.parent / "reports" / "templates"
KIND_LABELS = {"product": "Product", "market": "Market", "campaign": "Campaign"}
STATUS_LABELS = {"open": "Open", "on_hold": "On hold", "cancelled": "Cancelled", "launched": "Launched",
                 "pending": "Pending", "in_review": "In review", "go": "Go", "go_with_conditions": "Go with conditions",
                 "hold": "Hold", "killed": "Killed"}
HIGHLIGHTS = 30


@dataclass
class Vote:
    who: str
    outcome: str
    at: str
    reason: str | None


@dataclass
class Decision:
    round: int
    outcome: str
    icon: str
    at: str
    approvers: list[str]
    votes: list[Vote]
    reason: str | None
    conditions: list[dict]
    fast_path: bool


@dataclass
class Row:
    question: str
    owner: str
    state: str
    answer: str
    evidence: str | None
    required: bool
    due: str
    blocked: bool
    condition: bool


@dataclass
class GateReport:
    name: str
    due: str
    status: str
    done: int
    required: int
    decisions: list[Decision] = field(default_factory=list)
    items: list[Row] = field(default_factory=list)


@dataclass
class Waiver:
    gate: str
    question: str
    owner: str
    by: str
    reason: str
    expires: str | None


@dataclass
class Report:
    launch: Launch
    kind: str
    status: str
    owner: str
    lead: str
    percent: int
    generated: str
    gates: list[GateReport]
    waivers: list[Waiver]
    blocked: list[tuple[str, Row]]
    highlights: list[tuple[str, str]]
    capacity: object = None            # capacity_report.CapacitySection, for launches with a forecast


class People:
    def __init__(self, session: Session):
        self.names = {p.user_id: p.real_name for p in session.exec(select(UserProfile)) if p.real_name}

    def __call__(self, user_id: str | None) -> str:
        if not user_id:
            return "unassigned"
        name = self.names.get(user_id)
        return f"{name} ({user_id})" if name else user_id


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _decision(d: GateDecision, who: People) -> Decision:
    return Decision(
        round=d.round, outcome=outcome_label(d.outcome), icon=OUTCOME_ICONS.get(d.outcome, ""), at=_when(d.decided_at),
        approvers=[who(u) for u in d.approvers],
        votes=[Vote(who(v["voter"]), outcome_label(v["outcome"]), _when(v["at"]), v.get("reason")) for v in d.votes],
        reason=d.reason,
        conditions=[{"text": c.get("text"), "owner": who(c.get("owner")), "due": c.get("due")}
                    for c in d.conditions or []],
        fast_path=d.decided_with_id is not None,
    )


def _row(snap: dict, who: People) -> Row:
    return Row(question=snap["question"], owner=who(snap["owner"]),
               state=STATE_LABELS.get(snap["state"], snap["state"]),
               answer=answer_text(snap), evidence=snap.get("evidence"), required=snap["required"],
               due=(snap.get("due_at") or "")[:10], blocked=snap["state"] == ItemState.BLOCKED,
               condition=snap.get("condition_of") is not None)


def build(session: Session, launch: Launch, settings=None) -> Report:
    who = People(session)
    ov = launches.overview(session, launch)
    decisions = timeline.decisions_by_gate(session, launch)
    gate_reports, waivers, blocked = [], [], []
    for gate in ov.gates:
        items = ov.items_in(gate)
        required = [i for i in items if i.required]
        report = GateReport(gate.name, gate.due_at.date().isoformat(), STATUS_LABELS.get(gate.status, gate.status),
                            sum(i.satisfied for i in required), len(required),
                            [_decision(d, who) for d in decisions.get(gate.id, [])],
                            [_row(item_snapshot(i), who) for i in items])
        gate_reports.append(report)
        for item in items:
            if item.state == ItemState.WAIVED:
                waivers.append(Waiver(gate.name, item.question, who(item.owner_id), who(item.waived_by),
                                      item.waiver_reason or "", _when(item.waiver_expires_at) or None))
        blocked += [(gate.name, row) for row in report.items if row.blocked]
    highlights = [(_when(e.at), f"{who(e.actor) if e.actor != gates.SYSTEM else 'launchgate'} {e.plain(who)}")
                  for e in timeline.entries(session, launch, limit=HIGHLIGHTS, highlights=True)]
    return Report(launch=launch, kind=KIND_LABELS.get(launch.kind, launch.kind),
                  status=STATUS_LABELS.get(launch.status, launch.status), owner=who(launch.owner_id),
                  lead=who(launch.readiness_lead_id), percent=ov.percent_done, generated=_when(utcnow()),
                  gates=gate_reports, waivers=waivers, blocked=blocked, highlights=highlights,
                  capacity=capacity_report.build(session, launch, settings or load_settings(), who))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md(value: object) -> str:
    """Inert Markdown on one line: safe inside a table cell or a list item."""
    text = " ".join(str(value if value is not None else "").split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_link(url: str | None, label: str = "link") -> str:
    if url and re.fullmatch(r"https?://[^\s()<>\[\]|]+", url):
        return f"[{md(label)}]({url})"
    return md(url or "")


def safe_url(url: str | None) -> str | None:
    return url if url and re.fullmatch(r"https?://\S+", url) else None


def _env(html: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # only reports need it: not on every start

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=md, md_link=md_link, safe_url=safe_url)
    return env


def render_report(session: Session, key: str, *, html: bool = False, viewer: str | None = None,
                  settings=None) -> str:
    launch = launches.get_launch(session, key, viewer=viewer)
    report = build(session, launch, settings)
    template = _env(html).get_template("report.html.j2" if html else "report.md.j2")
    return template.render(r=report)
