"""Waivers: a readiness lead lets a gate pass without an item, for a reason.

A waived item counts as satisfied. A waiver may expire: it then lasts through
the chosen day in the lead's time zone, and the tick step below reopens the
item and tells its owner. If the gate was decided meanwhile, the decision
stands; the owner still has to answer the item.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from bot.config import Settings
from bot.db import is_postgres
from models import Item, ItemState, Launch, LaunchStatus

from . import access, answers, directory, gates, item_state
from . import tick_batches as batches
from .context import AppContext, TickReport
from .errors import Conflict, FieldErrors
from .readable import safe, short
from .recipients import user_tz

REASON_MAX = 1000
LIVE = (LaunchStatus.OPEN, LaunchStatus.ON_HOLD)


def may_waive(session: Session, launch: Launch, user_id: str) -> bool:
    return access.is_readiness_lead(session, launch, user_id) or directory.is_admin(session, user_id)


def check(session: Session, launch: Launch, actor: str, now: datetime) -> None:
    """Audited refusal unless `actor` is a readiness lead of the launch (or an admin)."""
    if not may_waive(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="waive", entity="launch",
                            entity_id=launch.id, now=now,
                            message=f"Only a readiness lead of {launch.key} can waive items "
                                    f"(<@{launch.readiness_lead_id}>).")
    if launch.status not in LIVE:
        raise Conflict(f"{launch.key} is {launch.status}; nothing can be waived any more.")


def _locked(session: Session, item_id: int, actor: str, now: datetime) -> tuple[Item, Launch]:
    """The item, re-read under the launch's row lock, once `actor` is allowed to waive."""
    item, _ = answers.load(session, item_id)
    launch = gates.lock_launch(session, item.launch_id)
    check(session, launch, actor, now)
    session.refresh(item)
    return item, launch


def waivable(session: Session, launch: Launch) -> list[Item]:
    """Items still open or blocked, in gate order."""
    by_gate = gates.items_by_gate(session, launch.id)
    return [i for g in gates.gates_of(session, launch.id) for i in by_gate.get(g.id, []) if i.is_open]


def expiry_moment(until: date, tz_name: str | None) -> datetime:
    """A waiver "until 10 Aug" lasts through 10 Aug where the lead is: it ends at the next midnight there."""
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    return datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(timezone.utc)


def waive(session: Session, item_id: int | None, actor: str, reason: str, until: date | None, *, now: datetime,
          settings: Settings) -> Item:
    """Waive one open or blocked item (`item_id` None: nothing was picked in the form)."""
    if item_id is None:
        raise FieldErrors({"item": "Pick the item to waive."})
    item, launch = _locked(session, item_id, actor, now)
    if not item.is_open:
        raise Conflict(f"“{safe(short(item.question))}” is already {item.state.replace('na', 'not applicable')}; "
                       "only open or blocked items can be waived.")
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why this item can be waived."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason to {REASON_MAX} characters (this one has {len(reason)})."
    tz = user_tz(session, actor)
    expires_at = expiry_moment(until, tz) if until else None
    if expires_at is not None and expires_at <= now:
        errors["expires"] = "Pick today or a later date (or leave it empty for a waiver that does not expire)."
    if errors:
        raise FieldErrors(errors)
    item_state.waive(session, item, launch, actor=actor, reason=reason, expires_at=expires_at, now=now,
                     settings=settings)
    if item.owner_id and item.owner_id != actor:
        gates.notify(session, launch, item.owner_id, "waived", now=now, item=item.id,
                     dedupe=f"{item.id}:{now.isoformat()}")
    return item


def waived_items(session: Session, launch: Launch) -> list[Item]:
    """Items under a waiver now, in gate order (what `/launch unwaive` offers)."""
    by_gate = gates.items_by_gate(session, launch.id)
    return [i for g in gates.gates_of(session, launch.id) for i in by_gate.get(g.id, [])
            if i.state == ItemState.WAIVED]


def revoke(session: Session, item_id: int | None, actor: str, reason: str, *, now: datetime,
           settings: Settings) -> Item:
    """Take a waiver back (given by mistake, or the risk changed): the item is open again,
    its owner is told why, and a gate in review waits for it once more."""
    if item_id is None:
        raise FieldErrors({"item": "Pick the item whose waiver you take back."})
    item, launch = _locked(session, item_id, actor, now)
    if item.state != ItemState.WAIVED:
        raise Conflict(f"“{safe(short(item.question))}” is not waived (any more); there is nothing to revoke.")
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Say why the waiver is taken back; the owner is told."})
    if len(reason) > REASON_MAX:
        raise FieldErrors({"reason": f"Keep the reason to {REASON_MAX} characters (this one has {len(reason)})."})
    item_state.revoke(session, item, launch, actor=actor, reason=reason, now=now, settings=settings)
    if item.owner_id and item.owner_id != actor:
        gates.notify(session, launch, item.owner_id, "waiver_revoked", now=now, item=item.id, by=actor,
                     reason=reason, dedupe=f"{item.id}:{now.isoformat()}")
    return item


def expire(session: Session, item: Item, launch: Launch, *, now: datetime, settings: Settings) -> None:
    """Reopen an item whose waiver ran out, and tell its owner."""
    before = item_state.expire(session, item, launch, now=now, settings=settings)
    if item.owner_id:
        gates.notify(session, launch, item.owner_id, "waiver_expired", now=now, item=item.id, by=before["waived_by"],
                     reason=before["waiver_reason"], dedupe=f"{item.id}:{before['waiver_expires_at'].isoformat()}")


def expire_waivers(session: Session, ctx: AppContext, now: datetime, report: TickReport) -> None:
    """Claim due waivers (SKIP LOCKED on PostgreSQL, so replicas never reopen one twice)."""
    stmt = (select(Item).join(Launch, Launch.id == Item.launch_id)
            .where(Item.state == ItemState.WAIVED, Item.waiver_expires_at.is_not(None),
                   Item.waiver_expires_at <= now, batches.unindexed(Launch.status).in_(LIVE))
            .order_by(Item.waiver_expires_at, Item.id).limit(200))
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Item)
    for item in list(session.exec(stmt)):
        launch = session.get(Launch, item.launch_id)
        expire(session, item, launch, now=now, settings=ctx.settings)
        report.add(f"waiver expired: {launch.key} item {item.item_key} reopened for {item.owner_id}")
