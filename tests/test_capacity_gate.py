"""The issue's story: marketing forecasts 8000/8000/8000/6000/5000/4000 a week, WFM plans 5 FTE.
launchgate computes the requirement, tells WFM, flags the gap and refuses a plain Go."""
from __future__ import annotations

from datetime import date

import pytest

from bot.db import unit_of_work
from bot.services import answers, capacity, waivers
from bot.services.decisions import Condition
from bot.services.errors import FieldErrors
from models import AuditEvent, GateStatus, Launch, OutboxMessage
from sqlmodel import select
from tests.gate_support import gate_at, items_of, open_launch, satisfy, vote

FORECAST = {"week1": "8000", "week2": "8000", "week3": "8000", "week4": "6000", "week5": "5000", "week6": "4000",
            "aht": "3", "sl_percent": "80", "sl_seconds": "20", "shrinkage": "30"}


def _item(rt, launch_id, kind):
    return next(i for i in items_of(rt, launch_id) if i.answer_kind == kind)


def _answer(rt, clock, item, values, actor=None):
    with unit_of_work(rt.ctx.engine) as session:
        answers.answer(session, item.id, values, actor=actor or item.owner_id, now=clock(), settings=rt.ctx.settings)


def _planning_in_review(rt, clock, plan: str):
    launch_id = open_launch(rt, clock, markets=("FR",))
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    _answer(rt, clock, _item(rt, launch_id, "capacity_plan"), {"fp.fr-default": plan})
    satisfy(rt, clock, launch_id, 1)
    gate = gate_at(rt, launch_id, 1)
    assert gate.status == GateStatus.IN_REVIEW
    return launch_id, gate


def test_forecast_dm_to_wfm_has_the_numbers_and_the_requirement(rt, clock):
    launch_id = open_launch(rt, clock, markets=("FR",))
    plan = _item(rt, launch_id, "capacity_plan")
    assert plan.owner_id == "UWFM"
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    with unit_of_work(rt.ctx.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == "UWFM",
                                                        OutboxMessage.kind == "text")).all()
        cap = capacity.launch_capacity(session, session.get(Launch, launch_id), rt.ctx.settings)
    (dm,) = [r for r in rows if "📈" in r.payload["text"]]
    text = dm.payload["text"]
    week1 = cap.queues[0].required[0]
    assert f"{week1.fte:.1f}" in text and "entered by <@UMKT>" in text and "fr-default" in text
    assert 20 < week1.fte < 30 and week1.peak_agents == 10
    assert "WFM plan pending" in text and "capacity-plan item" in text
    # a change is announced again, as a change
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST | {"week1": "9000"})
    with unit_of_work(rt.ctx.engine) as session:
        texts = [r.payload["text"] for r in session.exec(select(OutboxMessage).where(
            OutboxMessage.recipient == "UWFM", OutboxMessage.kind == "text")) if "📈" in r.payload["text"]]
    assert len(texts) == 2 and "changed by <@UMKT>" in texts[1]


def test_five_fte_against_the_forecast_is_a_gap_and_plain_go_is_refused(rt, clock):
    launch_id, gate = _planning_in_review(rt, clock, "5, 5, 5, 5, 5, 5")
    with unit_of_work(rt.ctx.engine) as session:
        launch = session.get(Launch, launch_id)
        verdict = capacity.verdict_for(session, launch, rt.ctx.settings)
        gap_events = session.exec(select(AuditEvent).where(AuditEvent.action == "capacity.gap")).all()
    assert verdict.startswith("⚠️ Capacity: short ") and "in weeks 1–6, FR phone" in verdict
    assert gap_events and [g["week"] for g in gap_events[-1].after["gaps"]] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(FieldErrors) as refused:
        vote(rt, clock, gate, "ULEAD", "go")
    assert "Go with conditions" in refused.value.errors["reason"]
    decision = vote(rt, clock, gate, "ULEAD", "go_with_conditions", reason="Overtime and partner hours",
                    conditions=[Condition("Book partner hours for weeks 1–3", "UWFM", date(2027, 9, 30))]).decision
    assert decision.outcome == "go_with_conditions"


def test_a_plan_within_tolerance_covers_the_forecast_and_go_is_allowed(rt, clock):
    launch_id = open_launch(rt, clock, markets=("FR",))
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    with unit_of_work(rt.ctx.engine) as session:
        launch = session.get(Launch, launch_id)
        need = [r.fte for r in capacity.launch_capacity(session, launch, rt.ctx.settings).queues[0].required]
    # 4 % under the requirement is inside the 5 % tolerance
    launch_id, gate = _planning_in_review(rt, clock, ", ".join(f"{x * 0.96:.2f}" for x in need))
    with unit_of_work(rt.ctx.engine) as session:
        launch = session.get(Launch, launch_id)
        assert capacity.verdict_for(session, launch, rt.ctx.settings) == "Capacity: WFM plan covers 6/6 weeks"
    assert vote(rt, clock, gate, "ULEAD", "go").decision.outcome == "go"


def test_a_waived_plan_lets_go_through_with_the_reason_on_record(rt, clock):
    launch_id = open_launch(rt, clock, markets=("FR",))
    satisfy(rt, clock, launch_id, 0)
    vote(rt, clock, gate_at(rt, launch_id, 0), "ULEAD")
    _answer(rt, clock, _item(rt, launch_id, "forecast"), FORECAST)
    plan = _item(rt, launch_id, "capacity_plan")
    with unit_of_work(rt.ctx.engine) as session:
        waivers.waive(session, plan.id, "ULEAD", "Partner absorbs the peak under contract 2027-14", None,
                      now=clock(), settings=rt.ctx.settings)
    satisfy(rt, clock, launch_id, 1)
    with unit_of_work(rt.ctx.engine) as session:
        launch = session.get(Launch, launch_id)
        assert capacity.verdict_for(session, launch, rt.ctx.settings).startswith("Capacity: WFM plan waived")
    assert vote(rt, clock, gate_at(rt, launch_id, 1), "ULEAD", "go").decision.outcome == "go"
