"""Helpers that walk the bot through a flow the way a person would (shared by test modules).

Keep these signatures stable: other test modules import them.
"""
from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from bot.db import unit_of_work
from models import AuditEvent, Item, Launch, OutboxMessage, OutboxStatus, SlackMessageRef

LAUNCH_DATE = date(2027, 11, 15)  # ~3.5 months after the test clock's Monday 2 Aug 2027


def launch_form(name="Instant payouts", kind="product", markets=("FR", "DE"), launch_date=LAUNCH_DATE,
                lead="ULEAD", brief="Payouts in seconds", channel=None) -> dict:
    """`view.state.values` of a filled-in New launch modal."""
    def option(value):
        return {"value": value, "text": {"type": "plain_text", "text": value}}

    return {
        "name": {"name": {"type": "plain_text_input", "value": name}},
        "kind": {"kind": {"type": "static_select", "selected_option": option(kind) if kind else None}},
        "markets": {"markets": {"type": "multi_static_select", "selected_options": [option(m) for m in markets]}},
        "launch_date": {"launch_date": {"type": "datepicker",
                                        "selected_date": launch_date.isoformat() if launch_date else None}},
        "readiness_lead": {"readiness_lead": {"type": "users_select", "selected_user": lead}},
        "brief": {"brief": {"type": "plain_text_input", "value": brief}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": channel}},
    }


def deliver(bot, rounds: int = 5, now=None) -> None:
    """Drain until nothing more goes out (the channel is created first, then what waits on it)."""
    for _ in range(rounds):
        report = bot.rt.worker.drain_all(now)
        if not (report.sent or report.skipped or report.retried or report.dead):
            return


def home_publishes(standin, user: str) -> int:
    return sum(c.params.get("user_id") == user for c in standin.ok_calls("views.publish"))


def published_home(standin, bot, user: str, *, after: int | None = None, timeout: float = 3.0) -> dict:
    """`user`'s Home once the worker has published it again (past their `after`-th publish),
    delivering what is due meanwhile: Home goes out through the outbox, and the scheduler's
    kick is what sends it at once in production."""
    after = home_publishes(standin, user) if after is None else after

    def published():
        deliver(bot)
        return home_publishes(standin, user) > after and standin.home_view(user)

    return standin.wait_for(published, timeout=timeout)


def open_home(standin, bot, user: str) -> dict:
    """Open the Home tab as `user` (app_home_opened) and return what the bot published."""
    after = home_publishes(standin, user)
    standin.open_app_home(bot.url, user)
    return published_home(standin, bot, user, after=after)


def open_launch_via_slack(standin, bot, user: str = "UPM", opened: bool = True, **form) -> Launch:
    """Submit the New launch modal as `user` and deliver everything it queued; returns the launch.

    `opened`: Go/No-go and post-launch items open near the launch date (template key `opens`,
    tests/test_opens.py); most tests answer them months early, so their openings are lifted
    before anything is delivered. Pass opened=False to keep them."""
    resp = standin.send_view_submission(bot.url, user, "launch_new", launch_form(**form))
    assert resp.status_code == 200, resp.text
    if resp.content.strip(b"{} \n"):  # only a confirmation (roles that fell back to the lead) may follow
        assert resp.json()["view"]["title"]["text"] == "Launch opened", resp.text
    if opened:
        lift_openings(bot.rt.ctx.engine)
    deliver(bot)
    with unit_of_work(bot.rt.ctx.engine) as session:
        return session.exec(select(Launch).order_by(Launch.id.desc())).first()


def lift_openings(engine) -> None:
    """Test setup: every item and gate open now (see open_launch_via_slack)."""
    from sqlalchemy import update

    from models import Gate

    with unit_of_work(engine) as session:
        session.execute(update(Item).values(opens_at=None, opens_offset_business_days=None))
        session.execute(update(Gate).values(opens_at=None, opens_offset_business_days=None))


def items(engine, launch_id: int | None = None, **where) -> list[Item]:
    """Items (of one launch) by due date, filtered by attributes: owner_role=…, answer_kind=…, owner_id=…."""
    with unit_of_work(engine) as session:
        stmt = select(Item).order_by(Item.due_at, Item.id)
        if launch_id is not None:
            stmt = stmt.where(Item.launch_id == launch_id)
        rows = list(session.exec(stmt))
    return [i for i in rows if all(getattr(i, k) == v for k, v in where.items())]


def item(engine, item_id: int) -> Item:
    with unit_of_work(engine) as session:
        return session.get(Item, item_id)


def events(engine, action: str | None = None, launch_id: int | None = None) -> list[AuditEvent]:
    with unit_of_work(engine) as session:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        if launch_id is not None:
            stmt = stmt.where(AuditEvent.launch_id == launch_id)
        return list(session.exec(stmt))


def outbox(engine, kind: str | None = None) -> list[OutboxMessage]:
    with unit_of_work(engine) as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(session.exec(stmt))


def pending(engine) -> list[OutboxMessage]:
    return [r for r in outbox(engine) if r.status == OutboxStatus.PENDING]


def dms(standin, user: str) -> list[dict]:
    return standin.messages(standin.dm_channel_for(user))


def text_of(message: dict) -> str:
    """Everything a person can read in a message or view (top-level text and blocks) as one string."""
    return (message.get("text") or "") + json.dumps(message.get("blocks", []), ensure_ascii=False)


def remembered(engine, purpose: str) -> SlackMessageRef | None:
    with unit_of_work(engine) as session:
        return session.exec(select(SlackMessageRef).where(SlackMessageRef.purpose == purpose)).first()


def prompt_for(standin, bot, launch_id: int, user: str) -> dict:
    """The person's live prompt DM for a launch, as it reads now."""
    ref = remembered(bot.rt.ctx.engine, f"prompt:{launch_id}:{user}")
    assert ref is not None, f"{user} has no prompt for launch {launch_id}"
    (message,) = [m for m in standin.messages(ref.channel_id) if m["ts"] == ref.ts]
    return message


def menu_value(item_id: int, op: str) -> str:
    """The overflow option a person picks for an item: na, blocked, reopen or reassign."""
    return json.dumps({"i": item_id, "op": op})


def input_value(kind: str, value) -> dict:
    """One input's entry in `view.state.values` (`{action_id: {...}}` is added by `modal_values`)."""
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": value}


def modal_values(view: dict, entries: dict) -> dict:
    """Fill an open modal's inputs by block id, using each input's own element type and action id."""
    values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        entry = entries.get(block["block_id"])
        if entry is None:  # left empty, as Slack sends it
            values[block["block_id"]] = {element["action_id"]: {"type": element["type"], "value": None}
                                         if "select" not in element["type"] and element["type"] != "radio_buttons"
                                         else {"type": element["type"], "selected_option": None}}
        else:
            values[block["block_id"]] = {element["action_id"]: input_value(element["type"], entry)}
    missing = set(entries) - set(values)
    assert not missing, f"the modal has no inputs {sorted(missing)}"
    return values


def open_modal(standin, user: str, callback_id: str) -> dict:
    """The modal the bot opened for this person, waiting briefly (it opens after the ack)."""
    return standin.wait_for(lambda: next((v for v in reversed(standin.views(user))
                                          if v.get("callback_id") == callback_id), None))
