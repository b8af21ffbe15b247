"""Side effects derived from what changed, in one place.

Every state change writes an audit event (`audit.record`); this module looks at
that event and adds what follows from it in the same transaction: evidence-link
checks when an item is answered or a review opens, and outgoing webhooks.
Use cases never call these by hand.
"""
from __future__ import annotations

import logging

from sqlmodel import Session

from models import AuditEvent, Item

log = logging.getLogger(__name__)


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
