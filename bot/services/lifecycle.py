"""Holding, resuming and cancelling a launch at any time, not only from a gate review.

The launch owner, a readiness lead of the launch or an admin may do it; anyone
else is refused and the attempt audited. The transition, its audit event and
every message it causes commit together: each owner of an open item is told
once, the launch channel gets one line, the status card and the channel topic
change. Reminders and escalations only ever pick launches that are open, so a
held or cancelled launch goes quiet without touching its items.

"Launched" needs every gate passed *and* the launch date reached: a final Go
before the date leaves the launch open ("ready"), and the `launch_day` step of
the scheduler marks it launched on the day.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlmodel import Session, select

from bot.config import Settings
from models import AuditEvent, Gate, Item, ItemState, Launch, LaunchStatus

from . import access, decisions, gates, launches, outbox
from .decisions import _set_launch_status as set_status
from .errors import Conflict, ServiceError

REASON_MAX = 500
CHANGES = ("launch.held", "launch.resumed", "launch.cancelled", "launch.launched")


def _authorize(session: Session, launch: Launch, actor: str, action: str, now: datetime) -> None:
    if not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action=action, entity="launch",
                            entity_id=launch.id, now=now,
                            message=f"Only the launch owner or a readiness lead can {action} {launch.key}.")


def _reason(reason: str | None, example: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ServiceError(f"Say why, so everyone knows: `{example}`.")
    if len(text) > REASON_MAX:
        raise ServiceError(f"Keep the reason to {REASON_MAX} characters (this one has {len(text)}).")
    return text


def open_item_owners(session: Session, launch_id: int) -> list[str]:
    rows = session.exec(select(Item.owner_id).where(
        Item.launch_id == launch_id, Item.owner_id.is_not(None),
        Item.state.in_([ItemState.OPEN, ItemState.BLOCKED])).distinct())
    return sorted(set(rows))


def _tell_owners(session: Session, launch: Launch, what: str, actor: str, reason: str | None,
                 now: datetime) -> int:
    """One DM per owner of an open item (not the person who acted)."""
    people = [u for u in open_item_owners(session, launch.id) if u != actor]
    stamp = now.isoformat()
    for person in people:
        gates.notify(session, launch, person, what, now=now, by=actor, reason=reason,
                     dedupe=f"{launch.id}:{stamp}:{person}")
    return len(people)


def refresh_topic(session: Session, launch_id: int, now: datetime | None = None) -> None:
    outbox.refresh(session, outbox.Kind.CHANNEL_TOPIC, outbox.LAUNCH_CHANNEL, launch_id, str(launch_id), now=now)


def hold(session: Session, key: str, actor: str, reason: str | None, *, now: datetime) -> tuple[Launch, int]:
    """Pause the launch; returns it and how many owners were told."""
    launch = gates.lock_launch(session, _launch_id(session, key, actor))
    _authorize(session, launch, actor, "hold", now)
    reason = _reason(reason, f"/launch hold {launch.key} waiting for legal sign-off")
    if launch.status != LaunchStatus.OPEN:
        raise Conflict(f"{launch.key} is {_label(launch.status)}; only an open launch can be put on hold.")
    set_status(session, launch, LaunchStatus.ON_HOLD, "launch.held", actor, now, reason)
    gates.notify(session, launch, gates.CHANNEL, "held", now=now, by=actor, reason=reason,
                 dedupe=f"{launch.id}:{now.isoformat()}")
    told = _tell_owners(session, launch, "held", actor, reason, now)
    outbox.refresh_status_card(session, launch.id, now=now)
    refresh_topic(session, launch.id, now=now)
    return launch, told


def resume(session: Session, key: str, actor: str, *, now: datetime, settings: Settings) -> tuple[Launch, int]:
    """Lift a hold (from a review or from `/launch hold`): reminders start again."""
    launch = gates.lock_launch(session, _launch_id(session, key, actor))
    launch = decisions.resume(session, launch, actor, now=now, settings=settings)
    told = _tell_owners(session, launch, "resumed", actor, None, now)
    refresh_topic(session, launch.id, now=now)
    return launch, told


def cancel(session: Session, key: str, actor: str, reason: str | None, *, now: datetime) -> tuple[Launch, int]:
    """Stop the launch for good: prompts stop, the channel and LAUNCHES_CHANNEL are told."""
    launch = gates.lock_launch(session, _launch_id(session, key, actor))
    _authorize(session, launch, actor, "cancel", now)
    reason = _reason(reason, f"/launch cancel {launch.key} dropped from the roadmap")
    if launch.status not in (LaunchStatus.OPEN, LaunchStatus.ON_HOLD):
        raise Conflict(f"{launch.key} is already {_label(launch.status)}.")
    set_status(session, launch, LaunchStatus.CANCELLED, "launch.cancelled", actor, now, reason)
    gates.announce(session, launch, "cancelled", now=now, by=actor, reason=reason)
    told = _tell_owners(session, launch, "cancelled", actor, reason, now)
    outbox.refresh_status_card(session, launch.id, now=now)
    refresh_topic(session, launch.id, now=now)
    return launch, told


def _launch_id(session: Session, key: str, actor: str) -> int:
    return launches.get_launch(session, key, viewer=actor).id


def _label(status: str) -> str:
    return status.replace("_", " ")


def last_change(session: Session, launch_id: int) -> AuditEvent | None:
    """The latest hold, resume, cancel or launch of this launch: who, when and why."""
    return session.exec(select(AuditEvent).where(AuditEvent.launch_id == launch_id, AuditEvent.action.in_(CHANGES))
                        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()


# -- launch day ----------------------------------------------------------------------------

def ready_to_launch(session: Session, today) -> list[int]:
    """Open launches whose date has come and whose every gate has passed (one query)."""
    not_passed = exists().where(Gate.launch_id == Launch.id, Gate.status.not_in(gates.PASSED))
    return list(session.exec(select(Launch.id).where(Launch.status == LaunchStatus.OPEN,
                                                     Launch.launch_date <= today, ~not_passed)))


def launch_day(session: Session, ctx, now: datetime, report) -> None:
    """Mark launched what passed every gate and whose date has come."""
    for launch_id in finish_launches(session, now):
        report.add(f"LR-{launch_id} launched")


def finish_launches(session: Session, now: datetime) -> list[int]:
    done = []
    for launch_id in ready_to_launch(session, now.date()):
        launch = gates.lock_launch(session, launch_id)
        if gates.finish_if_done(session, launch, now=now):
            refresh_topic(session, launch.id, now=now)
            done.append(launch_id)
    return done
