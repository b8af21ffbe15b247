"""Through Slack: marketing's per-queue forecast, WFM's DM, WFM's plan modal with the requirement
beside each field, field errors in place, and the status card's one-line verdict."""
from __future__ import annotations

import json

import pytest

from models import ItemState
from tests.flows import deliver, dms, item, items, open_launch_via_slack, open_modal, prompt_for, text_of
from tests.test_answers import click, submit


def test_forecast_then_plan_through_slack(standin, bot):
    launch = open_launch_via_slack(standin, bot, markets=("FR", "DE"))
    engine = bot.rt.ctx.engine
    forecast = items(engine, launch.id, answer_kind="forecast")[0]
    plan = items(engine, launch.id, answer_kind="capacity_plan")[0]
    click(standin, bot, "UMKT", prompt_for(standin, bot, launch.id, "UMKT"), "item.answer", str(forecast.id))
    forecast_modal = open_modal(standin, "UMKT", "item_answer")
    optional = [b["label"]["text"] for b in forecast_modal["blocks"] if b["type"] == "input" and b.get("optional")]
    assert len(optional) >= 5  # per-queue rows, service level, shrinkage…: Slack itself adds "(optional)" to these
    assert not [label for label in optional if "optional" in label.lower()], optional
    submit(standin, bot, "UMKT", "item_answer", {"fq.fr-default": "8000, 8000, 8000, 6000, 5000, 4000",
                                                 "fa.fr-default": "3"})
    deliver(bot)
    assert item(engine, forecast.id).state == ItemState.DONE
    (note,) = [m for m in dms(standin, "UWFM") if "📈 *LR-" in text_of(m)]
    assert "fr-default" in text_of(note) and "FTE" in text_of(note) and "de-default" not in text_of(note)
    wfm_prompt = json.dumps(prompt_for(standin, bot, launch.id, "UWFM")["blocks"], ensure_ascii=False)
    assert "The forecast needs" in wfm_prompt and "fr-default" in wfm_prompt

    click(standin, bot, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.answer", str(plan.id))
    modal = open_modal(standin, "UWFM", "item_answer")
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert "fp.fr-default" in inputs and "fp.de-default" not in inputs     # only queues the forecast loads
    assert inputs["fp.fr-default"]["hint"]["text"].startswith("Forecast needs: 22.")
    resp = submit(standin, bot, "UWFM", "item_answer", {"fp.fr-default": "5, 5"}).json()
    assert resp["response_action"] == "errors" and "weeks 1–6" in resp["errors"]["fp.fr-default"]
    assert item(engine, plan.id).state == ItemState.OPEN                   # nothing half-saved
    submit(standin, bot, "UWFM", "item_answer", {"fp.fr-default": "5, 5, 5, 5, 5, 5"})
    deliver(bot)
    assert item(engine, plan.id).answer == {"queues": [{"queue": "fr-default", "planned_fte": [5, 5, 5, 5, 5, 5]}]}
    (card,) = standin.messages(launch.channel_id)
    assert "Capacity: short " in json.dumps(card["blocks"]) and "FR phone" in json.dumps(card["blocks"])


def test_launch_capacity_is_ephemeral_and_shows_collisions(standin, bot, clock):
    first = open_launch_via_slack(standin, bot, markets=("FR",), name="Payouts")
    second = open_launch_via_slack(standin, bot, markets=("FR",), name="Cards")
    engine = bot.rt.ctx.engine
    for launch, weeks in ((first, "8000, 8000, 8000, 6000, 5000, 4000"), (second, "3000, 3000, 2000, 2000, 0, 0")):
        forecast = items(engine, launch.id, answer_kind="forecast")[0]
        click(standin, bot, "UMKT", prompt_for(standin, bot, launch.id, "UMKT"), "item.answer", str(forecast.id))
        submit(standin, bot, "UMKT", "item_answer", {"fq.fr-default": weeks, "fa.fr-default": "3"})
    clock.set(clock().replace(year=2027, month=11, day=15))       # the launch date of both
    resp = standin.send_slash_command(bot.url, text="capacity", user_id="UWFM", channel_id="C0GENERAL").json()
    assert resp["response_type"] == "ephemeral"
    text = json.dumps(resp["blocks"], ensure_ascii=False)
    assert "fr-default" in text and "2027-W46" in text and "11,000 contacts" in text
    assert "💥 2 launches" in text and "2027-W51" in text
    three = standin.send_slash_command(bot.url, text="capacity 3", user_id="UWFM", channel_id="C0GENERAL").json()
    assert "2027-W49" not in json.dumps(three["blocks"]) and "2027-W48" in json.dumps(three["blocks"])


def test_monday_actuals_prompt_modal_and_capacity_digest(standin, bot, clock):
    from datetime import datetime, timezone

    from sqlmodel import select

    from bot.db import unit_of_work
    from bot.services import answers
    from bot.ticks import run_tick
    from models import ForecastActual

    launch = open_launch_via_slack(standin, bot, markets=("FR",))
    engine = bot.rt.ctx.engine
    forecast = items(engine, launch.id, answer_kind="forecast")[0]
    plan = items(engine, launch.id, answer_kind="capacity_plan")[0]
    with unit_of_work(engine) as session:
        answers.answer(session, forecast.id, {"fq.fr-default": "8000, 8000, 8000, 6000, 5000, 4000",
                                              "fa.fr-default": "3"}, actor="UMKT", now=clock(),
                       settings=bot.rt.ctx.settings)
        answers.answer(session, plan.id, {"fp.fr-default": "5, 5, 5, 5, 5, 5"}, actor="UWFM", now=clock(),
                       settings=bot.rt.ctx.settings)
    deliver(bot)
    monday = datetime(2027, 11, 29, 9, 0, tzinfo=timezone.utc)     # weeks 1 and 2 after the 15 Nov launch are over
    clock.set(monday)
    run_tick(bot.rt.ctx, monday)
    run_tick(bot.rt.ctx, monday.replace(hour=10))                  # a second pass that Monday sends nothing more
    deliver(bot, now=monday)
    prompts = [m for m in dms(standin, "UWFM") if "📥" in text_of(m)]
    digests = [m for m in dms(standin, "UWFM") if "📊" in text_of(m)]
    assert len(prompts) == 1 and len(digests) == 1
    assert "`fr-default` weeks 1, 2" in text_of(prompts[0])
    assert "2027-W48" in text_of(digests[0]) and "short" in text_of(digests[0])
    standin.click(bot.url, "UWFM", prompts[0], "capacity.actuals", value=str(launch.id))
    modal = open_modal(standin, "UWFM", "capacity_actuals")
    assert [b["block_id"] for b in modal["blocks"] if b["type"] == "input"] == ["ac.fr-default"]
    resp = submit(standin, bot, "UWFM", "capacity_actuals", {"ac.fr-default": "9000, 7000, 100"}).json()
    assert "Enter 2 numbers" in resp["errors"]["ac.fr-default"]
    from bot.services import actuals, capacity
    from bot.services.errors import Forbidden

    with pytest.raises(Forbidden, match="Only WFM"):
        with unit_of_work(engine) as session:
            actuals.from_modal(session, launch.id, {"ac.fr-default": "1, 1"}, actor="UOUTSIDER", now=monday,
                               queues=capacity.safe_queues(bot.rt.ctx.settings.capacity_file))
    submit(standin, bot, "UWFM", "capacity_actuals", {"ac.fr-default": "9000, 7000"})
    with unit_of_work(engine) as session:
        got = {(r.week, r.contacts, r.entered_by) for r in session.exec(select(ForecastActual))}
    assert got == {(1, 9000, "UWFM"), (2, 7000, "UWFM")}


def test_launch_forecasts_shows_each_forecasters_record(standin, bot, clock):
    from bot.db import unit_of_work
    from bot.services import actuals, answers

    launch = open_launch_via_slack(standin, bot, markets=("FR",))
    engine = bot.rt.ctx.engine
    forecast = items(engine, launch.id, answer_kind="forecast")[0]
    with unit_of_work(engine) as session:
        answers.answer(session, forecast.id, {"fq.fr-default": "1000, 1000, 1000, 1000, 1000, 1000",
                                              "fa.fr-default": "5"}, actor="UMKT", now=clock(),
                       settings=bot.rt.ctx.settings)
        actuals.record_many(session, [actuals.Actual(launch.id, "fr-default", 1, 1250)], source="csv", actor="UWFM",
                            now=clock())
    resp = standin.send_slash_command(bot.url, text="forecasts <@UMKT|dana>", user_id="ULEAD",
                                      channel_id="C0GENERAL").json()
    text = json.dumps(resp["blocks"], ensure_ascii=False)
    assert resp["response_type"] == "ephemeral" and "<@UMKT>" in text and "WAPE *20.0%*" in text
    assert "under-forecast" in text and launch.key in text
    nobody = standin.send_slash_command(bot.url, text="forecasts <@UWFM>", user_id="ULEAD",
                                        channel_id="C0GENERAL").json()
    assert "No answered forecasts yet" in json.dumps(nobody["blocks"])
