"""Rendering delegation rows: the delegate's DM (posted once, then updated in place as the
item changes or stops being theirs) and the owner's note. Read at send time, so a DM for
a delegate who was replaced before it went out is not sent at all."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.blocks import delegation
from bot.codecs import DelegatePayload
from bot.services.context import AppContext
from bot.services.outbox import Kind
from models import AuditEvent, Gate, Item, Launch, OutboxMessage

from .renderers import Message, user_tz


def delegate_purpose(item_id: int, user_id: str) -> str:
    return f"delegated:{item_id}:{user_id}"


def _delegated_by(session: Session, item: Item) -> str | None:
    """Who chose the current delegate: the actor of the item's latest `item.delegated` event."""
    return session.exec(
        select(AuditEvent.actor).where(AuditEvent.entity == "item", AuditEvent.entity_id == item.id,
                                       AuditEvent.action == "item.delegated")
        .order_by(AuditEvent.id.desc())
    ).first()


def _for_delegate(session: Session, launch: Launch, item: Item, user_id: str, ctx: AppContext, *,
                  by: str | None, update_only: bool) -> Message:
    tz = user_tz(session, user_id)
    purpose = delegate_purpose(item.id, user_id)
    if item.delegate_id != user_id:
        return Message(channel=user_id, text=f"{launch.key}: an item is no longer delegated to you",
                       blocks=delegation.no_longer_delegate(launch, item, tz, viewer=user_id), purpose=purpose,
                       update_only=True)
    blocks = delegation.delegate_dm(launch, session.get(Gate, item.gate_id), item, tz, viewer=user_id,
                                    by=by or _delegated_by(session, item) or item.owner_id, now=ctx.now())
    return Message(channel=user_id, text=delegation.delegate_text(launch, item), blocks=blocks, purpose=purpose,
                   post_new=not update_only, update_only=update_only)


def render_delegated(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    item = session.get(Item, row.payload["item"])
    if item is None:
        return None
    p = row.payload
    if p.get("to") == "owner":
        return Message(channel=row.recipient, text=f"{launch.key}: who may answer an item of yours changed",
                       blocks=delegation.owner_note(launch, item, user_tz(session, row.recipient), by=p["by"],
                                                    delegate=p.get("delegate"), old=p.get("old")))
    if item.delegate_id != row.recipient:
        return None  # replaced or removed before this went out: nothing to tell them
    return _for_delegate(session, launch, item, row.recipient, ctx, by=p.get("by"), update_only=False)


def render_delegate_refresh(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.launch_id)
    item = session.get(Item, DelegatePayload.load(row.payload).item)
    if item is None:
        return None
    return _for_delegate(session, launch, item, row.recipient, ctx, by=None, update_only=True)
