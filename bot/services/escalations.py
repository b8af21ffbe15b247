"""Overdue items escalate: to the readiness lead, later also to the launch owner.

Each item escalates once per level (`Item.escalation_level`: 0 none, 1 lead,
2 launch owner); the daily digest keeps overdue items visible after that.
Escalations ignore snoozes (a snooze quiets the owner, not the lead) and
include blocked items, which are exactly what a lead needs to unblock.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, select

from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import away, calendar, policy
from . import tick_batches as batches
from .context import AppContext, TickReport
from .outbox import Kind

LEVELS = ((1, "escalation", "readiness lead"), (2, "escalation_owner", "launch owner"))


def overdue_days(item: Item, today: date, markets: list[str]) -> int:
    """Business days (launch markets) from the due day to `today`."""
    return calendar.business_days_between(item.due_at.date(), today, markets)


def _overdue(now: datetime):
    """Open or blocked required items past due that have not reached the last level
    (backed by the partial index ix_item_escalation_due)."""
    return (Launch.status == LaunchStatus.OPEN, Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]),
            Item.required.is_(True), Item.due_at < now, Item.escalation_level < 2)


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
    heads = session.exec(select(Launch.readiness_lead_id, Launch.owner_id).where(
        Launch.id.in_(select(Item.launch_id).join(Launch, Launch.id == Item.launch_id).where(*_overdue(now))))
        .distinct()).all()
    routing = away.Routing(session, {p for pair in heads for p in pair if p}, now.date())
    rungs = {(lead, owner): (routing.lead_rung(lead, owner), routing.owner_rung(owner)) for lead, owner in heads}
    people = sorted({who for pair in rungs.values() for who in pair if who})
    rules: dict[str, policy.ReminderPolicy] = {}
    for batch in batches.chunks(people, batches.BATCH_PEOPLE):
        members = set(batch)
        pairs = [pair for pair, told in rungs.items() if members & set(told)]
        _escalation_batch(session, ctx, now, hours, batch, pairs, rungs, rules, report)
        batches.end_batch(session, report)


def _overdue_rows(session: Session, now: datetime, pairs: list[tuple[str, str]]):
    """Overdue items of the launches these (lead, owner) pairs head (bounded by the batch's people)."""
    leads, owners = sorted({lead for lead, _ in pairs}), sorted({owner for _, owner in pairs})
    stmt = (
        select(Item.id, Item.launch_id, Item.owner_id, Item.item_key, Item.due_at, Item.escalation_level,
               Launch.name, Launch.markets, Launch.readiness_lead_id, Launch.owner_id.label("launch_owner"),
               Launch.reminder_policy)
        .join(Launch, Launch.id == Item.launch_id)
        .where(*_overdue(now), or_(Launch.readiness_lead_id.in_(leads), Launch.owner_id.in_(owners)))
        .order_by(Item.launch_id, Item.due_at, Item.id)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    return session.execute(stmt)


def _escalation_batch(session: Session, ctx: AppContext, now: datetime, hours: policy.WorkingHours,
                      people: Sequence[str], pairs: list, rungs: dict, rules: dict, report: TickReport) -> None:
    by_launch: dict[int, list] = defaultdict(list)
    for row in _overdue_rows(session, now, pairs):
        by_launch[row.launch_id].append(row)
    zones = batches.Zones(session, now)
    zones.load(people)
    mine = set(people)
    local = {p: now.astimezone(zones[p]) for p in people if zones[p] is not None}
    told = batches.taken_keys(session, [daily_key(p, t.date()) for p, t in local.items()])
    free = {p for p in local if daily_key(p, local[p].date()) not in told}
    levels = {row.id: row.escalation_level for items in by_launch.values() for row in items}
    wanted = []   # (launch, recipient, level, kind, crossing)
    for level, kind, _ in LEVELS:
        for launch_id, items in by_launch.items():
            head = items[0]
            recipient = rungs.get((head.readiness_lead_id, head.launch_owner), (None, None))[level - 1]
            if recipient not in mine or recipient not in free:
                continue
            markets = tuple(head.markets or ())
            if not batches.in_working_time(local[recipient], hours, markets):
                continue
            key = repr(sorted((head.reminder_policy or {}).items()))
            if key not in rules:
                rules[key] = policy.for_launch(ctx.settings, Launch(reminder_policy=head.reminder_policy or {}))
            threshold = (rules[key].escalate_after_days if level == 1 else rules[key].escalate_owner_after_days)
            # The launch owner hears only of what the lead already knows about (maybe this very pass).
            crossing = [i for i in items if levels[i.id] == level - 1
                        and batches.business_days_between(i.due_at.date(), local[recipient].date(), markets)
                        >= threshold]
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
    for level, _, _ in LEVELS:
        batches.set_many(session, Item, [i.id for who in sent for _, _, lv, _, crossing in daily[who] if lv == level
                                         for i in crossing], escalation_level=level)
    batches.audit_many(session, events)


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
