"""Creating the launch channel and inviting people: outbox actions, not messages."""
from __future__ import annotations

import logging
import secrets

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import select

from bot.blocks.launch_views import channel_topic
from bot.codecs import ChannelPayload
from bot.db import unit_of_work
from bot.services import launches, lifecycle
from bot.services.context import AppContext
from models import Launch, OutboxMessage, OutboxStatus

from .renderers import Defer

log = logging.getLogger(__name__)


LIST_PAGE = 999  # conversations.list `limit`: Slack's docs say "under 1000" (older: "no larger than 1000")


def create_launch_channel(ctx: AppContext, client: WebClient, row: OutboxMessage, bot_user: str | None):
    """conversations.create, stepping past `name_taken` with -2, -3…, then invite.

    A taken name may be our own channel: the process died after Slack created it
    and before `launch.channel_id` was saved, and this row is the retry. Such a
    channel (created by the bot, used by no other launch) is adopted instead of
    making a second one.
    """
    payload = ChannelPayload.load(row.payload)
    with unit_of_work(ctx.engine) as session:
        launch = session.get(Launch, row.launch_id)
        if launch.channel_id:  # a retry after the channel was made
            return _invite(client, launch.channel_id, payload.users, bot_user)
    base = payload.name or f"launch-{row.launch_id}"
    candidates = [base] + [f"{base[:77]}-{n}" for n in range(2, 10)] + [f"{base[:72]}-{secrets.token_hex(3)}"]
    private = bool(payload.private)
    existing = PublicChannels(client, types="private_channel" if private else "public_channel")
    adopted = False
    for name in candidates:
        try:
            channel = client.conversations_create(name=name, is_private=private)["channel"]
            break
        except SlackApiError as exc:
            if exc.response.get("error") != "name_taken":
                raise
        bot_user = bot_user or client.auth_test()["user_id"]  # fails → the row is retried, never a duplicate
        channel = existing.named(name)
        if channel and _left_by_us(ctx, channel, launch.id, bot_user):
            adopted = True
            if not channel.get("is_member"):
                client.conversations_join(channel=channel["id"])
            break
    else:  # pragma: no cover - ten taken names in a row
        raise SlackApiError("every channel name taken", {"ok": False, "error": "name_taken"})
    with unit_of_work(ctx.engine) as session:
        launch = launches.record_channel(session, row.launch_id, channel["id"], channel["name"], adopted=adopted,
                                         now=ctx.now())
        _wake_rows_waiting_for(session, launch.id, ctx.now())
    if adopted:
        log.info("%s: adopted #%s (%s), created by the bot before a restart", launch.key, channel["name"],
                 channel["id"])
    try:
        client.conversations_setPurpose(channel=channel["id"], purpose=f"Readiness for {launch.key}")
    except SlackApiError as exc:
        log.info("could not set purpose on %s: %s", channel["id"], exc.response.get("error"))
    return _invite(client, channel["id"], payload.users, bot_user)


def _wake_rows_waiting_for(session, launch_id: int, now) -> None:
    """Rows deferred until the channel exists (status card, channel notices) are due now."""
    from .renderers import WAITING_FOR_CHANNEL

    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.launch_id == launch_id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.last_error == WAITING_FOR_CHANNEL, OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
    )


class PublicChannels:
    """Unarchived public channels by name, read page by page only as far as a lookup needs.
    (`types="private_channel"` for a private launch: the bot sees the private channels it is in.)"""

    def __init__(self, client: WebClient, types: str = "public_channel"):
        self.client = client
        self.types = types
        self.by_name: dict[str, dict] = {}
        self.cursor: str | None = None
        self.done = False

    def named(self, name: str) -> dict | None:
        while name not in self.by_name and not self.done:
            resp = self.client.conversations_list(types=self.types, exclude_archived=True, limit=LIST_PAGE,
                                                  cursor=self.cursor)
            for channel in resp.get("channels") or []:
                self.by_name.setdefault(channel.get("name"), channel)
            self.cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            self.done = self.cursor is None
        return self.by_name.get(name)


def _left_by_us(ctx: AppContext, channel: dict, launch_id: int, bot_user: str) -> bool:
    """The bot created it, never finished setting it up (the purpose is set right after the
    channel id is saved) and no other launch has it: a channel a crash left behind for this
    launch — not the finished channel of a launch from an earlier database with the same name."""
    if channel.get("creator") != bot_user or (channel.get("purpose") or {}).get("value"):
        return False
    with unit_of_work(ctx.engine) as session:
        taken = session.exec(select(Launch.id).where(Launch.channel_id == channel["id"], Launch.id != launch_id))
        return taken.first() is None


def invite(ctx: AppContext, client: WebClient, row: OutboxMessage, bot_user: str | None):
    channel = row.recipient
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        # Private channels can't be joined; the bot must already be a member there.
        if exc.response.get("error") not in ("method_not_supported_for_channel_type", "already_in_channel"):
            raise
    return _invite(client, channel, ChannelPayload.load(row.payload).users, bot_user)


def _invite(client: WebClient, channel: str, users: list[str], bot_user: str | None):
    people = [u for u in dict.fromkeys(users) if u and u != bot_user]
    if people:
        try:
            client.conversations_invite(channel=channel, users=",".join(people))
        except SlackApiError as exc:
            if exc.response.get("error") not in ("already_in_channel", "cant_invite_self"):
                raise
    return channel, ""


def set_topic(ctx: AppContext, client: WebClient, row: OutboxMessage):
    """The launch channel's topic says where the launch stands (open, held, cancelled, launched)."""
    with unit_of_work(ctx.engine) as session:
        launch = session.get(Launch, row.launch_id)
        if launch is None:
            return None
        if not launch.channel_id:
            raise Defer(5, "launch channel not created yet")
        topic = channel_topic(launch, lifecycle.last_change(session, launch.id))
    client.conversations_setTopic(channel=launch.channel_id, topic=topic)
    return launch.channel_id, ""
