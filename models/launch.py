"""Launches, their gates, checklist items and per-launch roles."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


NUDGE_DUE = "state = 'open' AND next_nudge_at IS NOT NULL"
ESCALATION_DUE = "state IN ('open', 'blocked') AND escalation_level < 2"
WAIVER_EXPIRY = "waiver_expires_at IS NOT NULL"


class LaunchStatus(StrEnum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    LAUNCHED = "launched"


class GateStatus(StrEnum):
    PENDING = "pending"          # items still being answered
    IN_REVIEW = "in_review"      # every required item satisfied; approvers asked
    GO = "go"
    GO_WITH_CONDITIONS = "go_with_conditions"
    HOLD = "hold"
    KILLED = "killed"


class ItemState(StrEnum):
    OPEN = "open"
    DONE = "done"
    NA = "na"
    BLOCKED = "blocked"
    WAIVED = "waived"


class Launch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20)
    markets: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    launch_date: date
    template_kind: str = Field(max_length=20)
    template_version: int
    owner_id: str = Field(max_length=32, index=True)
    readiness_lead_id: str = Field(max_length=32, index=True)
    brief: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel_id: str | None = Field(default=None, max_length=32)
    status: str = Field(default=LaunchStatus.OPEN, max_length=20, index=True)
    # Private: a private channel, and only its people, readiness leads and admins can see it.
    private: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_digest_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the daily digest is next considered (the lead's next working window); NULL: at the next
    # pass. Keeps a quiet pass from reading every launch (bot/services/digest.py).
    digest_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The reminder policy the launch was opened with (settings + template overrides).
    reminder_policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    # The submission that opened it (modal view id): a repeated or concurrent copy finds this row.
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)

    @property
    def key(self) -> str:
        return f"LR-{self.id}"

    @property
    def active(self) -> bool:
        return self.status == LaunchStatus.OPEN


class Gate(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("launch_id", "gate_key"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    gate_key: str = Field(max_length=64)
    name: str = Field(max_length=120)
    position: int
    offset_business_days: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    opens_offset_business_days: int | None = None   # template key `opens`: not decided before opens_at
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=GateStatus.PENDING, max_length=24)
    approver_role: str = Field(default="readiness_lead", max_length=40)
    quorum: str = Field(default="any", max_length=8)
    fast_path: bool = False
    allow_self_approval: bool = False
    review_round: int = 0
    review_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def decided(self) -> bool:
        return self.status in (GateStatus.GO, GateStatus.GO_WITH_CONDITIONS, GateStatus.KILLED)


class Item(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("launch_id", "item_key"),
        # Due-row look-ups of the scheduler (issue 10): only the few rows still waiting are indexed.
        Index("ix_item_nudge_due", "next_nudge_at", postgresql_where=text(NUDGE_DUE), sqlite_where=text(NUDGE_DUE)),
        Index("ix_item_escalation_due", "due_at", postgresql_where=text(ESCALATION_DUE),
              sqlite_where=text(ESCALATION_DUE)),
        Index("ix_item_waiver_expiry", "waiver_expires_at", postgresql_where=text(WAIVER_EXPIRY),
              sqlite_where=text(WAIVER_EXPIRY)),
    )

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    item_key: str = Field(max_length=64)
    question: str = Field(sa_column=Column(Text, nullable=False))
    action: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=500)
    why: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_role: str = Field(max_length=40)
    owner_id: str | None = Field(default=None, max_length=32, index=True)
    delegate_id: str | None = Field(default=None, max_length=32)
    answer_kind: str = Field(default="confirm", max_length=16)
    choices: list[str] | None = Field(default=None, sa_column=Column(JSONType))
    min_value: float | None = None
    max_value: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    required: bool = True
    due_offset_business_days: int = 0
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Not answerable (nor nudged) before this (template key `opens`; None: from the start).
    opens_offset_business_days: int | None = None
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # No index of its own: a handful of values, and SQLite (no statistics) would read every open
    # item through it instead of the due-time indexes the scheduler's queries are made for.
    state: str = Field(default=ItemState.OPEN, max_length=16)
    answer: Any | None = Field(default=None, sa_column=Column(JSONType))
    evidence: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, sa_column=Column(Text))
    answered_by: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_nudge_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_nudged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalation_level: int = 0
    # When the escalation step next reads this open or blocked required item: its due time when
    # (re)scheduled, then its next level's threshold day; NULL for the others (bot/services/escalations.py).
    # A plain index, not a partial one: SQLite cannot match a partial index's WHERE to bound parameters.
    escalate_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    waiver_reason: str | None = Field(default=None, sa_column=Column(Text))
    waiver_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    waived_by: str | None = Field(default=None, max_length=32)
    source_decision_id: int | None = Field(default=None, foreign_key="gatedecision.id")
    # Evidence checks (template keys `url_pattern`, `updated`): see docs/integrations.md.
    url_pattern: str | None = Field(default=None, max_length=500)
    must_be_updated: bool = False
    updated_date: str | None = Field(default=None, max_length=120)   # where the page says its date: meta:… / json:…

    @property
    def satisfied(self) -> bool:
        return self.state in (ItemState.DONE, ItemState.NA, ItemState.WAIVED)

    @property
    def is_open(self) -> bool:
        return self.state in (ItemState.OPEN, ItemState.BLOCKED)


class LaunchRole(SQLModel, table=True):
    """Who holds which role on one launch (resolved from the directory)."""

    __table_args__ = (UniqueConstraint("launch_id", "role", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    role: str = Field(max_length=40)
    user_id: str = Field(max_length=32)
