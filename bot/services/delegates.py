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

from . import access, audit
from .answers import load, owner_mention, snapshot
from .errors import FieldErrors
from .outbox import Kind, enqueue, refresh_delegate, refresh_nudge, refresh_prompt

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
    before = snapshot(item)
    old = item.delegate_id
    item.delegate_id = delegate
    session.add(item)
    event = audit.record(session, actor=actor, action="item.delegated", entity="item", entity_id=item.id,
                         launch_id=launch.id, before=before, after=snapshot(item), at=now)
    session.flush()
    note = {"item": item.id, "by": actor, "delegate": delegate, "old": old}
    if delegate:
        enqueue(session, Kind.DELEGATED, delegate, note | {"to": "delegate"}, launch_id=launch.id,
                dedupe_key=f"delegated:{event.id}:delegate", now=now)
        if launch.channel_id:
            enqueue(session, Kind.INVITE, launch.channel_id, {"users": [delegate]}, launch_id=launch.id,
                    dedupe_key=f"invite:{launch.id}:{delegate}", now=now)
    if old:
        refresh_delegate(session, launch.id, item.id, old, now=now)  # their DM: no longer theirs to answer
    if item.owner_id:
        if actor != item.owner_id:  # someone else chose who answers for them: tell them once
            enqueue(session, Kind.DELEGATED, item.owner_id, note | {"to": "owner"}, launch_id=launch.id,
                    dedupe_key=f"delegated:{event.id}:owner", now=now)
        refresh_prompt(session, launch.id, item.owner_id, now=now)
        refresh_nudge(session, launch.id, item.owner_id, now=now)
    return True
