"""The App Home tab: shown when opened, on Refresh, and after an action taken from it.

Home is published only through the outbox (a HOME_REFRESH row, bot.services.home.show):
the listener queues it and kicks the worker, which sends it at once — with the worker's
retries, rate limits and profile cache, like every other message.
"""
from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.blocks.ids import Action
from bot.runtime import Runtime
from bot.services import home

from .common import runtime


def show_home(rt: Runtime, user_id: str) -> None:
    """Queue `user_id`'s Home publish and ask the worker to deliver now."""
    rt.transaction(lambda session: home.show(session, user_id, rt.ctx.now()))
    rt.kick()


def settled(rt: Runtime, user_id: str, home_tab: bool) -> None:
    """After a change: the Home tab is re-rendered when the action came from it; deliver now."""
    if home_tab:
        show_home(rt, user_id)
    else:
        rt.kick()


def opened(event: dict, context: BoltContext) -> None:
    if event.get("tab", "home") == "home":
        show_home(runtime(context), event["user"])


def refresh(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    show_home(runtime(context), body["user"]["id"])


def register(app: App) -> None:
    app.event("app_home_opened")(opened)
    app.action(Action.HOME_REFRESH)(refresh)
