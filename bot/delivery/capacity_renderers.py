"""Outbox rows of the capacity feature (issue 13)."""
from __future__ import annotations

from sqlmodel import Session

from bot.blocks import capacity_views
from bot.services.context import AppContext
from models import Launch, OutboxMessage

from .renderers import Message


def render_actuals_prompt(session: Session, row: OutboxMessage, ctx: AppContext) -> Message | None:
    launch = session.get(Launch, row.payload["launch"])
    if launch is None:
        return None
    text, blocks = capacity_views.actuals_prompt(launch, row.payload["queues"])
    return Message(channel=row.recipient, text=text, blocks=blocks)
