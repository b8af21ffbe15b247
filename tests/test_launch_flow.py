"""Opening a launch from Slack, end to end through signed requests."""
from __future__ import annotations

import json
import time
from datetime import date

import httpx
import pytest
from sqlmodel import select

from bot.db import unit_of_work
from models import AuditEvent, Gate, Item, Launch, LaunchRole
from tests.flows import LAUNCH_DATE, items, launch_form, open_launch_via_slack, prompt_for


def submit(standin, bot, **kw):
    return standin.send_view_submission(bot.url, "UPM", "launch_new", launch_form(**kw))


def launches(bot):
    with unit_of_work(bot.rt.ctx.engine) as session:
        return list(session.exec(select(Launch)))


def test_launch_command_opens_the_modal_at_once(standin, bot):
    started = time.monotonic()
    resp = standin.send_slash_command(bot.url, command="/launch", text="", user_id="UPM", channel_id="C0GENERAL")
    assert resp.status_code == 200
    assert time.monotonic() - started < 3
    assert standin.wait_for(lambda: standin.calls_to("views.open"))
    (call,) = standin.calls_to("views.open")
    assert call.ok
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "launch_new"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["readiness_lead"]["element"]["initial_user"] == "ULEAD"  # default from the directory
    assert {"name", "kind", "markets", "launch_date", "brief", "channel"} <= set(blocks)


def test_submitting_opens_the_launch_and_tells_everyone(standin, bot):
    resp = submit(standin, bot)
    assert resp.status_code == 200 and not resp.content.strip(b"{} \n")  # closes the modal
    (launch,) = launches(bot)
    assert launch.key == "LR-1" and launch.owner_id == "UPM" and launch.markets == ["FR", "DE"]
    with unit_of_work(bot.rt.ctx.engine) as session:
        gates = session.exec(select(Gate).where(Gate.launch_id == launch.id).order_by(Gate.position)).all()
        items = session.exec(select(Item).where(Item.launch_id == launch.id)).all()
        roles = session.exec(select(LaunchRole).where(LaunchRole.launch_id == launch.id)).all()
        created = session.exec(select(AuditEvent).where(AuditEvent.action == "launch.created")).one()
    assert len(gates) >= 5 and gates[0].due_at < gates[-1].due_at
    assert gates[-1].due_at.date() > LAUNCH_DATE  # post-launch review comes after the date
    assert all(i.due_at.weekday() < 5 for i in items)
    assert all(i.due_at.tzinfo is not None for i in items)
    # French content goes to the French override, not the global holder; an item that
    # only applies to Germany goes to whoever covers Germany (the global holder here).
    content_owners = {i.owner_id for i in items if i.owner_role == "content"}
    assert "UCONTENTFR" in content_owners
    template = bot.rt.ctx.templates["product"]
    only = {item.id: item.when.markets for _, item in template.items_for("product", ["FR", "DE"])
            if item.when and item.when.markets and item.owner_role == "content"}
    german = [i for i in items if i.item_key in only and "FR" not in only[i.item_key]]
    french = [i for i in items if i.item_key in only and "DE" not in only[i.item_key]]
    assert german and french
    assert {i.owner_id for i in german} == {"UCONTENT"}
    assert {i.owner_id for i in french} == {"UCONTENTFR"}
    assert created.actor == "UPM"
    assert {r.role for r in roles} >= {"product_manager", "readiness_lead"}

    bot.drain()
    (create,) = standin.ok_calls("conversations.create")
    assert create.params["name"] == "lr-1-instant-payouts"
    channel = create.response["channel"]["id"]
    invited = set(standin.ok_calls("conversations.invite")[0].params["users"].split(","))
    assert {"UPM", "ULEAD", "UWFM", "UMKT", "UCONTENTFR"} <= invited
    bot.drain()
    card = standin.messages(channel)
    assert len(card) == 1 and "LR-1" in json.dumps(card[0]["blocks"])
    for person in ("UWFM", "UMKT", "UCONTENTFR", "UTRAIN", "UVENDOR"):
        dms = standin.messages(standin.dm_channel_for(person))
        assert len(dms) == 1, person  # one intro DM, listing their items
        assert "LR-1" in json.dumps(dms[0]["blocks"])
    assert not any(c.mentions_broadcast for c in standin.calls)


