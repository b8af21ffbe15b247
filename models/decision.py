"""Votes and immutable gate decisions.

Unique constraints, not code, guarantee one vote per approver per review
round and one decision per round, whatever the concurrency.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


class Vote(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("gate_id", "round", "voter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    round: int
    voter_id: str = Field(max_length=32)
    outcome: str = Field(max_length=24)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    conditions: Any | None = Field(default=None, sa_column=Column(JSONType))
    reopen_item_ids: list[int] | None = Field(default=None, sa_column=Column(JSONType))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GateDecision(SQLModel, table=True):
    """Never updated: reopening a gate starts a new round and a new row."""

    __table_args__ = (UniqueConstraint("gate_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    round: int
    outcome: str = Field(max_length=24)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approvers: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    votes: Any = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    conditions: Any | None = Field(default=None, sa_column=Column(JSONType))
    snapshot: Any = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
