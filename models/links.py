"""Evidence links and what they answered the last time they were checked."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class LinkStatus:
    PENDING = "pending"        # not checked yet
    OK = "ok"
    FAILING = "failing"        # 5xx / timeout: rechecked soon, broken after a few in a row
    BROKEN = "broken"
    UNVERIFIED = "unverified"  # a login page answered
    STALE = "stale"            # live, but not updated since the launch opened (items marked `updated`)

    WARN = (BROKEN, UNVERIFIED, STALE)


class LinkCheck(SQLModel, table=True):
    """One URL of one item (a market's page for pattern items). Response bodies are never stored."""

    __table_args__ = (UniqueConstraint("item_id", "url"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    market: str | None = Field(default=None, max_length=2)
    url: str = Field(max_length=500)
    status: str = Field(default=LinkStatus.PENDING, max_length=12)
    http_status: int | None = None
    final_url: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_modified: datetime | None = Field(default=None, sa_type=UTCDateTime)
    etag: str | None = Field(default=None, max_length=200)
    page_date: datetime | None = Field(default=None, sa_type=UTCDateTime)   # the date the page itself gives
    broken_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failures: int = 0
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stale_confirmed_by: str | None = Field(default=None, max_length=64)
    stale_confirmed_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
