"""Reminder cadence: when an item is nudged, and the tick step that nudges.

`schedule_item` is the one place an item's next nudge is set; every service
that creates, answers, reopens or re-dates an item calls it.

`Item.next_nudge_at` names a *day*: midnight UTC of the first day (in the
owner's own calendar) the item may be nudged. The tick compares it with the
owner's local date, so a Tokyo owner is nudged at 09:00 in Tokyo and a New
York owner at 09:00 in New York on the same calendar day.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.config import Settings
from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import audit, calendar
from .context import AppContext, TickReport
from .outbox import Kind, enqueue
from .policy import ReminderPolicy, WorkingHours, defaults
from .recipients import LOCAL_DAY_LEAD, claim, day_start, is_working_time, zone_for


def pinned_policy(launch: Launch) -> ReminderPolicy:
    """The policy pinned on the launch at open; keys it lacks take the built-in defaults."""
    known = defaults(Settings.model_construct()).as_dict()
    return ReminderPolicy(**(known | {k: v for k, v in (launch.reminder_policy or {}).items() if k in known}))


def schedule_item(item: Item, launch: Launch, policy: ReminderPolicy, now: datetime) -> None:
    """Set `item.next_nudge_at` for an open item (clear it for a closed one).

    Open, required items are first nudged `first_nudge_days` business days
    (in the launch's markets) before their due day. Blocked items are not
    nudged (the owner told us why they can't move) but still escalate;
    optional items are never nudged.
    """
    if item.state != ItemState.OPEN or not item.required or not item.owner_id:
        item.next_nudge_at = None
    else:
        first = calendar.add_business_days(item.due_at.date(), -policy.first_nudge_days, launch.markets)
        item.next_nudge_at = day_start(first)
    if item.due_at > now:
        item.escalation_level = 0


def nudgeable(session: Session, now: datetime):
    """Open, required items of open launches whose nudge day may have come somewhere on Earth."""
    stmt = (
        select(Item, Launch).join(Launch, Launch.id == Item.launch_id)
        .where(Launch.status == LaunchStatus.OPEN, Item.state == ItemState.OPEN, Item.required.is_(True),
               Item.owner_id.is_not(None), Item.next_nudge_at.is_not(None),
               Item.next_nudge_at <= now + LOCAL_DAY_LEAD)
        .order_by(Item.launch_id, Item.owner_id, Item.due_at, Item.id)
    )
    if is_postgres(session):  # another replica's tick skips what this one holds
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    return session.exec(stmt).all()


def send_nudges(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """One grouped nudge per person, launch and local business day, inside their working hours."""
    hours = WorkingHours.from_settings(ctx.settings)
    groups: dict[tuple[int, str], list[Item]] = defaultdict(list)
    launches: dict[int, Launch] = {}
    for item, launch in nudgeable(session, now):
        groups[(launch.id, item.owner_id)].append(item)
        launches[launch.id] = launch
    for (launch_id, user), items in groups.items():
        launch = launches[launch_id]
        zone = zone_for(session, user, now)
        if zone is None:
            continue
        local = now.astimezone(zone)
        if not is_working_time(local, hours, launch.markets):
            continue  # waits for the next working window
        today = local.date()
        due = [i for i in items if i.next_nudge_at.date() <= today
               and not (i.snoozed_until and i.snoozed_until > now)]
        if not due:
            continue
        tomorrow = day_start(today + timedelta(days=1))
        for item in due:
            item.next_nudge_at = tomorrow
            session.add(item)
        if not claim(session, launch.id, user, today, "nudge", now):
            continue  # already nudged today (another replica, or a reopened item)
        for item in due:
            item.last_nudged_at = now
        overdue = sum(i.due_at < now for i in due)
        enqueue(session, Kind.NUDGE, user, {"items": [i.id for i in due], "day": today.isoformat()},
                launch_id=launch.id, dedupe_key=f"nudge:{launch.id}:{user}:{today.isoformat()}", now=now)
        audit.record(session, actor="launchgate", action="nudge.sent", entity="launch", entity_id=launch.id,
                     launch_id=launch.id, at=now,
                     after={"to": user, "items": [i.item_key for i in due], "overdue": overdue,
                            "local_time": local.strftime("%Y-%m-%d %H:%M"), "tz": zone.key})
        report.add(f"nudge {user} ({local:%a %d %b %H:%M} {zone.key}): {launch.key} {launch.name} — "
                   f"{len(due)} item(s), {overdue} overdue")
