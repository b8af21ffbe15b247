"""Creating the launch channel and inviting people: outbox actions, not messages."""
from __future__ import annotations

import logging
import secrets

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import unit_of_work
from bot.services import audit
from bot.services.context import AppContext
from models import Launch, OutboxMessage

log = logging.getLogger(__name__)


def create_launch_channel(ctx: AppContext, client: WebClient, row: OutboxMessage, bot_user: str | None):
    """conversations.create, stepping past `name_taken` with -2, -3…, then invite."""
    with unit_of_work(ctx.engine) as session:
        launch = session.get(Launch, row.launch_id)
        if launch.channel_id:  # a retry after the channel was made
            return _invite(client, launch.channel_id, row.payload.get("users", []), bot_user)
    base = row.payload["name"]
    candidates = [base] + [f"{base[:77]}-{n}" for n in range(2, 10)] + [f"{base[:72]}-{secrets.token_hex(3)}"]
    for name in candidates:
        try:
            channel = client.conversations_create(name=name, is_private=False)["channel"]
            break
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
    else:  # pragma: no cover - ten taken names in a row
        raise SlackApiError("every channel name taken", {"ok": False, "error": "name_taken"})
    with unit_of_work(ctx.engine) as session:
        launch = session.get(Launch, row.launch_id)
        launch.channel_id = channel["id"]
        session.add(launch)
        audit.record(session, actor="launchgate", action="launch.channel_created", entity="launch",
                     entity_id=launch.id, launch_id=launch.id, after={"channel": channel["id"], "name": channel["name"]},
                     at=ctx.now())
    try:
        client.conversations_setPurpose(channel=channel["id"], purpose=f"Readiness for {launch.key}")
    except SlackApiError as exc:
        log.info("could not set purpose on %s: %s", channel["id"], exc.response.get("error"))
    return _invite(client, channel["id"], row.payload.get("users", []), bot_user)


def invite(ctx: AppContext, client: WebClient, row: OutboxMessage, bot_user: str | None):
    channel = row.recipient
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        # Private channels can't be joined; the bot must already be a member there.
        if exc.response.get("error") not in ("method_not_supported_for_channel_type", "already_in_channel"):
            raise
    return _invite(client, channel, row.payload.get("users", []), bot_user)


def _invite(client: WebClient, channel: str, users: list[str], bot_user: str | None):
    people = [u for u in dict.fromkeys(users) if u and u != bot_user]
    if people:
        try:
            client.conversations_invite(channel=channel, users=",".join(people))
        except SlackApiError as exc:
            if exc.response.get("error") not in ("already_in_channel", "cant_invite_self"):
                raise
    return channel, ""
