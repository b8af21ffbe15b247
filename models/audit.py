"""Append-only audit trail: who did what, when, before and after."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    # A launch's events since a moment (digest changes, timeline) in one index range.
    __table_args__ = (Index("ix_auditevent_launch_at", "launch_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=48, index=True)
    entity: str = Field(max_length=24)
    entity_id: int | None = None
    before: Any | None = Field(default=None, sa_column=Column(JSONType))
    after: Any | None = Field(default=None, sa_column=Column(JSONType))
    note: str | None = Field(default=None, sa_column=Column(Text))
