"""Actual contacts per launch, queue and week after launch (forecast accountability, issue 13)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class ForecastActual(SQLModel, table=True):
    """Extra contacts a launch actually brought to one queue in week 1–6 after launch.

    One row per (launch, queue, week); a later entry (Slack, CSV import or the reporting
    pull) replaces the earlier one and the change is audited.
    """

    __table_args__ = (UniqueConstraint("launch_id", "queue", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    queue: str = Field(max_length=64)
    week: int
    contacts: float
    source: str = Field(max_length=16)          # slack, csv, pull
    entered_by: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
