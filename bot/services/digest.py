"""The daily digest in the launch channel.

Considered once per business day, at the start of the readiness lead's
working day (the first tick inside it), and posted only when something
changed since the last digest (an answer, an edit, a reassignment, a gate or
date change…) or something is overdue. A change at 15:00 is in the next
morning's digest; it does not trigger one that afternoon.
Reminders themselves (nudges, escalations, snoozes) are not "changes".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.db import is_postgres
from models import AuditEvent, Gate, Item, ItemState, Launch, LaunchStatus

from . import audit, launches
from .context import AppContext, TickReport
from .outbox import LAUNCH_CHANNEL, Kind, enqueue
from .policy import WorkingHours
from .recipients import claim, is_working_time, zone_for

NOT_CHANGES = ("nudge.", "escalation.", "digest.", "snooze.", "refused.", "launch.created",
               "launch.channel_created")


@dataclass
class Digest:
    launch: Launch
    gates: list[Gate]
    items: list[Item]
    changes: list[AuditEvent] = field(default_factory=list)
    now: datetime | None = None

    def items_in(self, gate: Gate) -> list[Item]:
        return [i for i in self.items if i.gate_id == gate.id]

    @property
    def overdue(self) -> list[Item]:
        return [i for i in self.items if i.is_open and i.required and i.due_at < self.now]

    @property
    def blocked(self) -> list[Item]:
        return [i for i in self.items if i.state == ItemState.BLOCKED]


def changes_since(session: Session, launch: Launch, since: datetime | None, until: datetime) -> list[AuditEvent]:
    since = since or launch.created_at
    events = session.exec(
        select(AuditEvent).where(AuditEvent.launch_id == launch.id, AuditEvent.at > since, AuditEvent.at <= until)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [e for e in events if not e.action.startswith(NOT_CHANGES)]


def build(session: Session, launch: Launch, since: datetime | None, now: datetime) -> Digest:
    return Digest(launch, launches.gates_of(session, launch.id), launches.items_of(session, launch.id),
                  changes_since(session, launch, since, now), now)


def _has_overdue(session: Session, launch: Launch, now: datetime) -> bool:
    return session.exec(
        select(func.count(Item.id)).where(Item.launch_id == launch.id, Item.required.is_(True),
                                          Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]), Item.due_at < now)
    ).one() > 0


def send_digests(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    hours = WorkingHours.from_settings(ctx.settings)
    stmt = select(Launch).where(Launch.status == LaunchStatus.OPEN, Launch.channel_id.is_not(None)).order_by(Launch.id)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    for launch in session.exec(stmt).all():
        zone = zone_for(session, launch.readiness_lead_id, now)
        if zone is None:
            continue
        local = now.astimezone(zone)
        if not is_working_time(local, hours, launch.markets):
            continue
        # The first tick of the lead's working day decides, once: post, or stay quiet today.
        if not claim(session, launch.id, LAUNCH_CHANNEL, local.date(), "digest", now):
            continue
        changed = len(changes_since(session, launch, launch.last_digest_at, now))
        overdue = _has_overdue(session, launch, now)
        if not (changed or overdue):
            continue
        since = launch.last_digest_at
        launch.last_digest_at = now
        session.add(launch)
        day = local.date().isoformat()
        enqueue(session, Kind.DIGEST, LAUNCH_CHANNEL,
                {"since": since.isoformat() if since else None, "at": now.isoformat(), "day": day},
                launch_id=launch.id, dedupe_key=f"digest:{launch.id}:{day}", now=now)
        audit.record(session, actor="launchgate", action="digest.sent", entity="launch", entity_id=launch.id,
                     launch_id=launch.id, at=now, after={"changes": changed, "overdue": overdue, "day": day})
        report.add(f"post digest {launch.key} {launch.name} in channel {launch.channel_id}: {changed} change(s)"
                   + (", overdue items" if overdue else ""))
