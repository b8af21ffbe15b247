"""Side effects derived from what changed, in one place.

Every state change writes an audit event (`audit.record`), which the session
collects; just before the session flushes, this module looks at the collected
events and adds what follows from them to the same transaction: evidence-link
checks when an item is answered or a review opens, and outgoing webhooks.
Use cases never call these by hand. Deriving at flush time (not inside
`audit.record`) means recording an event never runs SQL by itself.
"""
from __future__ import annotations

import logging

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models import AuditEvent, Item

log = logging.getLogger(__name__)
PENDING = "lg_pending_audit_events"


def collect(session: Session, event: AuditEvent) -> None:
    session.info.setdefault(PENDING, []).append(event)


@sa_event.listens_for(OrmSession, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    pending = session.info.get(PENDING)
    while pending:
        derive(session, pending.pop(0))


@sa_event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop(PENDING, None)


def _languages() -> dict[str, str]:
    from bot.config import ConfigError, get_settings

    try:
        return get_settings().market_languages
    except ConfigError:
        return {}


def derive(session: Session, event: AuditEvent) -> None:
    from . import links

    if event.entity == "item" and event.entity_id and event.action.startswith("item."):
        item = session.get(Item, event.entity_id)
        if item is not None:
            links.item_changed(session, item, event.at, _languages())
    elif event.action == "gate.review_opened" and event.entity_id:
        links.review_opened(session, event.entity_id, event.at)
