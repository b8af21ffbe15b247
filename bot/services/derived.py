"""Side effects derived from what changed (audit events), in one place.

Every state change writes an audit event (`audit.record`), which the session
collects (`session.info`); just before the session flushes, this module looks at the collected
events and adds what follows from them to the same transaction: evidence-link
checks when an item is answered or a review opens, and outgoing webhooks.
Use cases never call these by hand. Deriving at flush time (not inside
`audit.record`) means recording an event never runs SQL by itself.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models import AuditEvent, Item

from . import audit

log = logging.getLogger(__name__)
PENDING = audit.PENDING


@dataclass(frozen=True)
class EffectsConfig:
    """What derived effects need from settings, per engine (each runtime, and each test, has its own)."""

    languages: dict[str, str] = field(default_factory=dict)
    endpoints: list = field(default_factory=list)


_CONFIG: weakref.WeakKeyDictionary[Engine, EffectsConfig] = weakref.WeakKeyDictionary()
NONE = EffectsConfig()


def configure(engine: Engine, settings) -> EffectsConfig:
    """Read MARKET_LANGUAGES and the webhooks file for sessions on `engine` (raises WebhookConfigError)."""
    from bot.webhooks.config import load_endpoints

    config = EffectsConfig(dict(settings.market_languages), load_endpoints(settings.webhooks_file))
    _CONFIG[engine] = config
    return config


def config_for(session: Session) -> EffectsConfig:
    bind = session.get_bind()
    return _CONFIG.get(getattr(bind, "engine", bind), NONE)


@sa_event.listens_for(OrmSession, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    pending = session.info.get(PENDING)
    while pending:
        derive(session, pending.pop(0))


@sa_event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop(PENDING, None)


def derive(session: Session, event: AuditEvent) -> None:
    from bot.webhooks import events as webhook_events

    from . import links

    config = config_for(session)
    if event.entity == "item" and event.entity_id and event.action.startswith("item."):
        item = session.get(Item, event.entity_id)
        if item is not None:
            links.item_changed(session, item, event.at, config.languages)
    elif event.action == "gate.review_opened" and event.entity_id:
        links.review_opened(session, event.entity_id, event.at)
    if config.endpoints:
        webhook_events.derive(session, event, config.endpoints)


def endpoints(engine: Engine) -> list:
    """The webhook endpoints configured for this engine's runtime."""
    return list(_CONFIG.get(engine, NONE).endpoints)
