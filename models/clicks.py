"""Button clicks saved before the ack and applied just after it (bot/clicks.py)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class PendingClick(SQLModel, table=True):
    """A Done or Reopen click, committed before Slack gets its ack and deleted in the transaction
    that applies it: the ack never waits for the change, and a click is not lost if the process
    stops in between (any replica's scheduler applies it at `retry_at`)."""

    __tablename__ = "pending_click"

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=32)          # item.done | item.reopen
    actor: str = Field(max_length=32)
    item_id: int
    clicked_at: datetime = Field(sa_type=UTCDateTime)   # the answer's time, whenever it is applied
    retry_at: datetime = Field(sa_type=UTCDateTime, index=True)
    attempts: int = 0
    response_url: str | None = Field(default=None, max_length=500)  # to tell the person if it is refused
    home: bool = False                          # clicked in the Home tab: re-render it afterwards
