"""Overdue items escalate: to the readiness lead, later also to the launch owner.

Each item escalates once per level (`Item.escalation_level`: 0 none, 1 lead,
2 launch owner); the daily digest keeps overdue items visible after that.
Escalations ignore snoozes (a snooze quiets the owner, not the lead) and
include blocked items, which are exactly what a lead needs to unblock.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlmodel import Session, select

from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import calendar, policy
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
    """One grouped escalation per recipient, launch and local day, inside their working hours.

    Set-based (tick_batches.py): a batch of launches is one read of its overdue items,
    one look-up of the zones of its leads and owners, and bulk writes per level."""
    hours = policy.WorkingHours.from_settings(ctx.settings)
    launch_ids = session.exec(select(Item.launch_id).join(Launch, Launch.id == Item.launch_id)
                              .where(*_overdue(now)).distinct().order_by(Item.launch_id)).all()
    for first, last in batches.launch_ranges(launch_ids):
        _escalation_batch(session, ctx, now, hours, first, last, report)
        batches.end_batch(session, report)


def _escalation_batch(session: Session, ctx: AppContext, now: datetime, hours: policy.WorkingHours, first: int,
                      last: int, report: TickReport) -> None:
    stmt = (
        select(Item.id, Item.launch_id, Item.owner_id, Item.item_key, Item.due_at, Item.escalation_level,
               Launch.name, Launch.markets, Launch.readiness_lead_id, Launch.owner_id.label("launch_owner"),
               Launch.reminder_policy)
        .join(Launch, Launch.id == Item.launch_id)
        .where(*_overdue(now), Item.launch_id.between(first, last))
        .order_by(Item.launch_id, Item.due_at, Item.id)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    by_launch: dict[int, list] = defaultdict(list)
    for row in session.execute(stmt):
        by_launch[row.launch_id].append(row)
    zones = batches.Zones(session, now)
    zones.load(p for items in by_launch.values() for p in (items[0].readiness_lead_id, items[0].launch_owner))
    levels = {row.id: row.escalation_level for items in by_launch.values() for row in items}
    rules: dict[str, policy.ReminderPolicy] = {}
    for level, kind, label in LEVELS:
        wanted = []
        for launch_id, items in by_launch.items():
            head = items[0]
            recipient = head.readiness_lead_id if level == 1 else head.launch_owner
            zone = zones[recipient]
            if zone is None:
                continue
            local = now.astimezone(zone)
            markets = tuple(head.markets or ())
            if not batches.in_working_time(local, hours, markets):
                continue
            key = repr(sorted((head.reminder_policy or {}).items()))
            if key not in rules:
                rules[key] = policy.for_launch(ctx.settings, Launch(reminder_policy=head.reminder_policy or {}))
            threshold = (rules[key].escalate_after_days if level == 1 else rules[key].escalate_owner_after_days)
            # The launch owner hears only of what the lead already knows about (maybe this very pass).
            crossing = [i for i in items if levels[i.id] == level - 1
                        and batches.business_days_between(i.due_at.date(), local.date(), markets) >= threshold]
            if crossing:
                wanted.append((launch_id, recipient, local, zone, crossing))
        won = batches.claim_many(session, [(lid, who, local.date(), kind) for lid, who, local, *_ in wanted], now)
        raised, rows, events = [], [], []
        for launch_id, recipient, local, zone, crossing in wanted:
            if (launch_id, recipient, local.date(), kind) not in won:
                continue
            raised += [i.id for i in crossing]
            for item in crossing:
                levels[item.id] = level
            day = local.date().isoformat()
            rows.append(batches.outbox_row(Kind.ESCALATION, recipient,
                                           {"level": level, "new": [i.id for i in crossing], "day": day},
                                           launch_id, f"{kind}:{launch_id}:{recipient}:{day}", now))
            events.append({"actor": "launchgate", "action": "escalation.sent", "entity": "launch",
                           "entity_id": launch_id, "launch_id": launch_id, "at": now,
                           "after": {"to": recipient, "level": level, "items": [i.item_key for i in crossing],
                                     "owners": sorted({i.owner_id for i in crossing if i.owner_id}),
                                     "local_time": local.strftime("%Y-%m-%d %H:%M"), "tz": zone.key}})
            report.add(f"escalate to {label} {recipient} ({local:%a %d %b %H:%M} {zone.key}): LR-{launch_id} "
                       f"{crossing[0].name} — {len(crossing)} overdue item(s)")
        batches.set_many(session, Item, raised, escalation_level=level)
        batches.enqueue_many(session, rows)
        batches.audit_many(session, events)
