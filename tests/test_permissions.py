"""Who may open a launch and who may lead it (issue 12, point 7): settings, refusals explained
and audited, in the service and in Slack."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.config import ConfigError, load_settings
from bot.db import unit_of_work
from models import Launch
from tests.flows import events, launch_form


def launches(engine):
    with unit_of_work(engine) as session:
        return list(session.exec(select(Launch)))


def test_by_default_the_lead_must_hold_the_readiness_lead_role(standin, bot):
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form(lead="UOUTSIDER"))
    body = resp.json()
    assert body["response_action"] == "errors"
    assert "can't be the readiness lead" in body["errors"]["readiness_lead"]
    assert "readiness leads" in body["errors"]["readiness_lead"]
    assert "<@" not in body["errors"]["readiness_lead"]  # field errors are plain text in Slack: no mentions
    assert launches(bot.rt.ctx.engine) == []
    (refusal,) = events(bot.rt.ctx.engine, "refused.launch.lead")
    assert refusal.actor == "UPM" and refusal.after == {"readiness_lead": "UOUTSIDER"}
    # A member of the role is fine.
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form(lead="ULEAD"))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n")
    assert len(launches(bot.rt.ctx.engine)) == 1


def test_anyone_may_open_unless_launch_openers_says_otherwise(standin, bot):
    bot.rt.ctx.settings.launch_openers = "readiness_lead,admin"
    resp = standin.send_slash_command(bot.url, text="new", user_id="UOUTSIDER")
    assert "Only readiness leads or admins can open launches" in json.dumps(resp.json())
    assert standin.calls_to("views.open") == []
    resp = standin.send_view_submission(bot.url, "UOUTSIDER", "launch_new", launch_form())
    body = resp.json()
    assert body["response_action"] == "update" and "can open launches" in json.dumps(body["view"])
    assert launches(bot.rt.ctx.engine) == []
    assert len(events(bot.rt.ctx.engine, "refused.launch.open")) == 2
    # A readiness lead may.
    resp = standin.send_view_submission(bot.url, "ULEAD", "launch_new", launch_form())
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n")
    assert len(launches(bot.rt.ctx.engine)) == 1


@pytest.mark.parametrize("name,value,ok", [
    ("LAUNCH_OPENERS", "everyone", True), ("LAUNCH_OPENERS", "readiness_lead, wfm ,U123ABC", True),
    ("LAUNCH_OPENERS", "wizards", False), ("READINESS_LEAD_FROM", "", False),
    ("READINESS_LEAD_FROM", "everyone", True),
])
def test_policy_settings_are_checked_at_start(monkeypatch, name, value, ok):
    monkeypatch.setenv(name, value)
    if ok:
        load_settings(_env_file=None)
    else:
        with pytest.raises(ConfigError, match=name):
            load_settings(_env_file=None)
