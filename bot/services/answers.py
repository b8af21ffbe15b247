"""Answering checklist items: done, a value, not applicable, blocked, reopen, reassign.

Every change checks who may make it first (a refusal is audited), records
the before and after, re-renders the owner's prompt and nudge, the status
card, reschedules reminders and tells gates the items changed — all in the
caller's one transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import Settings
from bot.codecs import PromptPayload
from models import Item, ItemState, Launch

from . import access, answer_values, audit, capacity, gates, locks, policy, reminders
from .errors import Conflict, FieldErrors
from .outbox import (
    Kind,
    enqueue,
    refresh_delegate,
    refresh_escalations,
    refresh_item_views,
    refresh_nudge,
    refresh_prompt,
    refresh_status_card,
)

ANSWER_REFUSED = ("Only the item's owner ({owner}), their delegate, the launch owner or a readiness lead "
                  "can answer it.")
REASSIGN_REFUSED = "Only the item's owner ({owner}), the launch owner or a readiness lead can reassign it."


def snapshot(item: Item) -> dict[str, Any]:
    return {"state": item.state, "answer": item.answer, "evidence": item.evidence, "note": item.note,
            "owner": item.owner_id, "delegate": item.delegate_id}


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


def check_can_reassign(session: Session, item: Item, launch: Launch, actor: str, now: datetime) -> None:
    if actor != item.owner_id and not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="item.reassign", entity="item",
                            entity_id=item.id, message=REASSIGN_REFUSED.format(owner=owner_mention(item)), now=now)
    access.check_checklist_open(launch)


def _changed(session: Session, item: Item, launch: Launch, *, actor: str, action: str, before: dict, now: datetime,
             settings: Settings) -> None:
    """What every state change does besides the change itself."""
    reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    audit.record(session, actor=actor, action=action, entity="item", entity_id=item.id, launch_id=launch.id,
                 before=before, after=snapshot(item), at=now)
    refresh_item_views(session, launch.id, item, now=now)
    refresh_status_card(session, launch.id, now=now)
    session.flush()
    gates.items_changed(session, launch, [item.gate_id], actor=actor, now=now)
    capacity.item_changed(session, item, launch, actor=actor, action=action, now=now, settings=settings)


def _apply(session: Session, item: Item, launch: Launch, answer: answer_values.Answer, *, actor: str, now: datetime,
           settings: Settings) -> bool:
    """Set the answer; returns False when it is exactly what is already there."""
    before = snapshot(item)
    if answer.state == ItemState.OPEN:
        if item.state == ItemState.OPEN:
            return False
        item.state, item.answer, item.answered_by, item.answered_at = ItemState.OPEN, None, None, None
        item.note, item.snoozed_until = answer.note, None
        item.evidence = answer.evidence
        _changed(session, item, launch, actor=actor, action="item.reopened", before=before, now=now, settings=settings)
        return True
    if (item.state, item.answer, item.evidence, item.note) == (answer.state, answer.value, answer.evidence,
                                                               answer.note):
        return False
    was_answered = item.state in (ItemState.DONE, ItemState.NA, ItemState.WAIVED)
    item.state, item.answer, item.evidence, item.note = answer.state, answer.value, answer.evidence, answer.note
    item.answered_by, item.answered_at = actor, now
    action = {ItemState.NA: "item.marked_na", ItemState.BLOCKED: "item.marked_blocked"}.get(answer.state)
    action = action or ("item.edited" if was_answered else "item.answered")
    _changed(session, item, launch, actor=actor, action=action, before=before, now=now, settings=settings)
    return True


def save_checked(session: Session, item: Item, launch: Launch, answer: answer_values.Answer, *, actor: str,
                 now: datetime, settings: Settings) -> bool:
    """Save an answer whose author was authorised elsewhere (the answering API checks its token's scope)."""
    return _apply(session, item, launch, answer, actor=actor, now=now, settings=settings)


def answer(session: Session, item_id: int | str, values: dict, *, actor: str, now: datetime,
           settings: Settings) -> Item:
    """An answer modal was submitted: validate, then save (or FieldErrors)."""
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now)
    parsed = capacity.computed_answer(session, item, launch, answer_values.parse(item, values), settings)
    _apply(session, item, launch, parsed, actor=actor, now=now, settings=settings)
    return item


def mark_done(session: Session, item_id: int | str, *, actor: str, now: datetime, settings: Settings) -> bool:
    """The Done button. Returns False if it was already done (a double click)."""
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now)
    if item.state == ItemState.DONE:
        return False
    if item.answer_kind != "confirm":
        raise Conflict("This item needs an answer: use Answer… instead.")
    return _apply(session, item, launch, answer_values.Answer(ItemState.DONE, True, item.evidence, None),
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
    _apply(session, item, launch, answer_values.Answer(state, value, item.evidence, why), actor=actor, now=now,
           settings=settings)
    return item


def reopen(session: Session, item_id: int | str, *, actor: str, now: datetime, settings: Settings) -> bool:
    item, launch = load(session, item_id)
    check_can_answer(session, item, launch, actor, now, action="item.reopen")
    return _apply(session, item, launch, answer_values.Answer(ItemState.OPEN), actor=actor, now=now,
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
    before = snapshot(item)
    old, old_delegate = item.owner_id, item.delegate_id
    item.owner_id, item.delegate_id, item.snoozed_until, item.last_nudged_at = new_owner, None, None, None
    reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    event = audit.record(session, actor=actor, action="item.reassigned", entity="item", entity_id=item.id,
                         launch_id=launch.id, before=before, after=snapshot(item), at=now)
    session.flush()
    handover = {"item": item.id, "old": old, "new": new_owner, "by": actor}
    # New to this launch: the intro DM (which mentions the handover); otherwise a refresh and a short DM.
    if not enqueue(session, Kind.INTRO_DM, new_owner, PromptPayload(user=new_owner, handed_by=actor, item=item.id).dump(),
                   launch_id=launch.id, dedupe_key=f"intro:{launch.id}:{new_owner}", now=now):
        refresh_prompt(session, launch.id, new_owner, now=now)
        enqueue(session, Kind.HANDOVER, new_owner, handover | {"to": "new"}, launch_id=launch.id,
                dedupe_key=f"handover:{event.id}:new", now=now)
    if old and old != actor:
        enqueue(session, Kind.HANDOVER, old, handover | {"to": "old"}, launch_id=launch.id,
                dedupe_key=f"handover:{event.id}:old", now=now)
    if old:
        refresh_prompt(session, launch.id, old, now=now)
        refresh_nudge(session, launch.id, old, now=now)
    if old_delegate:  # a new owner starts without a delegate; the old one's DM says so
        refresh_delegate(session, launch.id, item.id, old_delegate, now=now)
    refresh_escalations(session, launch.id, now=now)
    refresh_status_card(session, launch.id, now=now)
    if launch.channel_id:
        enqueue(session, Kind.INVITE, launch.channel_id, {"users": [new_owner]}, launch_id=launch.id,
                dedupe_key=f"invite:{launch.id}:{new_owner}", now=now)
    return item
