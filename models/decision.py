"""Votes and immutable gate decisions.

Unique constraints, not code, guarantee one vote per approver per review
round and one decision per round, whatever the concurrency. A decision row
is never changed: the ORM refuses updates and deletes, and a database
trigger (created with the table, on SQLite and PostgreSQL) refuses them
for anyone writing SQL by hand.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, Column, Table, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


class Outcome(StrEnum):
    GO = "go"
    GO_WITH_CONDITIONS = "go_with_conditions"
    HOLD = "hold"
    RECYCLE = "recycle"
    KILL = "kill"


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
    # A fast-path gate decided by the vote on the gate before it points at that decision.
    decided_with_id: int | None = Field(default=None, foreign_key="gatedecision.id")


class ImmutableRecord(Exception):
    """Raised on any attempt to change or delete a gate decision."""


@event.listens_for(GateDecision, "before_update")
@event.listens_for(GateDecision, "before_delete")
def _refuse_change(mapper, connection, target) -> None:
    raise ImmutableRecord(f"gate decision {target.id} is part of the record and cannot be changed")


_SQLITE_TRIGGERS = [
    DDL("CREATE TRIGGER gatedecision_no_update BEFORE UPDATE ON gatedecision "
        "BEGIN SELECT RAISE(ABORT, 'gate decisions are immutable'); END"),
    DDL("CREATE TRIGGER gatedecision_no_delete BEFORE DELETE ON gatedecision "
        "BEGIN SELECT RAISE(ABORT, 'gate decisions are immutable'); END"),
]
_PG_TRIGGERS = [
    DDL("CREATE OR REPLACE FUNCTION gatedecision_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'gate decisions are immutable'; END $$"),
    DDL("CREATE TRIGGER gatedecision_immutable BEFORE UPDATE OR DELETE ON gatedecision "
        "FOR EACH ROW EXECUTE FUNCTION gatedecision_immutable()"),
]


@event.listens_for(Table, "after_create")
def _immutable_in_the_database(table: Table, connection, **kw) -> None:
    """Listening on every Table (not the model's) so Alembic's create_table fires it too.

    A later migration that rebuilds `gatedecision` in SQLite batch mode drops the
    triggers with the old table; such a migration must run this DDL again.
    """
    if table.name != "gatedecision":
        return
    for ddl in _PG_TRIGGERS if connection.dialect.name == "postgresql" else _SQLITE_TRIGGERS:
        ddl(table, connection)


@event.listens_for(Table, "after_drop")
def _drop_function(table: Table, connection, **kw) -> None:
    if table.name == "gatedecision" and connection.dialect.name == "postgresql":
        connection.execute(DDL("DROP FUNCTION IF EXISTS gatedecision_immutable()"))
