"""Helpers for the gate, decision, waiver, audit and Home tests.

Items are picked by gate position, owner role and answer kind, never by id or
question text, because the checklist content is still being written. Items
are answered through the real answer service (as their owner), so every
review opens exactly as it would in production.
"""
from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from bot.db import unit_of_work
from bot.services import answers, decisions, gates, launches, policy
from models import Gate, GateDecision, Item, Launch, LaunchRole, Vote
from tests.flows import lift_openings

LAUNCH_DATE = date(2027, 11, 15)


def open_launch(rt, clock, *, kind: str = "product", markets=("FR", "DE"), owner: str = "UPM",
                lead: str = "ULEAD", name: str = "Instant payouts", channel: str | None = None,
                opened: bool = True) -> int:
    """`opened`: lift Go/No-go's and the post-launch review's openings (tests/flows.lift_openings)."""
    template = rt.ctx.templates[kind]
    form = launches.LaunchForm(name=name, kind=kind, markets=list(markets), launch_date=LAUNCH_DATE,
                               readiness_lead_id=lead, brief="Payouts in seconds", channel_id=channel)
    form = launches.validate_form(form, rt.ctx.templates, clock().date())
    with unit_of_work(rt.ctx.engine) as session:
        launch = launches.open_launch(session, form, actor=owner, template=template, now=clock(),
                                      reminder_policy=policy.for_template(rt.ctx.settings, template).as_dict())
        launch_id = launch.id
    if opened:
        lift_openings(rt.ctx.engine)
    return launch_id


def gate_at(rt, launch_id: int, position: int) -> Gate:
    with unit_of_work(rt.ctx.engine) as session:
        return session.exec(select(Gate).where(Gate.launch_id == launch_id, Gate.position == position)).one()


def gates_of(rt, launch_id: int) -> list[Gate]:
    with unit_of_work(rt.ctx.engine) as session:
        return gates.gates_of(session, launch_id)


def items_of(rt, launch_id: int, position: int | None = None) -> list[Item]:
    with unit_of_work(rt.ctx.engine) as session:
        stmt = select(Item).join(Gate, Gate.id == Item.gate_id).where(Item.launch_id == launch_id)
        if position is not None:
            stmt = stmt.where(Gate.position == position)
        return list(session.exec(stmt.order_by(Item.id)))


def launch_of(rt, launch_id: int) -> Launch:
    with unit_of_work(rt.ctx.engine) as session:
        return session.get(Launch, launch_id)


def set_gate(rt, launch_id: int, position: int, **values) -> None:
    """Template settings a test needs (quorum, fast path, self-approval) — setup, not behaviour."""
    with unit_of_work(rt.ctx.engine) as session:
        gate = session.exec(select(Gate).where(Gate.launch_id == launch_id, Gate.position == position)).one()
        for key, value in values.items():
            setattr(gate, key, value)
        session.add(gate)


def add_approvers(rt, launch_id: int, *users: str, role: str = "readiness_lead") -> None:
    with unit_of_work(rt.ctx.engine) as session:
        for user in users:
            session.add(LaunchRole(launch_id=launch_id, role=role, user_id=user))


def valid_values(item: Item) -> dict:
    """Answer-modal values that the answer service accepts for this item's kind."""
    kind = item.answer_kind
    evidence = f"https://evidence.example.com/{item.item_key}"
    if kind == "confirm":
        return {"status": "done", "evidence": evidence}
    if kind == "number":
        low, high = item.min_value, item.max_value
        value = (low + high) / 2 if low is not None and high is not None else low if low is not None else \
            high if high is not None else 42
        return {"value": str(int(value) if float(value).is_integer() else value), "evidence": evidence}
    if kind == "forecast":
        return {**{f"week{n}": str(100 * n) for n in range(1, 7)}, "aht": "6", "sl_percent": "80",
                "sl_seconds": "30", "shrinkage": "30"}
    if kind == "capacity_plan":   # plenty of FTE on the default queue of every market the tests use: no gap
        return {f"fp.{m}-default": "1000, 1000, 1000, 1000, 1000, 1000" for m in ("fr", "de", "gb", "jp", "us")} | {
            "evidence": evidence}
    if kind == "link":
        return {"value": f"https://docs.example.com/{item.item_key}"}
    if kind == "choice":
        return {"value": item.choices[0]}
    return {"value": "Agreed with finance on 2 Aug", "evidence": evidence}


