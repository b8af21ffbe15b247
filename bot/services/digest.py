"""The daily digest in the launch channel.

Considered once per business day, at the start of the readiness lead's
working day (the first tick inside it), and posted only when something
changed since the last digest (an answer, an edit, a reassignment, a gate or
date change…) or something is overdue. A change at 15:00 is in the next
morning's digest; it does not trigger one that afternoon.
Reminders themselves (nudges, escalations, snoozes) are not "changes".
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.db import is_postgres
from models import AuditEvent, Gate, Item, ItemState, Launch, LaunchStatus

from . import launches
from . import tick_batches as batches
from .context import AppContext, TickReport
from .outbox import LAUNCH_CHANNEL, Kind
from .policy import WorkingHours
from .recipients import window_start

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


def send_digests(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """Set-based (tick_batches.py): a batch of launches is one read, one zone look-up for
    their leads, one ledger claim, two counts (changes and overdue items per launch) and bulk writes.

    Only launches whose `digest_due_at` has come are read: a launch that was decided today, or
    whose lead's working window has not started, waits in the database until its next window,
    so a quiet pass reads nothing."""
    hours = WorkingHours.from_settings(ctx.settings)
    launch_ids = session.exec(select(Launch.id).where(*_digestible(), _due(now)).order_by(Launch.id)).all()
    for first, last in batches.step_batches(launch_ids, report, "digests", batches.launch_ranges):
        _digest_batch(session, now, hours, first, last, report)
        batches.end_batch(session, report)


def _digestible():
    return Launch.status == LaunchStatus.OPEN, Launch.channel_id.is_not(None)


def _due(now: datetime):
    return or_(Launch.digest_due_at.is_(None), Launch.digest_due_at <= now)


def _not_a_change():
    return or_(*(AuditEvent.action.startswith(prefix, autoescape=True) for prefix in NOT_CHANGES))


def next_window(local: datetime, hours: WorkingHours) -> datetime:
    """UTC start of the next working window after `local` (today's if it has not begun): when the
    lead's digest is next considered. A day that turns out not to be a business day in the launch's
    markets simply moves it on once more."""
    day = local.date() if local.time() < hours.start else local.date() + timedelta(days=1)
    return window_start(day, local.tzinfo, hours)


def _digest_batch(session: Session, now: datetime, hours: WorkingHours, first: int, last: int,
                  report: TickReport) -> None:
    stmt = (select(Launch.id, Launch.name, Launch.markets, Launch.readiness_lead_id, Launch.channel_id,
                   Launch.last_digest_at)
            .where(*_digestible(), _due(now), Launch.id.between(first, last)).order_by(Launch.id))
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    found = session.execute(stmt).all()
    zones = batches.Zones(session, now)
    zones.load(launch.readiness_lead_id for launch in found)
    today, wait = {}, defaultdict(list)
    for launch in found:
        zone = zones[launch.readiness_lead_id]
        if zone is None:
            continue  # the lead's time zone is being asked for: the next pass decides
        local = now.astimezone(zone)
        if batches.in_working_time(local, hours, tuple(launch.markets or ())):
            today[launch.id] = local.date()
        # decided now (or by another replica today), or not the lead's working time: next window
        wait[next_window(local, hours)].append(launch.id)
    for due_at, ids in wait.items():
        batches.set_many(session, Launch, ids, digest_due_at=due_at)
    # The first tick of the lead's working day decides, once: post, or stay quiet today.
    won = batches.claim_many(session, [(lid, LAUNCH_CHANNEL, day, "digest") for lid, day in today.items()], now)
    deciding = [launch for launch in found if (launch.id, LAUNCH_CHANNEL, today.get(launch.id), "digest") in won]
    if not deciding:
        return
    ids = [launch.id for launch in deciding]
    changes: dict[int, int] = dict(session.execute(
        select(AuditEvent.launch_id, func.count(AuditEvent.id))
        .join(Launch, Launch.id == AuditEvent.launch_id)
        .where(AuditEvent.launch_id.in_(ids), AuditEvent.at > func.coalesce(Launch.last_digest_at, Launch.created_at),
               AuditEvent.at <= now, ~_not_a_change())
        .group_by(AuditEvent.launch_id)).all())
    overdue = set(session.exec(
        select(Item.launch_id).where(Item.launch_id.in_(ids), Item.required.is_(True),
                                     Item.state.in_([ItemState.OPEN, ItemState.BLOCKED]), Item.due_at < now)
        .distinct()).all())
    posted, rows, events = [], [], []
    for launch in deciding:
        changed, late = changes.get(launch.id, 0), launch.id in overdue
        if not (changed or late):
            continue
        posted.append(launch.id)
        since = launch.last_digest_at
        day = today[launch.id].isoformat()
        rows.append(batches.outbox_row(Kind.DIGEST, LAUNCH_CHANNEL,
                                       {"since": since.isoformat() if since else None, "at": now.isoformat(),
                                        "day": day}, launch.id, f"digest:{launch.id}:{day}", now))
        events.append({"actor": "launchgate", "action": "digest.sent", "entity": "launch", "entity_id": launch.id,
                       "launch_id": launch.id, "at": now, "after": {"changes": changed, "overdue": late, "day": day}})
        report.add(f"post digest LR-{launch.id} {launch.name} in channel {launch.channel_id}: {changed} change(s)"
                   + (", overdue items" if late else ""))
    batches.set_many(session, Launch, posted, last_digest_at=now)
    batches.enqueue_many(session, rows)
    batches.audit_many(session, events)
