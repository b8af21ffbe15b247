"""Moving a launch date (`/launch edit`): every open due date moves with it.

Due dates are recomputed from each item's and gate's business-day offset in
the launch's markets (holidays included), exactly as when the launch was
opened. Answered items keep the due date they were answered against;
decided gates keep theirs. Each owner whose dates moved gets one DM listing
them, and the launch channel gets one line.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from bot.config import Settings
from models import Item, Launch, LaunchStatus

from . import access, audit, calendar, changes, item_state, launches, locks
from .changes import LaunchChanged
from .errors import Conflict, FieldErrors
from .outbox import LAUNCH_CHANNEL, Kind, enqueue

REASON_MAX = 500
EDIT_REFUSED = "Only the launch owner ({owner}) or a readiness lead can change {key}."


@dataclass
class DateChange:
    launch: Launch
    old_date: date
    new_date: date
    moved: dict[str, list[tuple[Item, datetime]]] = field(default_factory=dict)  # owner → (item, old due)

    @property
    def moved_count(self) -> int:
        return sum(len(v) for v in self.moved.values())


def check_can_edit(session: Session, launch: Launch, actor: str, now: datetime) -> None:
    if not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="launch.edit", entity="launch",
                            entity_id=launch.id, message=EDIT_REFUSED.format(owner=f"<@{launch.owner_id}>",
                                                                             key=launch.key), now=now)
    if launch.status in (LaunchStatus.CANCELLED, LaunchStatus.LAUNCHED):
        raise Conflict(f"{launch.key} is {launch.status.replace('_', ' ')}; its date can no longer change.")


def open_for_edit(session: Session, key: str, *, actor: str, now: datetime) -> Launch:
    """The launch behind `/launch edit KEY`, if `actor` may change it."""
    launch = launches.get_launch(session, key, viewer=actor)
    check_can_edit(session, launch, actor, now)
    return launch


def _validate(launch: Launch, items: list[Item], new_date: date | None, today: date) -> date:
    if new_date is None:
        raise FieldErrors({"launch_date": "Pick the new launch date."})
    if new_date <= today:
        raise FieldErrors({"launch_date": "The launch date must be in the future."})
    if new_date == launch.launch_date:
        raise FieldErrors({"launch_date": f"{launch.key} already launches on {new_date:%a %d %b %Y}."})
    if new_date < launch.launch_date:
        # Pulling the date in may not make open items overdue at once.
        pending = [i for i in items if i.due_at.date() >= today]
        late = [i for i in pending if calendar.add_business_days(new_date, i.due_offset_business_days,
                                                                 launch.markets) < today]
        if late:
            earliest = max(calendar.add_business_days(today, -i.due_offset_business_days, launch.markets)
                           for i in late)
            raise FieldErrors({"launch_date": (
                f"Too close: {len(late)} open item(s) would be overdue at once. "
                f"Pick {earliest.isoformat()} or later.")})
    return new_date


def change_date(session: Session, launch_id: int, new_date: date | None, *, actor: str, now: datetime,
                settings: Settings, reason: str | None = None) -> DateChange:
    launch = locks.launch(session, launch_id)
    check_can_edit(session, launch, actor, now)
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise FieldErrors({"reason": f"Keep it to {REASON_MAX} characters (this has {len(reason)})."})
    ov = launches.overview(session, launch)
    open_items = [i for i in ov.items if i.is_open]
    _validate(launch, open_items, new_date, now.date())
    change = DateChange(launch, launch.launch_date, new_date)
    for gate in ov.gates:
        if not gate.decided:
            gate.due_at = calendar.due_at(new_date, gate.offset_business_days, launch.markets)
            gate.opens_at = calendar.opens_at(new_date, gate.opens_offset_business_days, launch.markets)
            session.add(gate)
    moved: dict[str, list[tuple[Item, datetime]]] = defaultdict(list)
    for item in open_items:
        due = calendar.due_at(new_date, item.due_offset_business_days, launch.markets)
        opens = calendar.opens_at(new_date, item.opens_offset_business_days, launch.markets)
        if opens != item.opens_at and due == item.due_at:
            item_state.move_due(session, item, launch, due, now=now, settings=settings, opens=opens)
        if due != item.due_at:
            old_due = item.due_at
            item_state.move_due(session, item, launch, due, now=now, settings=settings, opens=opens)
            if item.owner_id:
                moved[item.owner_id].append((item, old_due))
    change.moved = dict(moved)
    launch.launch_date, launch.updated_at = new_date, now
    session.add(launch)
    event = audit.record(session, actor=actor, action="launch.date_changed", entity="launch", entity_id=launch.id,
                         launch_id=launch.id, before={"launch_date": change.old_date},
                         after={"launch_date": new_date, "items_moved": change.moved_count,
                                "owners": sorted(moved)}, note=reason, at=now)
    session.flush()
    common = {"old": change.old_date.isoformat(), "new": new_date.isoformat(), "by": actor, "reason": reason}
    for owner, pairs in moved.items():
        enqueue(session, Kind.DATES_MOVED, owner,
                common | {"changes": [[i.id, old.isoformat(), i.due_at.isoformat()] for i, old in pairs]},
                launch_id=launch.id, dedupe_key=f"moved:{event.id}:{owner}", now=now)
    enqueue(session, Kind.DATES_MOVED, LAUNCH_CHANNEL, common | {"count": change.moved_count, "owners": len(moved)},
            launch_id=launch.id, dedupe_key=f"moved:{event.id}:channel", now=now)
    changes.record(session, LaunchChanged(launch.id), now=now)
    return change
