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
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.config import Settings
from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import away, calendar
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
    # Due date, state or level may have changed: the escalation step looks again from the due time.
    item.escalate_at = item.due_at if item.is_open and item.required and item.escalation_level < 2 else None


def _nudgeable(now: datetime):
    """Open, required items of open launches whose nudge day may have come somewhere on Earth
    (backed by the partial index ix_item_nudge_due)."""
    return (batches.unindexed(Launch.status) == LaunchStatus.OPEN, Item.state == ItemState.OPEN, Item.required.is_(True),
            Item.owner_id.is_not(None), Item.next_nudge_at.is_not(None), Item.next_nudge_at <= now + LOCAL_DAY_LEAD,
            or_(Item.opens_at.is_(None), Item.opens_at <= now))  # an item not yet open is never nudged


def send_nudges(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """One reminder per person and local business day, across all their launches, inside their
    working hours (grouped by launch inside: bot/blocks/daily.py).

    Set-based (tick_batches.py), batched by *recipient* so everything one person is due for lands
    in one message: one read of whose items are due, one look-up of who is away (their items go
    to their role's backup: bot/services/away.py), then per batch of people one read of their due
    items, one look-up of their zones, and bulk writes. The per-launch ledger (launch, person,
    day) and the person's daily outbox key both stop a second replica or pass from reminding
    anyone twice."""
    hours = WorkingHours.from_settings(ctx.settings)
    counts = session.exec(
        select(Item.owner_id, Item.owner_role, Item.next_nudge_at, func.count())
        .join(Launch, Launch.id == Item.launch_id)
        .where(*_nudgeable(now), or_(Item.snoozed_until.is_(None), Item.snoozed_until <= now))
        .group_by(Item.owner_id, Item.owner_role, Item.next_nudge_at)).all()
    routing = away.Routing(session, {owner for owner, _, _, _ in counts}, now.date())
    route = {(owner, role): routing.stand_in(owner, role) for owner, role, _, _ in counts}
    zones = batches.Zones(session, now)
    awake = batches.in_working_hours(zones, sorted({who for who in route.values() if who}), hours)
    # Items whose day has come in their recipient's own calendar (a Tokyo evening is already
    # tomorrow): people with none, such as those reminded earlier today, are not read at all.
    today = {who: now.astimezone(zones[who]).date() for who in awake}
    load: dict[str, int] = defaultdict(int)
    for owner, role, day, n in counts:
        who = route[(owner, role)]
        if who in today and day.date() <= today[who]:
            load[who] += n
    due = [who for who in awake if load[who]]
    for people in batches.step_batches(due, report, "reminders", lambda v: batches.weighted_chunks(v, load)):
        batch = set(people)
        owners = sorted({owner for (owner, _), who in route.items() if who in batch})
        _nudge_batch(session, now, hours, people, owners, route, routing, zones, report)
        batches.end_batch(session, report)


def _due_rows(session: Session, now: datetime, owners: Sequence[str]):
    for part in batches.chunks(owners):
        stmt = (
            select(Item.id, Item.launch_id, Item.owner_id, Item.owner_role, Item.item_key, Item.due_at,
                   Item.next_nudge_at, Item.snoozed_until, Launch.markets, Launch.name)
            .join(Launch, Launch.id == Item.launch_id)
            .where(*_nudgeable(now), Item.owner_id.in_(part))
            .order_by(Item.launch_id, Item.due_at, Item.id)
        )
        if is_postgres(session):  # another replica's tick skips what this one holds
            stmt = stmt.with_for_update(skip_locked=True, of=Item)
        yield from session.execute(stmt)


def _nudge_batch(session: Session, now: datetime, hours: WorkingHours, people: Sequence[str], owners: Sequence[str],
                 route: dict, routing: away.Routing, zones: batches.Zones, report: TickReport) -> None:
    groups: dict[tuple[int, str], list] = defaultdict(list)
    members = set(people)
    for row in _due_rows(session, now, owners):
        who = route.get((row.owner_id, row.owner_role))
        if who in members:
            groups[(row.launch_id, who)].append(row)
    moved: dict[datetime, list[int]] = defaultdict(list)
    wanted = []
    for (launch_id, user), items in sorted(groups.items()):
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
        due, later = _weekly(due, today, routing.summary.get(user))
        for i in later:  # a weekly-summary person: quiet until Monday or until it is due within N days
            moved[day_start(_weekly_wake(i, today, routing.summary[user]))].append(i.id)
        if not due:
            continue
        moved[day_start(today + timedelta(days=1))] += [i.id for i in due]
        wanted.append((launch_id, user, today, due))
    for tomorrow, ids in moved.items():
        batches.set_many(session, Item, ids, next_nudge_at=tomorrow)
    # Already nudged today about that launch (another replica, or a reopened item): the ledger says no.
    won = batches.claim_many(session, [(lid, user, today, "nudge") for lid, user, today, _ in wanted], now)
    daily: dict[tuple[str, date], list[tuple[int, list]]] = defaultdict(list)
    for launch_id, user, today, due in wanted:
        if (launch_id, user, today, "nudge") in won:
            daily[(user, today)].append((launch_id, due))
    sent = _queue_daily(session, now, daily, routing)
    batches.set_many(session, Item, [i.id for user, today in sent for _, due in daily[(user, today)] for i in due],
                     last_nudged_at=now)
    events = []
    for user, today in sent:
        zone = zones[user]
        local = now.astimezone(zone)
        parts = daily[(user, today)]
        for launch_id, due in parts:
            covering = sorted({i.owner_id for i in due if i.owner_id != user})
            events.append({"actor": "launchgate", "action": "nudge.sent", "entity": "launch",
                           "entity_id": launch_id, "launch_id": launch_id, "at": now,
                           "after": {"to": user, "items": [i.item_key for i in due],
                                     "overdue": sum(i.due_at < now for i in due), "launches": len(parts),
                                     "local_time": local.strftime("%Y-%m-%d %H:%M"), "tz": zone.key}
                           | ({"covering": covering} if covering else {})})
        count = sum(len(due) for _, due in parts)
        overdue = sum(i.due_at < now for _, due in parts for i in due)
        first = parts[0][1][0]
        where = f"LR-{parts[0][0]} {first.name}" if len(parts) == 1 else f"{len(parts)} launches"
        report.add(f"nudge {user} ({local:%a %d %b %H:%M} {zone.key}): {where} — {count} item(s), {overdue} overdue")
    batches.audit_many(session, events)


def _weekly(due: list, today: date, days: int | None) -> tuple[list, list]:
    """(nudged today, left for the weekly summary): with a weekly-summary preference, items not
    due within `days` days wait for Monday's summary; overdue and soon-due ones come daily."""
    if days is None or today.weekday() == 0:
        return due, []
    horizon = today + timedelta(days=days)
    return [i for i in due if i.due_at.date() <= horizon], [i for i in due if i.due_at.date() > horizon]


def _weekly_wake(item, today: date, days: int) -> date:
    monday = today + timedelta(days=7 - today.weekday())
    return min(monday, item.due_at.date() - timedelta(days=days))


def _queue_daily(session: Session, now: datetime, daily: dict, routing: away.Routing) -> list[tuple[str, date]]:
    """Queue each person's one message of the day; returns the (person, day) pairs queued.

    One launch: the launch's own nudge (every item with its controls). Several: one message
    grouped by launch (`Kind.NUDGE_DAY`). The person's daily key is the last word: a pass that
    finds it taken gives back its launch claims, so the record never shows a nudge not sent."""
    rows = []
    for (user, today), parts in daily.items():
        extra = {"day": today.isoformat()}
        covering = sorted({i.owner_id for _, due in parts for i in due if i.owner_id != user})
        if covering:  # standing in for someone away: their items are in this person's reminder
            extra["covering"] = covering
        if len(parts) == 1:
            launch_id, due = parts[0]
            rows.append(batches.outbox_row(Kind.NUDGE, user, {"items": [i.id for i in due]} | extra, launch_id,
                                           daily_key(user, today), now))
        else:
            weekly = {"weekly": True} if user in routing.summary and today.weekday() == 0 else {}
            rows.append(batches.outbox_row(Kind.NUDGE_DAY, user, {
                "launches": [[launch_id, [i.id for i in due]] for launch_id, due in parts]} | extra | weekly,
                None, daily_key(user, today), now))
    queued = batches.enqueue_many(session, rows, returning=True)
    sent = [(user, today) for user, today in daily if daily_key(user, today) in queued]
    lost = [(lid, user, today, "nudge") for user, today in daily if daily_key(user, today) not in queued
            for lid, _ in daily[(user, today)]]
    batches.release_claims(session, lost)
    return sent


def daily_key(user: str, day: date) -> str:
    """The outbox key of a person's one reminder of the day."""
    return f"nudge-day:{user}:{day.isoformat()}"
