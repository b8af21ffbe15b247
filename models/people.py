"""The stakeholder directory, Slack profile cache and the nudge ledger."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class DirectoryMember(SQLModel, table=True):
    """One user holding a role, globally (market "") or for one market.

    Rebuilt by `launchgate stakeholders sync` so every replica reads the same
    directory; `via` remembers the user group a member came from.
    """

    __table_args__ = (UniqueConstraint("role", "market", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=40, index=True)
    market: str = Field(default="", max_length=2)
    user_id: str = Field(max_length=32)
    via: str | None = Field(default=None, max_length=32)
    synced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserProfile(SQLModel, table=True):
    user_id: str = Field(primary_key=True, max_length=32)
    tz: str | None = Field(default=None, max_length=64)
    real_name: str | None = Field(default=None, max_length=120)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Nudge(SQLModel, table=True):
    """One grouped reminder per person, launch, local day and kind."""

    __table_args__ = (UniqueConstraint("launch_id", "user_id", "day", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    user_id: str = Field(max_length=32)
    day: date
    kind: str = Field(max_length=16)  # nudge | escalation | escalation_owner
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PersonPreference(SQLModel, table=True):
    """A person's own reminder settings: away (items go to their role's backup, no nudges) and
    a weekly summary instead of daily nudges for items not due within `summary_days` days."""

    user_id: str = Field(primary_key=True, max_length=32)
    away_until: date | None = None          # inclusive: reminders come back the day after
    away_set_by: str | None = Field(default=None, max_length=32)
    summary_days: int | None = None         # None: daily nudges for everything
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
