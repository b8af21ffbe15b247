"""Writing audit events. Every state change calls `record` in its transaction."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from models import AuditEvent, utcnow

from . import changes

SYSTEM = "launchgate"  # the actor of what the bot does by itself (ticks, reviews opening, channel creation)


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates as ISO strings) so before/after survive the round trip."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None = None,
    launch_id: int | None = None,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        launch_id=launch_id,
        at=at or utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_plain(before),
        after=_plain(after),
        note=note,
    )
    session.add(event)
    changes.of(session).events.append(event)  # webhooks and link checks are derived from it at commit (effects.py)
    return event


def timeline(session: Session, launch_id: int, limit: int | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.launch_id == launch_id).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc()
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt))
