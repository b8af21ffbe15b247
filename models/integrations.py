"""Other systems that answer items: their tokens (hashed) and the requests already answered."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


class IntegrationToken(SQLModel, table=True):
    """Only the SHA-256 of the token is kept; the token itself is shown once, when created."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=20, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    token_prefix: str = Field(max_length=12)                    # shown in `list`, enough to tell tokens apart
    scope_items: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    scope_roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    window_start: datetime | None = Field(default=None, sa_type=UTCDateTime)   # rate limit: this minute…
    window_count: int = 0                                                      # …and requests in it


class IntegrationRequest(SQLModel, table=True):
    """An answered request, by the client's Idempotency-Key: a retry gets the same response."""

    __table_args__ = (UniqueConstraint("token_id", "client_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="integrationtoken.id", index=True)
    client_key: str = Field(max_length=100)
    request_hash: str = Field(max_length=64)
    status_code: int = 200
    response: Any = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
