"""What each outbox kind says, rendered from the database at send time.

A renderer returns a `Message` (post, or post-or-update a remembered
message) or `None` when there is nothing left worth sending. Which function
renders which kind is written out in bot/delivery/registry.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.blocks import launch_views, portfolio_views, prompts
from bot.blocks.text import esc, user
from bot.codecs import EphemeralPayload, PromptPayload, TextPayload
from bot.services import capacity, gates, launches, lifecycle, links, portfolio_report, stakeholders
from bot.services.context import AppContext
from bot.services.outbox import Kind
from bot.services.outbox_admin import DEPENDENCY  # dead letters `outbox retry` re-queues with their cause
from bot.services.recipients import user_tz
from models import Item, Launch, OutboxMessage, OutboxStatus


class Defer(Exception):
    """Not sendable yet (e.g. the launch channel is still being created)."""

    def __init__(self, seconds: float = 5.0, reason: str = ""):
        super().__init__(reason)
        self.seconds = seconds


class Dead(Exception):
    """Can never be sent: dead-letter the row now with this reason (no retries)."""


WAITING_FOR_CHANNEL = "launch channel not created yet"  # the channel's creation wakes these rows


@dataclass
class Message:
    channel: str
    text: str
    blocks: list = field(default_factory=list)
    purpose: str | None = None          # remembered message to update in place
    ephemeral_user: str | None = None
    post_new: bool = False              # always post (a fresh nudge), then remember it under `purpose`
    update_only: bool = False           # only update the remembered message; never post a new one
    pin: bool = False                   # pin it in the channel when it is first posted (the status card)

    def block_dicts(self) -> list[dict[str, Any]]:
        return [b.to_dict() if hasattr(b, "to_dict") else b for b in self.blocks]


Renderer = Callable[[Session, OutboxMessage, AppContext], Message | None]


def launch_channel(session: Session, row: OutboxMessage) -> str:
    """The launch's channel; until it exists, wait for the row creating it (as long as it is
    retried), and dead-letter with the reason once that row is dead or missing."""
    launch = session.get(Launch, row.launch_id) if row.launch_id else None
    if launch is None:
        raise Dead(f"{DEPENDENCY}: launch {row.launch_id} does not exist")
    if launch.channel_id:
        return launch.channel_id
    creator = session.exec(
        select(OutboxMessage).where(OutboxMessage.launch_id == launch.id, OutboxMessage.kind == Kind.CREATE_CHANNEL)
        .order_by(OutboxMessage.id.desc())
    ).first()
    if creator is None or creator.status == OutboxStatus.DEAD:
        why = f"row {creator.id} is dead: {creator.last_error}" if creator else "no row creates it"
        raise Dead(f"{DEPENDENCY}: channel of {launch.key} was never created ({why})")
    # Wake when the creating row is next tried (it may be backing off through an outage).
    wait = (creator.next_attempt_at - row.next_attempt_at).total_seconds() if creator.next_attempt_at else 0
    raise Defer(min(max(5.0, wait + 1), 60.0), WAITING_FOR_CHANNEL)


def target(session: Session, row: OutboxMessage) -> str:
    from bot.services.outbox import LAUNCH_CHANNEL

    return launch_channel(session, row) if row.recipient == LAUNCH_CHANNEL else row.recipient


def prompt_message(session: Session, launch: Launch, user_id: str, *, intro: str | None = None,
                   snooze: bool = False, purpose: str | None = None, now: datetime | None = None,
                   note: str | None = None) -> Message | None:
    items = list(session.exec(
        select(Item).where(Item.launch_id == launch.id, Item.owner_id == user_id).order_by(Item.due_at, Item.id)
    ))
    if not items:
        return None
    gates = launches.gates_of(session, launch.id)
    tz = user_tz(session, user_id)
    open_count = sum(i.is_open for i in items)
    text = intro or prompts.intro_text(launch, len(items))
    if open_count == 0 and intro is None:
        text = f"All your items for *{esc(launch.name)}* are answered — thank you. You can still edit them here."
    if note:
        text = f"{text}\n\n{note}"
    return Message(
        channel=user_id,
        text=f"{launch.key} {esc(launch.name)}: {open_count} open item(s) for you",
        blocks=prompts.prompt(launch, gates, items, tz, intro=text, snooze=snooze, now=now,
                              roster=stakeholders.roster(session, launch.id)
                              if any(i.item_key == stakeholders.ROSTER_ITEM for i in items) else None),
        purpose=purpose,
    )


def prompt_purpose(launch_id: int, user_id: str) -> str:
    return f"prompt:{launch_id}:{user_id}"


def render_prompt(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    payload = PromptPayload.load(row.payload)
    user_id = payload.user or row.recipient
    intro = None
    if row.kind == Kind.INTRO_DM and payload.handed_by:
        intro = prompts.handover_intro(launch, payload.handed_by)
    return prompt_message(session, launch, user_id, intro=intro, purpose=prompt_purpose(launch.id, user_id),
                          now=ctx.now(), note=capacity.plan_note(session, launch, user_id, ctx.settings))


def render_status_card(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    launch = session.get(Launch, row.launch_id)
    ov = launches.overview(session, launch)
    return Message(
        channel=launch_channel(session, row),
        text=launch_views.status_card_text(ov),
        blocks=launch_views.status_card(ov, gates.latest_decisions(session, launch.id),
                                        lifecycle.last_change(session, launch.id),
                                        link_warnings=links.warnings(session, launch.id, ctx.now()),
                                        capacity=capacity.verdict_for(session, launch, ctx.settings)),
        purpose=f"status_card:{launch.id}",
        pin=True,
    )


def render_announce(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    if launch is None or launch.private:  # a private launch is never announced
        return None
    where = f" in <#{launch.channel_id}>" if launch.channel_id else ""
    text = TextPayload.load(row.payload).text if row.payload else None
    text = text or (
        f"🚀 New {launch.kind} launch *{launch.key} · {esc(launch.name)}* ({esc(', '.join(launch.markets))}), "
        f"launching {launch.launch_date.isoformat()} — owner {user(launch.owner_id)}{where}."
    )
    return Message(channel=row.recipient, text=text, blocks=launch_views.notice(text))


def render_text(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    """Payload text is composed by services and already escaped."""
    text = TextPayload.load(row.payload).text
    return Message(channel=target(session, row), text=text, blocks=launch_views.notice(text))


def render_ephemeral(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    payload = EphemeralPayload.load(row.payload)
    text = payload.text
    return Message(channel=payload.channel, text=text, blocks=launch_views.notice(text),
                   ephemeral_user=row.recipient)


def render_portfolio_digest(session: Session, row: OutboxMessage, ctx: AppContext) -> Message:
    """Monday's portfolio: a lead sees what they may see; a channel never sees private launches."""
    viewer = None if row.payload.get("channel") else row.recipient
    report = portfolio_report.build(session, now=ctx.now(), viewer=viewer)
    text, blocks = portfolio_views.portfolio_digest(report)
    return Message(channel=row.recipient, text=text, blocks=blocks)