def test_items_in_intro_dm_show_due_dates(standin, bot):
    submit(standin, bot)
    bot.drain()
    bot.drain()
    with unit_of_work(bot.rt.ctx.engine) as session:
        wfm_items = session.exec(select(Item).where(Item.owner_id == "UWFM")).all()
    body = json.dumps(standin.messages(standin.dm_channel_for("UWFM"))[0]["blocks"])
    assert wfm_items
    for item in wfm_items:
        assert item.question[:40] in body.replace("\\u2019", "’") or item.item_key in body


@pytest.mark.parametrize("kw,field,needle", [
    ({"name": "   "}, "name", "name"),
    ({"name": "x" * 81}, "name", "80"),
    ({"launch_date": date(2027, 7, 1)}, "launch_date", "future"),
    ({"launch_date": date(2027, 8, 20)}, "launch_date", "business days"),
    ({"markets": ("XX",)}, "markets", "Unknown market"),
    ({"markets": ()}, "markets", "at least one"),
    ({"kind": None}, "kind", "Product"),
])
def test_bad_input_answers_in_the_modal(standin, bot, kw, field, needle):
    resp = submit(standin, bot, **kw)
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_action"] == "errors"
    assert needle in body["errors"][field]
    assert launches(bot) == []


def test_too_close_says_how_close_and_the_earliest_date(standin, bot):
    body = submit(standin, bot, launch_date=date(2027, 8, 20)).json()
    message = body["errors"]["launch_date"]
    assert "only 14 business days away" in message  # Mon 2 Aug → Fri 20 Aug 2027
    assert "or later" in message


def test_name_cannot_ping_anyone(standin, bot):
    submit(standin, bot, name="<!channel> hi <https://evil.example|click>")
    bot.drain()
    bot.drain()
    assert standin.calls and not any(c.mentions_broadcast for c in standin.calls)
    card = json.dumps(standin.messages(standin.ok_calls("conversations.create")[0].response["channel"]["id"]))
    assert "&lt;!channel&gt;" in card and "<https://evil" not in card


def test_taken_channel_name_gets_a_suffix(standin, bot):
    standin.add_channel(name="lr-1-instant-payouts")
    submit(standin, bot)
    bot.drain()
    created = standin.ok_calls("conversations.create")
    assert [c.params["name"] for c in created] == ["lr-1-instant-payouts-2"]


def test_existing_channel_is_used(standin, bot):
    channel = standin.add_channel(name="payouts-war-room")
    submit(standin, bot, channel=channel)
    bot.drain()
    bot.drain()
    assert standin.ok_calls("conversations.create") == []
    assert standin.ok_calls("conversations.invite")[0].params["channel"] == channel
    assert len(standin.messages(channel)) == 1  # the status card


def test_launches_channel_gets_one_line(standin, settings, clock):
    from bot.delivery.worker import VirtualClock
    from bot.runtime import build_runtime
    from bot.services.directory import sync_stakeholders

    announce = standin.add_channel(name="launches")
    rt = build_runtime(settings.model_copy(update={"launches_channel": announce}), clock=clock,
                       pacer_clock=VirtualClock())
    sync_stakeholders(settings, rt.ctx.engine, rt.slack)
    from bot.listeners.common import view_state
    from bot.listeners.launch_modal import parse_form
    from bot.services import launches as svc

    values = view_state({"view": {"state": {"values": launch_form()}}})
    cleaned = svc.validate_form(parse_form(values), rt.ctx.templates, clock().date())
    with unit_of_work(rt.ctx.engine) as session:
        svc.open_launch(session, cleaned, actor="UPM", template=rt.ctx.templates["product"], now=clock(),
                        launches_channel=announce)
    rt.worker.drain()
    rt.worker.drain()
    (line,) = standin.messages(announce)
    assert "LR-1" in line["text"] and "Instant payouts" in line["text"]
    rt.ctx.engine.dispose()


