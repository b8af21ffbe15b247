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

from sqlalchemy import or_
from sqlmodel import Session, select

from bot.config import Settings
from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import calendar
from . import tick_batches as batches
from .context import AppContext, TickReport
from .outbox import Kind
from .policy import ReminderPolicy, WorkingHours, defaults
from .recipients import LOCAL_DAY_LEAD, day_start


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
        item.next_nudge_at = max(day_start(first), item.opens_at or day_start(first))  # never before it opens
    if item.due_at > now:
        item.escalation_level = 0


def _nudgeable(now: datetime):
    """Open, required items of open launches whose nudge day may have come somewhere on Earth
    (backed by the partial index ix_item_nudge_due)."""
    return (Launch.status == LaunchStatus.OPEN, Item.state == ItemState.OPEN, Item.required.is_(True),
            Item.owner_id.is_not(None), Item.next_nudge_at.is_not(None), Item.next_nudge_at <= now + LOCAL_DAY_LEAD,
            or_(Item.opens_at.is_(None), Item.opens_at <= now))  # an item not yet open is never nudged


def send_nudges(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """One grouped nudge per person, launch and local business day, inside their working hours.

    Set-based (tick_batches.py): launches are taken in batches; each batch is one read
    of its due items, one look-up of its people's zones, and bulk writes."""
    hours = WorkingHours.from_settings(ctx.settings)
    launch_ids = session.exec(select(Item.launch_id).join(Launch, Launch.id == Item.launch_id)
                              .where(*_nudgeable(now)).distinct().order_by(Item.launch_id)).all()
    for first, last in batches.launch_ranges(launch_ids):
        _nudge_batch(session, now, hours, first, last, report)
        batches.end_batch(session, report)


def _nudge_batch(session: Session, now: datetime, hours: WorkingHours, first: int, last: int,
                 report: TickReport) -> None:
    stmt = (
        select(Item.id, Item.launch_id, Item.owner_id, Item.item_key, Item.due_at, Item.next_nudge_at,
               Item.snoozed_until, Launch.markets, Launch.name)
        .join(Launch, Launch.id == Item.launch_id)
        .where(*_nudgeable(now), Item.launch_id.between(first, last))
        .order_by(Item.launch_id, Item.owner_id, Item.due_at, Item.id)
    )
    if is_postgres(session):  # another replica's tick skips what this one holds
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for row in session.execute(stmt):
        groups[(row.launch_id, row.owner_id)].append(row)
    zones = batches.Zones(session, now)
    zones.load(user for _, user in groups)
    moved: dict[datetime, list[int]] = defaultdict(list)
    wanted = []
    for (launch_id, user), items in groups.items():
        zone = zones[user]
        if zone is None:
            continue
        local = now.astimezone(zone)
        markets = tuple(items[0].markets or ())
        if not batches.in_working_time(local, hours, markets):
            continue  # waits for the next working window
        today = local.date()
        due = [i for i in items if i.next_nudge_at.date() <= today
               and not (i.snoozed_until and i.snoozed_until > now)]
        if not due:
            continue
        moved[day_start(today + timedelta(days=1))] += [i.id for i in due]
        wanted.append((launch_id, user, today, local, zone, due))
    for tomorrow, ids in moved.items():
        batches.set_many(session, Item, ids, next_nudge_at=tomorrow)
    # Already nudged today (another replica, or a reopened item): the ledger says no.
    won = batches.claim_many(session, [(lid, user, today, "nudge") for lid, user, today, *_ in wanted], now)
    sent, rows, events = [], [], []
    for launch_id, user, today, local, zone, due in wanted:
        if (launch_id, user, today, "nudge") not in won:
            continue
        sent += [i.id for i in due]
        overdue = sum(i.due_at < now for i in due)
        day = today.isoformat()
        rows.append(batches.outbox_row(Kind.NUDGE, user, {"items": [i.id for i in due], "day": day}, launch_id,
                                       f"nudge:{launch_id}:{user}:{day}", now))
        events.append({"actor": "launchgate", "action": "nudge.sent", "entity": "launch", "entity_id": launch_id,
                       "launch_id": launch_id, "at": now,
                       "after": {"to": user, "items": [i.item_key for i in due], "overdue": overdue,
                                 "local_time": local.strftime("%Y-%m-%d %H:%M"), "tz": zone.key}})
        report.add(f"nudge {user} ({local:%a %d %b %H:%M} {zone.key}): LR-{launch_id} {due[0].name} — "
                   f"{len(due)} item(s), {overdue} overdue")
    batches.set_many(session, Item, sent, last_nudged_at=now)
    batches.enqueue_many(session, rows)
    batches.audit_many(session, events)