def answer(rt, clock, item: Item, actor: str | None = None) -> None:
    if item.answer_kind == "accuracy":   # computed from actuals: WFM enters week 1's first
        enter_actuals(rt, clock, item.launch_id)
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, item.id, valid_values(item), actor=actor or item.owner_id, now=clock(),
                       settings=rt.ctx.settings)


def satisfy(rt, clock, launch_id: int, position: int, *, optional: bool = False) -> list[Item]:
    """Answer every required (and, if asked, optional) open item of the gate at `position`."""
    done = []
    for item in items_of(rt, launch_id, position):
        if item.is_open and (item.required or optional):
            answer(rt, clock, item)
            done.append(item)
    return done


def vote(rt, clock, gate: Gate, actor: str, outcome: str = "go", **ballot):
    with unit_of_work(rt.ctx.engine) as session:
        fresh = session.get(Gate, gate.id)
        return decisions.cast_vote(session, gate.id, fresh.review_round, actor,
                                   decisions.Ballot(outcome, **ballot), now=clock(), settings=rt.ctx.settings)


def decisions_of(rt, launch_id: int) -> list[GateDecision]:
    with unit_of_work(rt.ctx.engine) as session:
        return gates.decisions_of(session, launch_id)


def votes_of(rt, gate_id: int) -> list[Vote]:
    with unit_of_work(rt.ctx.engine) as session:
        return list(session.exec(select(Vote).where(Vote.gate_id == gate_id)))


def blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def buttons(message: dict) -> list[str]:
    """Action ids of every button, select and overflow in a message or view."""
    out = []
    for block in message.get("blocks", []):
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
        out += [e["action_id"] for e in elements if isinstance(e, dict) and e.get("action_id")]
    return out


def decide_buttons(message: dict) -> list[str]:
    return [a for a in buttons(message) if a.startswith("gate.decide")]


def form_values(view: dict, entries: dict) -> dict:
    """`view.state.values` for a modal the bot opened, filled by block id (None/missing = left empty)."""
    values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element, value = block["element"], entries.get(block["block_id"])
        kind = element["type"]
        if kind == "multi_static_select":
            options = {o["value"]: o for o in element.get("options", [])}
            state = {"selected_options": [options[str(v)] for v in value or []]}
        elif kind == "static_select":
            options = {o["value"]: o for g in element.get("option_groups", [{"options": element.get("options", [])}])
                       for o in g["options"]}
            state = {"selected_option": options[str(value)] if value is not None else None}
        elif kind == "users_select":
            state = {"selected_user": value}
        elif kind == "datepicker":
            state = {"selected_date": value.isoformat() if isinstance(value, date) else value}
        else:
            state = {"value": value}
        values[block["block_id"]] = {element["action_id"]: {"type": kind, **state}}
    unknown = set(entries) - set(values)
    assert not unknown, f"the modal has no inputs {sorted(unknown)}"
    return values


def review_message(standin, user: str) -> dict:
    """The latest review message in the person's DM."""
    return [m for m in standin.messages(standin.dm_channel_for(user)) if "Review:" in json.dumps(m)][-1]


def enter_actuals(rt, clock, launch_id: int, contacts: float = 100) -> None:
    """WFM's actuals for week 1 on every queue of the launch's forecast (as the Monday modal would save)."""
    from bot.capacity.config import Queues
    from bot.services import actuals

    with unit_of_work(rt.ctx.engine) as session:
        queues = actuals.forecast_queues(session, [launch_id], Queues({}, configured=False)).get(launch_id, {})
        actuals.record_many(session, [actuals.Actual(launch_id, q, 1, contacts) for q in queues], source="slack",
                            actor="UWFM", now=clock())
