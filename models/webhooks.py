"""Per-endpoint delivery state: consecutive failures and a pause (circuit breaker)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class WebhookEndpointState(SQLModel, table=True):
    endpoint_id: str = Field(primary_key=True, max_length=40)
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)      # set: paused since then
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)   # next probe
