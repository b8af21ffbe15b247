"""The App Home tab: published when opened, after an action taken from it, or on Refresh."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.ids import Action
from bot.delivery import home as delivery_home
from bot.delivery.gateway import SlackGateway

from .common import runtime

log = logging.getLogger(__name__)


def ensure_tz(rt, client, user_id: str) -> str | None:
    """The person's time zone, asking Slack once if no DM has cached it yet."""
    return SlackGateway(rt.ctx, client).ensure_tz(user_id)


def publish_home(rt, client, user_id: str) -> None:
    """Re-render and publish `user_id`'s Home tab (opened, Refresh, or an action taken from it)."""
    tz = ensure_tz(rt, client, user_id)
    try:
        delivery_home.publish_home(rt.ctx, client, user_id, tz=tz)
    except SlackApiError as exc:
        log.warning("could not publish Home for %s: %s", user_id, exc.response.get("error"))


def opened(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") == "home":
        publish_home(runtime(context), client, event["user"])


def refresh(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    publish_home(runtime(context), client, body["user"]["id"])


def register(app: App) -> None:
    app.event("app_home_opened")(opened)
    app.action(Action.HOME_REFRESH)(refresh)
