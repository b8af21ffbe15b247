"""What an operator sees and does with the outbox: backlog by kind and error, the oldest
undelivered row, and re-queueing dead letters once the cause is fixed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, not_, or_, update
from sqlmodel import Session, select

from models import OutboxMessage, OutboxStatus

from . import audit

DEPENDENCY = "dependency"  # dead letters that waited on another row (bot.delivery.renderers.Dead)


@dataclass
class Group:
    status: str
    kind: str
    error: str
    count: int
    oldest: datetime


def _undelivered(now: datetime):
    """Pending rows that should have gone out: due now, or tried and failed (a row only
    scheduled for later and never tried is not late)."""
    return and_(OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.last_error.is_not(None)))


def oldest_undelivered_age(session: Session, now: datetime) -> float | None:
    """Seconds since the oldest undelivered row was queued; None when nothing is late."""
    oldest = session.exec(select(func.min(OutboxMessage.created_at)).where(_undelivered(now))).one()
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite aggregates bypass the column type
        from datetime import timezone
        oldest = oldest.replace(tzinfo=timezone.utc)
    return max(0.0, (now - oldest).total_seconds())


def dead_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.DEAD)).one()


def summary(session: Session, now: datetime, status: str | None = None, kind: str | None = None) -> list[Group]:
    """Queued (undelivered) and dead rows grouped by status, kind and error, in one query."""
    wanted = {"queued": [_undelivered(now)], "dead": [OutboxMessage.status == OutboxStatus.DEAD]}
    conds = wanted[status] if status else [or_(_undelivered(now), OutboxMessage.status == OutboxStatus.DEAD)]
    if kind:
        conds.append(OutboxMessage.kind == kind)
    error = func.coalesce(func.substr(OutboxMessage.last_error, 1, 120), "")
    stmt = (select(OutboxMessage.status, OutboxMessage.kind, error, func.count(), func.min(OutboxMessage.created_at))
            .where(*conds).group_by(OutboxMessage.status, OutboxMessage.kind, error)
            .order_by(OutboxMessage.status, func.count().desc()))
    return [Group("queued" if s == OutboxStatus.PENDING else s, k, e, n, o) for s, k, e, n, o in session.exec(stmt)]


def dead_rows(session: Session, kind: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(session.exec(stmt.order_by(OutboxMessage.id).limit(limit)))


def requeue(session: Session, now: datetime, *, ids: list[int] | None = None, kind: str | None = None,
            error: str | None = None, actor: str = "operator") -> int:
    """Dead rows matching every filter become due now with a fresh retry budget; rows that died
    waiting on one of them (a status card waiting for its channel) come back with them. Audited."""
    conds = [OutboxMessage.status == OutboxStatus.DEAD]
    if ids:
        conds.append(OutboxMessage.id.in_(ids))
    if kind:
        conds.append(OutboxMessage.kind == kind)
    if error:
        conds.append(OutboxMessage.last_error.contains(error))
    chosen = session.exec(select(OutboxMessage.id, OutboxMessage.launch_id).where(*conds)).all()
    row_ids = [r for r, _ in chosen]
    launches = {launch for _, launch in chosen if launch is not None}
    if launches:
        dependents = session.exec(select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.DEAD, OutboxMessage.launch_id.in_(launches),
            OutboxMessage.last_error.startswith(f"{DEPENDENCY}:"), not_(OutboxMessage.id.in_(row_ids)))).all()
        row_ids += list(dependents)
    if not row_ids:
        return 0
    count = 0
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        count += session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(chunk), OutboxMessage.status == OutboxStatus.DEAD)
            .values(status=OutboxStatus.PENDING, attempts=0, failing_since=None, next_attempt_at=now,
                    claimed_until=None, claimed_by=None,
                    last_error=func.substr("requeued: " + func.coalesce(OutboxMessage.last_error, ""), 1, 2000))
        ).rowcount
    audit.record(session, actor=actor[:32], action="outbox.requeued", entity="outbox",
                 after={"rows": count, "ids": row_ids[:50], "kind": kind, "error": error}, at=now)
    return count
