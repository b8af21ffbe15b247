"""Answering checklist items: done, a value, not applicable, blocked, reopen, reassign.

Every use case checks who may make the change first (a refusal is audited) and
validates the input; the change itself (audit, reminders, gates, and the messages
that follow at commit) is bot/services/item_state.py's.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.codecs import PromptPayload
from bot.config import Settings
from models import Item, ItemState, Launch

from . import access, answer_values, capacity, item_state, locks, outbox
from .errors import Conflict, FieldErrors
from .outbox import Kind, enqueue

ANSWER_REFUSED = ("Only the item's owner ({owner}), their delegate, the launch owner or a readiness lead "
                  "can answer it.")
REASSIGN_REFUSED = "Only the item's owner ({owner}), the launch owner or a readiness lead can reassign it."


def load(session: Session, item_id: int | str) -> tuple[Item, Launch]:
    """The item and its launch, locked in the documented order (launch row first)."""
    return locks.item(session, item_id)


def owner_mention(item: Item) -> str:
    return f"<@{item.owner_id}>" if item.owner_id else "unassigned"


def check_can_answer(session: Session, item: Item, launch: Launch, actor: str, now: datetime,
                     action: str = "item.answer") -> None:
    """Raise (after auditing the attempt) unless `actor` may answer this item."""
    if not access.can_answer(session, launch, item, actor):
        raise access.refuse(session, launch=launch, actor=actor, action=action, entity="item", entity_id=item.id,
                            message=ANSWER_REFUSED.format(owner=owner_mention(item)), now=now)
    access.check_checklist_open(launch)
    item_state.check_open(item, launch, now)


def check_can_reassign(session: Session, item: Item, launch: Launch, actor: str, now: datetime) -> None:
    if actor != item.owner_id and not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="item.reassign", entity="item",
                            entity_id=item.id, message=REASSIGN_REFUSED.format(owner=owner_mention(item)), now=now)
    access.check_checklist_open(launch)


def save_checked(session: Session, item: Item, launch: Launch, answer: answer_values.Answer, *, actor: str,
                 now: datetime, settings: Settings) -> bool:
    """Save an answer whose author was authorised elsewhere (the answering API checks its token's scope)."""
    return item_state.set_answer(session, item, launch, answer, actor=actor, now=now, settings=settings)


def answer(session: Session, item_id: int | str, values: dict, *, actor: str, now: datetime,
           settings: Settings) -> Item:
    """An answer modal was submitted: validate, then save (or FieldErrors)."""
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now)
    parsed = capacity.computed_answer(session, item, launch, answer_values.parse(item, values, launch.markets),
                                      settings)
    item_state.set_answer(session, item, launch, parsed, actor=actor, now=now, settings=settings)
    return item


def mark_done(session: Session, item_id: int | str, *, actor: str, now: datetime, settings: Settings) -> bool:
    """The Done button. Returns False if it was already done (a double click)."""
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now)
    if item.state == ItemState.DONE:
        return False
    if item.answer_kind != "confirm":
        raise Conflict("This item needs an answer: use Answer… instead.")
    return item_state.set_answer(session, item, launch, answer_values.Answer(ItemState.DONE, True, item.evidence, None),
                  actor=actor, now=now, settings=settings)


def mark_with_reason(session: Session, item_id: int | str, state: str, values: dict, *, actor: str,
                     now: datetime, settings: Settings) -> Item:
    """Not applicable / Blocked, with the reason the modal asked for."""
    if state not in (ItemState.NA, ItemState.BLOCKED):
        raise FieldErrors({answer_values.REASON: "Unknown choice."})
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now)
    why = answer_values.reason(values)
    value = item.answer if state == ItemState.BLOCKED else None
    item_state.set_answer(session, item, launch, answer_values.Answer(state, value, item.evidence, why), actor=actor, now=now,
           settings=settings)
    return item


def reopen(session: Session, item_id: int | str, *, actor: str, now: datetime, settings: Settings) -> bool:
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now, action="item.reopen")
    return item_state.set_answer(session, item, launch, answer_values.Answer(ItemState.OPEN), actor=actor, now=now,
                  settings=settings)


def reassign(session: Session, item_id: int | str, new_owner: str | None, *, actor: str, now: datetime,
             settings: Settings) -> Item:
    """Hand the item to someone else: they get their prompt, the old owner a short DM."""
    item, launch = load(session, item_id)
    check_can_reassign(session, item, launch, actor, now)
    if not new_owner:
        raise FieldErrors({"user": "Pick the person who takes this item over."})
    if new_owner == item.owner_id:
        raise FieldErrors({"user": "They already own this item. Pick someone else."})
    old = item.owner_id
    event = item_state.reassign(session, item, launch, new_owner, actor=actor, now=now, settings=settings)
    handover = {"item": item.id, "old": old, "new": new_owner, "by": actor}
    # New to this launch: the intro DM (which mentions the handover); otherwise a short DM (the prompt follows).
    intro = f"intro:{launch.id}:{new_owner}"
    if not outbox.exists(session, intro):
        enqueue(session, Kind.INTRO_DM, new_owner, PromptPayload(user=new_owner, handed_by=actor, item=item.id).dump(),
                launch_id=launch.id, dedupe_key=intro, now=now)
    else:
        enqueue(session, Kind.HANDOVER, new_owner, handover | {"to": "new"}, launch_id=launch.id,
                dedupe_key=f"handover:{event.id}:new", now=now)
    if old and old != actor:
        enqueue(session, Kind.HANDOVER, old, handover | {"to": "old"}, launch_id=launch.id,
                dedupe_key=f"handover:{event.id}:old", now=now)
    if launch.channel_id:
        enqueue(session, Kind.INVITE, launch.channel_id, {"users": [new_owner]}, launch_id=launch.id,
                dedupe_key=f"invite:{launch.id}:{new_owner}", now=now)
    return item
