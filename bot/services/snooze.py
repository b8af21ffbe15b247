"""Snoozing a nudge: quiet the regular reminders for a while.

"1 day" and "3 days" skip that many business days of reminders (snoozed on
Monday for 1 day, the next reminder comes on Wednesday at the start of the
person's working day); "until due" is quiet until the morning of each item's
due day. A snooze covers every open item the person owns in that launch and
is not an escalation stop: overdue items still reach the readiness lead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models import Item, ItemState, Launch, UserProfile

from . import audit, calendar, locks
from .errors import ServiceError
from .outbox import refresh_nudge
from .policy import WorkingHours
from .recipients import UTC, day_start, window_start, zone_named

CHOICES = {"1d": 1, "3d": 3, "due": None}


@dataclass
class Snoozed:
    launch: Launch
    items: list[Item]
    until: datetime          # the earliest wake-up among the snoozed items
    skipped: int = 0         # items already due (not covered by "until due")
    tz: str = "UTC"


def snooze(session: Session, launch_id: int, *, actor: str, choice: str, now: datetime,
           hours: WorkingHours) -> Snoozed:
    if choice not in CHOICES:
        raise ServiceError("Unknown snooze option.")
    launch = locks.launch(session, launch_id)
    items = list(session.exec(
        select(Item).where(Item.launch_id == launch.id, Item.state == ItemState.OPEN,
                           (Item.owner_id == actor) | (Item.delegate_id == actor))
        .order_by(Item.due_at, Item.id)
    ))
    if not items:
        raise ServiceError(f"Nothing to snooze: you have no open items in {launch.key}.")
    profile = session.get(UserProfile, actor)
    zone = zone_named(profile.tz) if profile else UTC
    today = now.astimezone(zone).date()
    snoozed, skipped = [], 0
    for item in items:
        days = CHOICES[choice]
        if days is None:
            wake = item.due_at.date()
            if wake <= today:
                skipped += 1
                continue
        else:
            wake = calendar.add_business_days(today, days + 1, launch.markets)
        before = item.snoozed_until
        item.snoozed_until = window_start(wake, zone, hours)
        if item.next_nudge_at is not None:
            item.next_nudge_at = max(item.next_nudge_at, day_start(wake))
        session.add(item)
        snoozed.append((item, before))
    if not snoozed:
        raise ServiceError("Those items are already due, so there is nothing to snooze until then. "
                           "Pick 1 day or 3 days instead.")
    until = min(item.snoozed_until for item, _ in snoozed)
    audit.record(session, actor=actor, action="snooze.set", entity="launch", entity_id=launch.id,
                 launch_id=launch.id, at=now,
                 before={i.item_key: b for i, b in snoozed},
                 after={"choice": choice, "items": {i.item_key: i.snoozed_until for i, _ in snoozed}})
    refresh_nudge(session, launch.id, actor, now=now)
    return Snoozed(launch, [i for i, _ in snoozed], until, skipped, zone.key)
