"""`/launch away …`, `/launch summary …` and the Home tab's reminder buttons: how a person is reminded.

Thin: parse, call bot/services/away.py (which checks who may and audits), answer in a line.
"""
from __future__ import annotations

from datetime import timedelta

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.ids import Action
from bot.blocks.text import day
from bot.runtime import Runtime
from bot.services import away
from bot.services.errors import ServiceError

from .common import STALE, ephemeral, runtime, tell
from .home import settled


def away_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    actor = body["user_id"]
    target, until = away.parse_away(args, actor)
    with rt.unit_of_work() as session:
        away.set_away(session, actor, target, until, now=rt.ctx.now())
    who = "You are" if target == actor else f"<@{target}> is"
    if until is None:
        text = f"👋 {who} back: reminders and escalations go to {'you' if target == actor else 'them'} again."
    else:
        text = (f"🏖️ {who} away through {day(until)}. Reminders of {'your' if target == actor else 'their'} items go "
                f"to the role's backup meanwhile, and nothing is escalated to {'you' if target == actor else 'them'}; "
                f"they start again {day(until + timedelta(days=1))}. `/launch away off` ends it early.")
    ack(ephemeral(text, escape=False))
    rt.kick()


def summary_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    days = away.parse_summary(args)
    with rt.unit_of_work() as session:
        away.set_summary(session, body["user_id"], days, now=rt.ctx.now())
    ack(ephemeral(summary_text(days), escape=False))
    rt.kick()


def summary_text(days: int | None) -> str:
    if days is None:
        return "⏰ Daily reminders: every item that needs you, once a day in your working hours."
    return (f"🗓️ Weekly summary: items due within {days} day{'s' if days != 1 else ''} (and overdue ones) still "
            "come daily; the rest wait for Monday's summary.")


def summary_clicked(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """The Home tab's Daily / Weekly buttons."""
    ack()
    rt = runtime(context)
    user_id = body["user"]["id"]
    value = (body.get("actions") or [{}])[0].get("value") or ""
    try:
        days = away.parse_summary(value.split())
    except ServiceError:  # not a value our button carries (tampered or from an older release)
        tell(client, body, None, ephemeral(STALE))
        return
    with rt.unit_of_work() as session:
        away.set_summary(session, user_id, days, now=rt.ctx.now())
    settled(rt, user_id, home_tab=True)


def register(app: App) -> None:
    app.action(Action.REMINDER_SUMMARY)(summary_clicked)
