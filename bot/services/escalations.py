"""Overdue items escalate: to the readiness lead, later also to the launch owner.

Each item escalates once per level (`Item.escalation_level`: 0 none, 1 lead,
2 launch owner); the daily digest keeps overdue items visible after that.
Escalations ignore snoozes (a snooze quiets the owner, not the lead) and
include blocked items, which are exactly what a lead needs to unblock.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, false, func, or_
from sqlmodel import Session, select

from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import away, calendar, policy
from . import tick_batches as batches
from .context import AppContext, TickReport
from .outbox import Kind
from .recipients import LOCAL_DAY_LEAD, day_start

LEVELS = ((1, "escalation", "readiness lead"), (2, "escalation_owner", "launch owner"))


def overdue_days(item: Item, today: date, markets: list[str]) -> int:
    """Business days (launch markets) from the due day to `today`."""
    return calendar.business_days_between(item.due_at.date(), today, markets)


def _overdue(now: datetime):
    """Open or blocked required items past due that have not reached the last level and are worth
    reading now (`escalate_at` passed: backed by ix_item_escalate_at)."""
    return (batches.unindexed(Launch.status) == LaunchStatus.OPEN, Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]),
            Item.required.is_(True), Item.due_at < now, Item.escalation_level < 2,
            Item.escalate_at <= now)


def send_escalations(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """One escalation per recipient and local day across all their launches (leads and launch
    owners alike), inside their working hours; grouped by launch inside.

    Who is told follows the ladder (bot/services/away.py): the readiness lead, or while they are
    away their role's backup, else the launch owner; then the launch owner (or their backup).
    Set-based (tick_batches.py), batched by recipient: one read of the launches' leads and
    owners, one look-up of who is away, then per batch of people one read of the overdue items
    of their launches, one look-up of their zones and of who was already told today, and bulk
    writes."""
    hours = policy.WorkingHours.from_settings(ctx.settings)
    heads = session.exec(select(Launch.readiness_lead_id, Launch.owner_id, Item.escalation_level, func.count())
                         .join(Item, Item.launch_id == Launch.id).where(*_overdue(now))
                         .group_by(Launch.readiness_lead_id, Launch.owner_id, Item.escalation_level)).all()
    routing = away.Routing(session, {p for lead, owner, _, _ in heads for p in (lead, owner) if p}, now.date())
    rungs = {(lead, owner): (routing.lead_rung(lead, owner), routing.owner_rung(owner)) for lead, owner, _, _ in heads}
    load: dict[str, int] = defaultdict(int)  # items each person's next level waits on: how heavy their batch is
    for lead, owner, level, n in heads:
        load[rungs[(lead, owner)][level]] += n
    people = sorted({who for pair in rungs.values() for who in pair if who})
    # Only people inside their working hours and not yet told today are read this pass.
    zones = batches.Zones(session, now)
    local = {p: now.astimezone(zones[p]) for p in batches.in_working_hours(zones, people, hours)}
    told = batches.taken_keys(session, [daily_key(p, t.date()) for p, t in local.items()])
    free = [p for p in local if daily_key(p, local[p].date()) not in told]
    rules: dict[str, policy.ReminderPolicy] = {}
    for batch in batches.step_batches(free, report, "escalations", lambda v: batches.weighted_chunks(v, load)):
        _escalation_batch(session, ctx, now, hours, batch, rungs, rules, zones, local, report)
        batches.end_batch(session, report)


def _overdue_rows(session: Session, now: datetime, members: set[str], rungs: dict):
    """Overdue items whose next level goes to one of the batch's people: items no level yet of the
    launches whose lead rung is in the batch, items at the lead's level of those whose owner rung is."""
    wanted = []
    for level in (0, 1):
        pairs = [pair for pair, rung in rungs.items() if rung[level] in members]
        if pairs:
            wanted.append(and_(Item.escalation_level == level,
                               Launch.readiness_lead_id.in_(sorted({lead for lead, _ in pairs})),
                               Launch.owner_id.in_(sorted({owner for _, owner in pairs}))))
    stmt = (
        select(Item.id, Item.launch_id, Item.owner_id, Item.item_key, Item.due_at, Item.escalation_level,
               Launch.name, Launch.markets, Launch.readiness_lead_id, Launch.owner_id.label("launch_owner"),
               Launch.reminder_policy)
        .join(Launch, Launch.id == Item.launch_id)
        .where(*_overdue(now), or_(*wanted) if wanted else false())
        .order_by(Item.launch_id, Item.due_at, Item.id)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    return session.execute(stmt)


def _escalation_batch(session: Session, ctx: AppContext, now: datetime, hours: policy.WorkingHours,
                      people: Sequence[str], rungs: dict, rules: dict, zones: batches.Zones,
                      local: dict[str, datetime], report: TickReport) -> None:
    mine = set(people)  # inside their hours and not yet told today (send_escalations)
    by_launch: dict[int, list] = defaultdict(list)
    for row in _overdue_rows(session, now, mine, rungs):
        by_launch[row.launch_id].append(row)
    levels = {row.id: row.escalation_level for items in by_launch.values() for row in items}
    wanted = []   # (launch, recipient, level, kind, crossing)
    waits: dict[tuple[int, int], datetime] = {}   # (item, level) → not to be read again before
    rule_of: dict[int, policy.ReminderPolicy] = {}
    for level, kind, _ in LEVELS:
        for launch_id, items in by_launch.items():
            head = items[0]
            recipient = rungs.get((head.readiness_lead_id, head.launch_owner), (None, None))[level - 1]
            # The launch owner hears only of what the lead already knows about (maybe this very pass).
            waiting = [i for i in items if levels[i.id] == level - 1]
            if recipient not in mine or not waiting:
                continue
            markets = tuple(head.markets or ())
            rule = rule_of[launch_id] = _rule(ctx, rules, head.reminder_policy)
            threshold = rule.escalate_after_days if level == 1 else rule.escalate_owner_after_days
            today = local[recipient].date()
            working = batches.in_working_time(local[recipient], hours, markets)
            crossing = [i for i in waiting if working
                        and batches.business_days_between(i.due_at.date(), today, markets) >= threshold]
            crossed = {i.id for i in crossing}
            for item in (i for i in waiting if i.id not in crossed):
                waits[(item.id, level)] = _not_before(item.due_at.date(), threshold, markets, today, zones[recipient])
            if crossing:
                wanted.append((launch_id, recipient, level, kind, crossing))
                for item in crossing:
                    levels[item.id] = level
    won = batches.claim_many(session, [(lid, who, local[who].date(), kind) for lid, who, _, kind, _ in wanted], now)
    daily: dict[str, list] = defaultdict(list)
    for part in wanted:
        launch_id, who, _, kind, _ = part
        if (launch_id, who, local[who].date(), kind) in won:
            daily[who].append(part)
    sent = _queue_daily(session, now, daily, local)
    events = []
    for who in sent:
        zone = zones[who]
        for launch_id, _, level, kind, crossing in daily[who]:
            events.append({"actor": "launchgate", "action": "escalation.sent", "entity": "launch",
                           "entity_id": launch_id, "launch_id": launch_id, "at": now,
                           "after": {"to": who, "level": level, "items": [i.item_key for i in crossing],
                                     "owners": sorted({i.owner_id for i in crossing if i.owner_id}),
                                     "launches": len(daily[who]),
                                     "local_time": local[who].strftime("%Y-%m-%d %H:%M"), "tz": zone.key}})
        parts = daily[who]
        count = sum(len(p[4]) for p in parts)
        where = f"LR-{parts[0][0]} {parts[0][4][0].name}" if len(parts) == 1 else f"{len(parts)} launches"
        label = " and ".join(dict.fromkeys(LABELS[p[2]] for p in parts))
        report.add(f"escalate to {label} {who} ({local[who]:%a %d %b %H:%M} {zone.key}): {where} — "
                   f"{count} overdue item(s)")
    for level, _, _ in LEVELS:  # the last level is read no more (escalate_at NULL)
        batches.set_many(session, Item, [i.id for who in sent for _, _, lv, _, crossing in daily[who] if lv == level
                                         for i in crossing], escalation_level=level,
                         **({"escalate_at": None} if level == len(LEVELS) else {}))
    _schedule_next(session, by_launch, waits, rule_of, [part for who in sent for part in daily[who]])
    batches.audit_many(session, events)


def _rule(ctx: AppContext, rules: dict, pinned: dict | None) -> policy.ReminderPolicy:
    key = repr(sorted((pinned or {}).items()))
    if key not in rules:
        rules[key] = policy.for_launch(ctx.settings, Launch(reminder_policy=pinned or {}))
    return rules[key]


def _not_before(due: date, threshold: int, markets: tuple[str, ...], today: date, zone) -> datetime:
    """The start (in the recipient's zone) of the first local day the item can cross `threshold`,
    and never today again: it was just looked at."""
    day = max(batches.add_business_days(due, threshold, markets), today + timedelta(days=1))
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _schedule_next(session: Session, by_launch: dict, waits: dict, rule_of: dict, sent: list) -> None:
    """`Item.escalate_at`: when each item read this batch is next worth reading, so an overdue item
    that is not yet escalating is not read again by every pass (time lives in the database).

    An item waiting for its next level waits until that level's threshold day (in the recipient's
    zone); one escalated to the lead now waits for the owner's threshold (a day early, whatever the
    zone); one that crossed but was not sent (another pass took the day) stays due."""
    stored = {row.id: row for items in by_launch.values() for row in items}
    last = {i.id for _, _, level, _, crossing in sent if level == len(LEVELS) for i in crossing}
    raised = {i.id: launch_id for launch_id, _, level, _, crossing in sent if level == 1 for i in crossing
              if i.id not in last}
    at: dict[int, datetime] = {}
    for (item_id, level), when in waits.items():
        if item_id in last:
            continue
        if stored[item_id].escalation_level == level - 1 or (level == 2 and item_id in raised):
            at[item_id] = when
    for item_id, launch_id in raised.items():
        if item_id not in at:
            row, rule = stored[item_id], rule_of[launch_id]
            cross = batches.add_business_days(row.due_at.date(), rule.escalate_owner_after_days,
                                              tuple(row.markets or ()))
            at[item_id] = day_start(cross) - LOCAL_DAY_LEAD
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for item_id, when in at.items():
        by_time[when].append(item_id)
    for when, ids in by_time.items():
        batches.set_many(session, Item, ids, escalate_at=when)


LABELS = {level: label for level, _, label in LEVELS}


def _queue_daily(session: Session, now: datetime, daily: dict[str, list], local: dict) -> list[str]:
    """Queue each recipient's one escalation of the day; returns who was queued. One launch at one
    level: that launch's escalation (a menu per item). More: one message grouped by launch
    (`Kind.ESCALATION_DAY`). A recipient whose daily key was taken meanwhile gives back the claims."""
    rows = []
    for who, parts in daily.items():
        day = local[who].date().isoformat()
        if len(parts) == 1:
            launch_id, _, level, _, crossing = parts[0]
            rows.append(batches.outbox_row(Kind.ESCALATION, who, {"level": level, "new": [i.id for i in crossing],
                                                                  "day": day},
                                           launch_id, daily_key(who, local[who].date()), now))
        else:
            rows.append(batches.outbox_row(Kind.ESCALATION_DAY, who, {
                "parts": [[launch_id, level, [i.id for i in crossing]] for launch_id, _, level, _, crossing in parts],
                "day": day}, None, daily_key(who, local[who].date()), now))
    queued = batches.enqueue_many(session, rows, returning=True)
    sent = [who for who in daily if daily_key(who, local[who].date()) in queued]
    batches.release_claims(session, [(lid, who, local[who].date(), kind) for who in daily if who not in sent
                                     for lid, _, _, kind, _ in daily[who]])
    return sent


def daily_key(user: str, day: date) -> str:
    """The outbox key of a person's one escalation of the day."""
    return f"escalation-day:{user}:{day.isoformat()}"
