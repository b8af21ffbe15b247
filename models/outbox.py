"""Outgoing Slack messages, written in the transaction that caused them."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


PENDING_ROWS = "status = 'pending'"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(SQLModel, table=True):
    # The worker's due rows: pending is a sliver of a table that keeps delivered rows for 30 days.
    __table_args__ = (Index("ix_outboxmessage_due", "next_attempt_at", postgresql_where=text(PENDING_ROWS),
                            sqlite_where=text(PENDING_ROWS)),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    recipient: str = Field(max_length=40)
    payload: Any = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=12, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # First transient failure of the current run of failures: the retry budget counts from here.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result_channel: str | None = Field(default=None, max_length=32)
    result_ts: str | None = Field(default=None, max_length=32)


class SlackMessageRef(SQLModel, table=True):
    """Where a long-lived message lives, so later changes update it in place."""

    __table_args__ = (UniqueConstraint("purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    purpose: str = Field(max_length=120)
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
