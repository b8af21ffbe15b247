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

from . import audit, calendar, policy
from .context import AppContext, TickReport
from .outbox import Kind, enqueue
from .recipients import claim, is_working_time, zone_for

LEVELS = ((1, "escalation", "readiness lead"), (2, "escalation_owner", "launch owner"))


def overdue_days(item: Item, today: date, markets: list[str]) -> int:
    """Business days (launch markets) from the due day to `today`."""
    return calendar.business_days_between(item.due_at.date(), today, markets)


def _overdue(session: Session, now: datetime):
    stmt = (
        select(Item, Launch).join(Launch, Launch.id == Item.launch_id)
        .where(Launch.status == LaunchStatus.OPEN, Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]),
               Item.required.is_(True), Item.due_at < now, Item.escalation_level < 2)
        .order_by(Item.launch_id, Item.due_at, Item.id)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    return session.exec(stmt).all()


def send_escalations(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """One grouped escalation per recipient, launch and local day, inside their working hours."""
    hours = policy.WorkingHours.from_settings(ctx.settings)
    by_launch: dict[int, list[Item]] = defaultdict(list)
    launches: dict[int, Launch] = {}
    for item, launch in _overdue(session, now):
        by_launch[launch.id].append(item)
        launches[launch.id] = launch
    for launch_id, items in by_launch.items():
        launch = launches[launch_id]
        rules = policy.for_launch(ctx.settings, launch)
        thresholds = {1: rules.escalate_after_days, 2: rules.escalate_owner_after_days}
        for level, kind, label in LEVELS:
            recipient = launch.readiness_lead_id if level == 1 else launch.owner_id
            zone = zone_for(session, recipient, now)
            if zone is None:
                continue
            local = now.astimezone(zone)
            if not is_working_time(local, hours, launch.markets):
                continue
            # The launch owner hears only of what the lead already knows about.
            crossing = [i for i in items if i.escalation_level == level - 1
                        and overdue_days(i, local.date(), launch.markets) >= thresholds[level]]
            if not crossing or not claim(session, launch.id, recipient, local.date(), kind, now):
                continue
            for item in crossing:
                item.escalation_level = level
                session.add(item)
            day = local.date().isoformat()
            enqueue(session, Kind.ESCALATION, recipient,
                    {"level": level, "new": [i.id for i in crossing], "day": day},
                    launch_id=launch.id, dedupe_key=f"{kind}:{launch.id}:{recipient}:{day}", now=now)
            audit.record(session, actor="launchgate", action="escalation.sent", entity="launch",
                         entity_id=launch.id, launch_id=launch.id, at=now,
                         after={"to": recipient, "level": level, "items": [i.item_key for i in crossing],
                                "owners": sorted({i.owner_id for i in crossing if i.owner_id}),
                                "local_time": local.strftime("%Y-%m-%d %H:%M"), "tz": zone.key})
            report.add(f"escalate to {label} {recipient} ({local:%a %d %b %H:%M} {zone.key}): {launch.key} "
                       f"{launch.name} — {len(crossing)} overdue item(s)")
