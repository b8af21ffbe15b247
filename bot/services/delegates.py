"""Delegating an item: one more person who may answer it for its owner.

The owner stays the owner: reminders and escalations keep going to them (they
are accountable), while the delegate gets one DM with the item's controls and
sees it among their open items on the Home tab. Reassigning an item clears its
delegate (see `answers.reassign`).
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import Item, Launch

from . import access, item_state
from .answers import load, owner_mention
from .errors import FieldErrors
from .outbox import Kind, enqueue

DELEGATE_REFUSED = ("Only the item's owner ({owner}), the launch owner or a readiness lead can choose who may "
                    "answer it for them.")


def check_can_delegate(session: Session, item: Item, launch: Launch, actor: str, now: datetime) -> None:
    """The owner, the launch owner, a readiness lead (or an admin) — not the delegate themself."""
    if actor != item.owner_id and not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="item.delegate", entity="item",
                            entity_id=item.id, message=DELEGATE_REFUSED.format(owner=owner_mention(item)),
                            now=now)
    access.check_checklist_open(launch)


def set_delegate(session: Session, item_id: int | str, delegate: str | None, *, actor: str,
                 now: datetime) -> bool:
    """Set (or, with None, remove) the item's delegate. Returns False when nothing changed."""
    item, launch = load(session, item_id)
    check_can_delegate(session, item, launch, actor, now)
    delegate = delegate or None
    if delegate and delegate == item.owner_id:
        raise FieldErrors({"user": "They own this item already. Pick someone else, or leave it empty to remove "
                                   "the delegate."})
    if delegate == item.delegate_id:
        return False  # a resubmitted modal, or removing a delegate nobody had
    old = item.delegate_id
    event = item_state.delegate(session, item, launch, delegate, actor=actor, now=now)
    note = {"item": item.id, "by": actor, "delegate": delegate, "old": old}
    if delegate:
        enqueue(session, Kind.DELEGATED, delegate, note | {"to": "delegate"}, launch_id=launch.id,
                dedupe_key=f"delegated:{event.id}:delegate", now=now)
        if launch.channel_id:
            enqueue(session, Kind.INVITE, launch.channel_id, {"users": [delegate]}, launch_id=launch.id,
                    dedupe_key=f"invite:{launch.id}:{delegate}", now=now)
    if item.owner_id and actor != item.owner_id:  # someone else chose who answers for them: tell them once
        enqueue(session, Kind.DELEGATED, item.owner_id, note | {"to": "owner"}, launch_id=launch.id,
                dedupe_key=f"delegated:{event.id}:owner", now=now)
    return True
