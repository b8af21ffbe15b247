"""`/launch hold|resume|cancel` at any time, through signed slash commands against the stand-in."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.db import unit_of_work
from bot.ticks import run_tick
from models import Launch, LaunchStatus
from tests.flows import deliver, dms, events, items, open_launch_via_slack, outbox, prompt_for, text_of

UTC = timezone.utc


def slash(standin, bot, user: str, text: str) -> str:
    resp = standin.send_slash_command(bot.url, text=text, user_id=user, channel_id="C0GENERAL")
    assert resp.status_code == 200, resp.text
    return json.dumps(resp.json()) if resp.content.strip() else ""


def status_of(bot, launch_id: int) -> str:
    with unit_of_work(bot.rt.ctx.engine) as session:
        return session.get(Launch, launch_id).status


def card(standin, bot, launch) -> dict:
    (message,) = standin.messages(launch.channel_id)[:1]
    return message


def said(standin, user: str, needle: str) -> list[dict]:
    return [m for m in dms(standin, user) if needle in text_of(m)]


def test_the_status_card_is_pinned_and_the_manifest_asks_for_it(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    (pin,) = standin.ok_calls("pins.add")
    assert pin.params["channel"] == launch.channel_id
    assert card(standin, bot, launch)["ts"] == pin.params["timestamp"]
    assert card(standin, bot, launch)["pinned_to"] == [launch.channel_id]
    from tests.conftest import ROOT
    assert "pins:write" in (ROOT / "slack-manifest.yml").read_text()


def test_owner_holds_lead_resumes_and_everyone_hears_once(standin, bot, clock):
    launch = open_launch_via_slack(standin, bot)
    engine = bot.rt.ctx.engine
    owners = {i.owner_id for i in items(engine, launch.id) if i.is_open} - {"UPM"}
    reply = slash(standin, bot, "UPM", f"hold {launch.key} waiting for <legal> sign-off")
    assert "on hold" in reply and f"{len(owners)} item owners were told" in reply
    assert status_of(bot, launch.id) == LaunchStatus.ON_HOLD
    (held,) = events(engine, "launch.held")
    assert held.actor == "UPM" and held.note == "waiting for <legal> sign-off"
    deliver(bot)
    for person in owners:  # one DM per owner, however many items they hold
        (dm,) = said(standin, person, "⏸️ <@UPM> put")
        assert "&lt;legal&gt;" in text_of(dm) and "<legal>" not in text_of(dm)
    status = text_of(card(standin, bot, launch))
    assert "On hold" in status and "waiting for &lt;legal&gt; sign-off" in status and "/launch resume" in status
    channel = standin.channel(launch.channel_id)
    assert channel["topic"]["value"].startswith(f"{launch.key} · ⏸️ ON HOLD")
    assert any("put" in text_of(m) and "on hold" in text_of(m) for m in standin.messages(launch.channel_id))

    # Held: no pass nudges or escalates anybody, however late it gets.
    for hour in range(0, 24 * 60, 6):
        run_tick(bot.rt.ctx, clock() + timedelta(hours=hour))
    assert outbox(engine, "nudge") == [] and outbox(engine, "escalation") == []

    reply = slash(standin, bot, "ULEAD", f"resume {launch.key}")
    assert "running again" in reply
    assert status_of(bot, launch.id) == LaunchStatus.OPEN
    deliver(bot)
    for person in owners - {"ULEAD"}:  # not the person who resumed it
        assert len(said(standin, person, "▶️ <@ULEAD> resumed")) == 1
    assert standin.channel(launch.channel_id)["topic"]["value"].startswith(f"{launch.key} · Launching")
    assert "On hold" not in text_of(card(standin, bot, launch))
    assert [e.actor for e in events(engine, "launch.resumed")] == ["ULEAD"]


def test_cancel_from_hold_announces_and_stops_prompts(standin, bot):
    announcements = standin.add_channel(name="launches")
    bot.rt.ctx.settings = bot.rt.ctx.settings.model_copy(update={"launches_channel": announcements})
    launch = open_launch_via_slack(standin, bot)
    slash(standin, bot, "ULEAD", f"hold {launch.key} budget review")
    reply = slash(standin, bot, "ULEAD", f"cancel {launch.key} dropped from the roadmap")
    assert "cancelled" in reply
    assert status_of(bot, launch.id) == LaunchStatus.CANCELLED
    (cancelled,) = events(bot.rt.ctx.engine, "launch.cancelled")
    assert cancelled.actor == "ULEAD" and cancelled.note == "dropped from the roadmap"
    deliver(bot)
    lines = [text_of(m) for m in standin.messages(announcements)]
    assert any("cancelled" in t and "dropped from the roadmap" in t for t in lines)
    assert "Cancelled" in text_of(card(standin, bot, launch))
    assert "CANCELLED" in standin.channel(launch.channel_id)["topic"]["value"]
    assert len(said(standin, "UWFM", "was cancelled by <@ULEAD>")) == 1
    prompt = prompt_for(standin, bot, launch.id, "UWFM")
    assert "cancelled" in text_of(prompt)
    again = slash(standin, bot, "UPM", f"resume {launch.key}")
    assert "not on hold" in again


def test_outsiders_are_refused_and_recorded(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    for verb in ("hold", "cancel"):
        reply = slash(standin, bot, "UOUTSIDER", f"{verb} {launch.key} because I can")
        assert "Only the launch owner or a readiness lead" in reply
    assert "Only the launch owner or a readiness lead" in slash(standin, bot, "UWFM", f"resume {launch.key}")
    assert status_of(bot, launch.id) == LaunchStatus.OPEN
    refused = [e.action for e in events(bot.rt.ctx.engine) if e.action.startswith("refused.")]
    assert refused == ["refused.hold", "refused.cancel", "refused.resume"]


def test_bad_input_gets_a_clear_answer(standin, bot):
    launch = open_launch_via_slack(standin, bot)
    assert "Say why" in slash(standin, bot, "UPM", f"hold {launch.key}")
    assert "Say why" in slash(standin, bot, "UPM", f"cancel {launch.key}   ")
    assert "No launch LR-99" in slash(standin, bot, "UPM", "hold LR-99 reason")
    assert "Keep the reason" in slash(standin, bot, "UPM", f"hold {launch.key} " + "x" * 501)
    slash(standin, bot, "UPM", f"hold {launch.key} once")
    assert "only an open launch" in slash(standin, bot, "ULEAD", f"hold {launch.key} twice")
    assert len(events(bot.rt.ctx.engine, "launch.held")) == 1


def test_simultaneous_hold_and_cancel_lose_nothing(standin, bot):
    """Twelve people steer at once: each request is answered, one hold and one cancel at most."""
    launch = open_launch_via_slack(standin, bot)
    replies: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def run(user, text):
        try:
            start.wait()
            replies.append(slash(standin, bot, user, text))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    jobs = [("UPM" if n % 2 else "ULEAD", f"hold {launch.key} wait {n}") for n in range(8)]
    jobs += [("ULEAD", f"cancel {launch.key} stop {n}") for n in range(4)]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(replies) == 12
    engine = bot.rt.ctx.engine
    assert len(events(engine, "launch.cancelled")) == 1
    assert len(events(engine, "launch.held")) <= 1
    assert status_of(bot, launch.id) == LaunchStatus.CANCELLED
    assert sum("is cancelled. Every prompt" in r for r in replies) == 1
    assert sum("is on hold. Prompts" in r for r in replies) == len(events(engine, "launch.held"))
    deliver(bot)
    assert len(said(standin, "UWFM", "was cancelled by <@ULEAD>")) == 1
