"""Through Slack: marketing's per-queue forecast, WFM's DM, WFM's plan modal with the requirement
beside each field, field errors in place, and the status card's one-line verdict."""
from __future__ import annotations

import json

from models import ItemState
from tests.flows import deliver, dms, item, items, open_launch_via_slack, open_modal, prompt_for, text_of
from tests.test_answers import click, submit


def test_forecast_then_plan_through_slack(standin, bot):
    launch = open_launch_via_slack(standin, bot, markets=("FR", "DE"))
    engine = bot.rt.ctx.engine
    forecast = items(engine, launch.id, answer_kind="forecast")[0]
    plan = items(engine, launch.id, answer_kind="capacity_plan")[0]
    click(standin, bot, "UMKT", prompt_for(standin, bot, launch.id, "UMKT"), "item.answer", str(forecast.id))
    submit(standin, bot, "UMKT", "item_answer", {"fq.fr-default": "8000, 8000, 8000, 6000, 5000, 4000",
                                                 "fa.fr-default": "3"})
    deliver(bot)
    assert item(engine, forecast.id).state == ItemState.DONE
    (note,) = [m for m in dms(standin, "UWFM") if "📈" in text_of(m)]
    assert "fr-default" in text_of(note) and "FTE" in text_of(note) and "de-default" not in text_of(note)

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
