"""Private launches: every read path, tried as an outsider, shows neither the name nor that it exists."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.db import unit_of_work
from bot.services import export, report
from bot.services.errors import NotFound
from models import Launch
from tests.flows import deliver, launch_form, open_home, open_launch_via_slack, text_of

SECRET = "Project Nightjar"


def private_form(**kw) -> dict:
    values = launch_form(**kw)
    values["private"] = {"private": {"type": "checkboxes", "selected_options": [
        {"value": "private", "text": {"type": "plain_text", "text": "Private launch"}}]}}
    return values


def open_private(standin, bot) -> Launch:
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", private_form(name=SECRET))
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n"), resp.text
    deliver(bot)
    with unit_of_work(bot.rt.ctx.engine) as session:
        return session.exec(select(Launch).where(Launch.name == SECRET)).one()


def slash(standin, bot, user: str, text: str) -> str:
    resp = standin.send_slash_command(bot.url, text=text, user_id=user, channel_id="C0GENERAL")
    assert resp.status_code == 200, resp.text
    return json.dumps(standin.reply(resp), ensure_ascii=False)  # list and status answer after the ack


@pytest.fixture
def announcements(standin, bot):
    channel = standin.add_channel(name="launches")
    bot.rt.ctx.settings = bot.rt.ctx.settings.model_copy(update={"launches_channel": channel})
    return channel


def test_private_launch_gets_a_private_channel_and_no_announcement(standin, bot, announcements):
    launch = open_private(standin, bot)
    assert launch.private
    channel = standin.channel(launch.channel_id)
    assert channel["is_private"] is True
    assert standin.messages(announcements) == []
    open_launch_via_slack(standin, bot, name="Public thing")
    assert [m for m in standin.messages(announcements) if "Public thing" in text_of(m)]
    assert not [m for m in standin.messages(announcements) if SECRET in text_of(m)]


def test_every_read_path_hides_it_from_an_outsider(standin, bot, announcements):
    launch = open_private(standin, bot)
    key = launch.key
    open_launch_via_slack(standin, bot, name="Public thing")
    missing = f"No launch {key}"

    listing = slash(standin, bot, "UOUTSIDER", "list state:all")
    assert SECRET not in listing and key not in listing and "Public thing" in listing
    assert "of 1" in listing  # not even counted
    for words in ("list", "list kind:product", "list market:FR", "list lead:ULEAD", "list overdue state:all"):
        assert SECRET not in slash(standin, bot, "UOUTSIDER", words)
    for command in (f"status {key}", f"timeline {key}", f"edit {key}", f"waive {key}", f"unwaive {key}",
                    f"hold {key} curious", f"resume {key}", f"cancel {key} curious"):
        reply = slash(standin, bot, "UOUTSIDER", command)
        assert missing in reply and SECRET not in reply, command
    assert f"No launch {launch.id}." in slash(standin, bot, "UOUTSIDER", f"status {launch.id}")
    with unit_of_work(bot.rt.ctx.engine) as session:
        with pytest.raises(NotFound, match=missing):
            export.export_launch(session, key, "json", viewer="UOUTSIDER")
        with pytest.raises(NotFound, match=missing):
            report.render_report(session, key, viewer="UOUTSIDER")
    home = open_home(standin, bot, "UOUTSIDER")
    assert SECRET not in json.dumps(home) and key not in json.dumps(home)
    assert not [m for m in standin.messages(announcements) if SECRET in text_of(m)]
    # Nothing refused was even recorded against the launch as "someone tried": it simply is not there.
    reply = slash(standin, bot, "UOUTSIDER", f"status {key}")
    assert reply == slash(standin, bot, "UOUTSIDER", "status LR-999").replace("LR-999", key)


def test_insiders_readiness_leads_and_admins_see_it(standin, bot):
    launch = open_private(standin, bot)
    for person in ("UPM", "ULEAD", "UWFM", "UADMIN"):
        assert SECRET in slash(standin, bot, person, f"status {launch.key}"), person
        listing = slash(standin, bot, person, "list")
        assert SECRET in listing and "🔒 private" in listing, person
    with unit_of_work(bot.rt.ctx.engine) as session:
        assert SECRET in report.render_report(session, launch.key, viewer="UWFM")
        assert SECRET in report.render_report(session, launch.key)  # the operator at the CLI


def test_private_with_an_existing_channel_is_refused_in_the_modal(standin, bot):
    channel = standin.add_channel(name="somewhere")
    resp = standin.send_view_submission(bot.url, "UPM", "launch_new", private_form(channel=channel))
    body = resp.json()
    assert body["response_action"] == "errors" and "private channel" in body["errors"]["private"]