def test_list_status_help_and_unknowns(standin, bot):
    submit(standin, bot)
    listing = standin.reply(standin.send_slash_command(bot.url, text="list", user_id="UPM", channel_id="C0GENERAL"))
    assert "LR-1" in json.dumps(listing) and "Instant payouts" in json.dumps(listing)
    status = standin.reply(standin.send_slash_command(bot.url, text="status LR-1", user_id="UWFM", channel_id="C0G"))
    text = json.dumps(status)
    assert "Discovery" in text and "<@UWFM>" in text
    missing = standin.reply(standin.send_slash_command(bot.url, text="status LR-99", user_id="UPM", channel_id="C0G"))
    assert "No launch LR-99" in json.dumps(missing)
    unknown = standin.send_slash_command(bot.url, text="frobnicate", user_id="UPM", channel_id="C0G").json()
    assert "/launch help" in json.dumps(unknown)
    helptext = standin.send_slash_command(bot.url, text="help", user_id="UPM", channel_id="C0G").json()
    assert "/launch status" in json.dumps(helptext)


@pytest.mark.parametrize("tamper", ["unsigned", "forged", "stale"])
def test_bad_signatures_are_refused_and_change_nothing(standin, bot, tamper):
    body = "payload=" + json.dumps({"type": "view_submission", "user": {"id": "UPM"},
                                    "view": {"callback_id": "launch_new", "state": {"values": launch_form()}}})
    if tamper == "unsigned":
        resp = httpx.post(f"{bot.url}/slack/events", content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    elif tamper == "forged":
        resp = standin.signed_post(bot.url, body, "application/x-www-form-urlencoded", secret="not-the-secret")
    else:
        resp = standin.signed_post(bot.url, body, "application/x-www-form-urlencoded",
                                   timestamp=int(time.time()) - 6 * 60)
    assert resp.status_code == 401
    assert launches(bot) == []


def test_healthz_answers_when_the_database_does(bot):
    resp = httpx.get(f"{bot.url}/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok" and resp.json()["database"] == "writable"
    assert httpx.get(f"{bot.url}/metrics").status_code == 200


def test_a_trigger_slack_no_longer_accepts_is_answered_not_an_error(standin, bot):
    """On a slow day the 3 s trigger can lapse before the modal opens: the person is told to retry."""
    from bot import metrics

    def unhandled():
        return sum(s.value for m in metrics.UNHANDLED_ERRORS.collect() for s in m.samples if s.name.endswith("_total"))

    before, ttl = unhandled(), standin.trigger_ttl
    standin.trigger_ttl = -1.0  # every trigger has lapsed by the time the bot uses it
    try:
        resp = standin.send_slash_command(bot.url, command="/launch", text="", user_id="UPM", channel_id="C0GENERAL")
        assert standin.wait_for(lambda: standin.calls_to("views.open"))  # the modal is opened after the ack
    finally:
        standin.trigger_ttl = ttl
    assert resp.status_code == 200
    assert standin.wait_for(lambda: any("took too long" in str(r.body.get("text")) for r in standin.responses))
    assert [c.ok for c in standin.calls_to("views.open")] == [False]
    assert unhandled() == before


def test_a_form_slack_refuses_to_open_is_answered_not_a_silent_click(standin, bot):
    """Buttons and sub-commands open their forms through one helper: when Slack refuses the
    views.open (here a 500), the person is told to try again, from a button or a command."""
    launch = open_launch_via_slack(standin, bot)
    number = items(bot.rt.ctx.engine, launch.id, owner_id="UWFM", answer_kind="number")[0]
    standin.fail_next(1, status=500, method="views.open")
    standin.click(bot.url, "UWFM", prompt_for(standin, bot, launch.id, "UWFM"), "item.answer", value=str(number.id))
    standin.fail_next(1, status=500, method="views.open")
    assert standin.send_slash_command(bot.url, text=f"add {launch.key}", user_id="UPM").status_code == 200

    def told():
        return [r for r in standin.responses if "could not open that form" in str(r.body.get("text"))]

    assert len(standin.wait_for(lambda: len(told()) == 2 and told())) == 2
    assert [c.ok for c in standin.calls_to("views.open")] == [False, False]
