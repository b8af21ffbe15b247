"""Every change of an item's state, in one place: answer, edit, not applicable, blocked,
reopen, waive, revoke, expire, send back, reassign, delegate, and due dates moving.

Use cases (answers, waivers, delegates, decisions, launch_edit) check who may do what
and validate input; then they call one function here, which changes the item,
reschedules its reminders, writes the audit event with the same snapshot shape before
and after (`snapshot`), records the change for the unit of work (the messages that show
the item are refreshed at commit, bot/services/effects.py) and, when the item's state
moved, lets the gates re-evaluate.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session

from bot.config import Settings
from models import AuditAction, AuditEvent, Item, ItemState, Launch

from . import audit, calendar, changes, gates, policy, reminders
from .answer_values import Answer
from .changes import ItemChanged
from .errors import Conflict

REOPEN_GRACE_BUSINESS_DAYS = 2


def snapshot(item: Item) -> dict[str, Any]:
    """The one shape of an item in the audit trail's before/after."""
    return {"state": item.state, "answer": item.answer, "evidence": item.evidence, "note": item.note,
            "owner": item.owner_id, "delegate": item.delegate_id, "due_at": item.due_at,
            "waiver_reason": item.waiver_reason, "waived_by": item.waived_by,
            "waiver_expires_at": item.waiver_expires_at}


def _changed(session: Session, item: Item, launch: Launch, *, actor: str, action: AuditAction, before: dict,
             now: datetime, settings: Settings | None, note: str | None = None, owners: tuple = (),
             delegates: tuple = (), state_moved: bool = True) -> AuditEvent:
    """What every item change does besides the change itself."""
    if settings is not None:
        reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    event = audit.record(session, actor=actor, action=action, entity="item", entity_id=item.id, launch_id=launch.id,
                         before=before, after=snapshot(item), note=note, at=now)
    changes.record(session, ItemChanged(launch.id, item.id, owners or (item.owner_id,),
                                        delegates or (item.delegate_id,), action, actor), now=now, settings=settings)
    session.flush()
    if state_moved:
        gates.items_changed(session, launch, [item.gate_id], actor=actor, now=now)
    return event


# -- not yet open ----------------------------------------------------------------------------
# Items (and gates) that only make sense near or after the launch date have an opening time
# (template key `opens`, docs/checklists.md): before it nobody can answer them, however they try
# (Slack buttons, the Home tab, the HTTP answering API), and they are not nudged.

class NotOpenYet(Conflict):
    """The item (or gate) opens later; the message says when and why."""


def opens_text(opens_at: datetime, offset: int | None) -> str:
    when = f"{opens_at:%a %d %b %Y}"
    if offset is None:
        return when
    days = abs(offset)
    relation = "the launch date" if offset == 0 else (
        f"{days} business day{'s' if days != 1 else ''} {'before' if offset < 0 else 'after'} launch")
    return f"{when} ({relation})"


def is_open_yet(item: Item, now: datetime) -> bool:
    return item.opens_at is None or now >= item.opens_at


def check_open(item: Item, launch: Launch, now: datetime) -> None:
    if not is_open_yet(item, now):
        raise NotOpenYet(f"Not yet: this item opens on {opens_text(item.opens_at, item.opens_offset_business_days)}"
                         f" — {launch.key} launches {launch.launch_date:%a %d %b %Y}, and the answer only means "
                         "something close to it. Reminders for it start then.")


# -- answers ---------------------------------------------------------------------------------

def set_answer(session: Session, item: Item, launch: Launch, answer: Answer, *, actor: str, now: datetime,
               settings: Settings) -> bool:
    """Answer, edit, not applicable, blocked or (state OPEN) reopen; False when nothing changes."""
    check_open(item, launch, now)
    before = snapshot(item)
    if answer.state == ItemState.OPEN:
        if item.state == ItemState.OPEN:
            return False
        item.state, item.answer, item.answered_by, item.answered_at = ItemState.OPEN, None, None, None
        item.note, item.snoozed_until = answer.note, None
        item.evidence = answer.evidence
        _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_REOPENED, before=before, now=now,
                 settings=settings)
        return True
    if (item.state, item.answer, item.evidence, item.note) == (answer.state, answer.value, answer.evidence,
                                                               answer.note):
        return False
    was_answered = item.state in (ItemState.DONE, ItemState.NA, ItemState.WAIVED)
    item.state, item.answer, item.evidence, item.note = answer.state, answer.value, answer.evidence, answer.note
    item.answered_by, item.answered_at = actor, now
    action = {ItemState.NA: AuditAction.ITEM_MARKED_NA, ItemState.BLOCKED: AuditAction.ITEM_MARKED_BLOCKED}.get(
        answer.state) or (AuditAction.ITEM_EDITED if was_answered else AuditAction.ITEM_ANSWERED)
    _changed(session, item, launch, actor=actor, action=action, before=before, now=now, settings=settings)
    return True


# What set_answer records: the capacity check (bot/services/effects.py) follows these.
ANSWER_ACTIONS = frozenset({AuditAction.ITEM_ANSWERED, AuditAction.ITEM_EDITED, AuditAction.ITEM_MARKED_NA,
                            AuditAction.ITEM_MARKED_BLOCKED, AuditAction.ITEM_REOPENED})


# -- waivers ---------------------------------------------------------------------------------

def waive(session: Session, item: Item, launch: Launch, *, actor: str, reason: str, expires_at: datetime | None,
          now: datetime, settings: Settings) -> None:
    before = snapshot(item)
    item.state = ItemState.WAIVED
    item.waiver_reason, item.waived_by, item.waiver_expires_at = reason, actor, expires_at
    _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_WAIVED, before=before, now=now,
             settings=settings)


def _reopen(item: Item, launch: Launch, now: datetime) -> dict[str, Any]:
    """Open an item again (recycle, revoked or expired waiver); returns its before-snapshot.

    A due date already past moves to two business days from now, so the
    owner is not told off for a deadline that was met the first time.
    """
    before = snapshot(item)
    item.state = ItemState.OPEN
    item.waiver_reason = item.waived_by = item.waiver_expires_at = None
    item.escalation_level = 0
    grace = calendar.add_business_days(now.date(), REOPEN_GRACE_BUSINESS_DAYS, launch.markets)
    item.due_at = max(item.due_at, datetime.combine(grace, calendar.DUE_TIME, tzinfo=timezone.utc))
    item.escalate_at = item.due_at if item.required else None
    return before


reopen = _reopen  # for use cases with their own audit event (links: a broken evidence link sends the item back)


def revoke(session: Session, item: Item, launch: Launch, *, actor: str, reason: str, now: datetime,
           settings: Settings) -> dict[str, Any]:
    before = _reopen(item, launch, now)
    _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_WAIVER_REVOKED, before=before, now=now,
             settings=settings, note=reason)
    return before


def expire(session: Session, item: Item, launch: Launch, *, now: datetime, settings: Settings) -> dict[str, Any]:
    before = _reopen(item, launch, now)
    _changed(session, item, launch, actor=audit.SYSTEM, action=AuditAction.ITEM_WAIVER_EXPIRED, before=before,
             now=now, settings=settings)
    return before


def send_back(session: Session, item: Item, launch: Launch, *, actor: str, reason: str | None, now: datetime,
              settings: Settings) -> None:
    """Recycle: a reviewer sends the item back to its owner (the decision itself moves the gates)."""
    before = _reopen(item, launch, now)
    _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_SENT_BACK, before=before, now=now,
             settings=settings, note=reason, state_moved=False)


# -- who answers ---------------------------------------------------------------------------

def reassign(session: Session, item: Item, launch: Launch, new_owner: str, *, actor: str, now: datetime,
             settings: Settings) -> AuditEvent:
    """A new owner (without the old one's delegate); both owners' and the old delegate's views follow."""
    before = snapshot(item)
    old, old_delegate = item.owner_id, item.delegate_id
    item.owner_id, item.delegate_id, item.snoozed_until, item.last_nudged_at = new_owner, None, None, None
    return _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_REASSIGNED, before=before, now=now,
                    settings=settings, owners=(old, new_owner), delegates=(old_delegate,), state_moved=False)


def delegate(session: Session, item: Item, launch: Launch, delegate_id: str | None, *, actor: str,
             now: datetime) -> AuditEvent:
    """Set or (None) remove the delegate; the new delegate is told by the caller, the old one's DM follows."""
    before = snapshot(item)
    old = item.delegate_id
    item.delegate_id = delegate_id
    return _changed(session, item, launch, actor=actor, action=AuditAction.ITEM_DELEGATED, before=before, now=now,
                    settings=None, delegates=(old,), state_moved=False)


def move_due(session: Session, item: Item, launch: Launch, due: datetime, *, now: datetime,
             settings: Settings, opens: datetime | None = None) -> None:
    """The launch date moved: a new due date and opening (audited once, on the launch, by launch_edit)."""
    item.due_at, item.opens_at = due, opens
    reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    changes.record(session, ItemChanged(launch.id, item.id, (item.owner_id,), (item.delegate_id,),
                                        AuditAction.LAUNCH_DATE_CHANGED), now=now)


def created(session: Session, item: Item, launch: Launch, *, actor: str, after: dict, note: str | None,
            now: datetime) -> None:
    """A new item (a condition of a decision): audited with what it asks, and shown to its owner."""
    audit.record(session, actor=actor, action=AuditAction.ITEM_CREATED, entity="item", entity_id=item.id,
                 launch_id=launch.id, after=after, note=note, at=now)
    changes.record(session, ItemChanged(launch.id, item.id, (item.owner_id,), (), AuditAction.ITEM_CREATED), now=now)
