"""Append-only audit trail: who did what, when, before and after."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from .types import JSONType, UTCDateTime, utcnow


class AuditAction(StrEnum):
    """Every action the audit trail records, stored as these very strings.

    A refused attempt is stored as `refused.<what was tried>` (see `refused`).
    """

    LAUNCH_CREATED = "launch.created"
    LAUNCH_CHANNEL_CREATED = "launch.channel_created"
    LAUNCH_DATE_CHANGED = "launch.date_changed"
    LAUNCH_HELD = "launch.held"
    LAUNCH_RESUMED = "launch.resumed"
    LAUNCH_CANCELLED = "launch.cancelled"
    LAUNCH_LAUNCHED = "launch.launched"
    ITEM_CREATED = "item.created"
    ITEM_ANSWERED = "item.answered"
    ITEM_EDITED = "item.edited"
    ITEM_MARKED_NA = "item.marked_na"
    ITEM_MARKED_BLOCKED = "item.marked_blocked"
    ITEM_REOPENED = "item.reopened"
    ITEM_REASSIGNED = "item.reassigned"
    ITEM_DELEGATED = "item.delegated"
    ITEM_WAIVED = "item.waived"
    ITEM_WAIVER_REVOKED = "item.waiver_revoked"
    ITEM_WAIVER_EXPIRED = "item.waiver_expired"
    ITEM_SENT_BACK = "item.sent_back"
    GATE_REVIEW_OPENED = "gate.review_opened"
    GATE_REVIEW_WITHDRAWN = "gate.review_withdrawn"
    GATE_DECIDED = "gate.decided"
    VOTE_CAST = "vote.cast"
    NUDGE_SENT = "nudge.sent"
    ESCALATION_SENT = "escalation.sent"
    DIGEST_SENT = "digest.sent"
    SNOOZE_SET = "snooze.set"
    PERSON_AWAY = "person.away"
    PERSON_BACK = "person.back"
    REMINDERS_SET = "person.reminders_set"

    @staticmethod
    def refused(what: str) -> str:
        """`refused.item.answer`, `refused.waive`…: an attempt that was not allowed."""
        return f"refused.{what}"


# How the timeline words each action ({item}/{gate}: the entity's name; {note}: ": the note" when there is
# one). Actions whose wording needs the before/after values (votes, decisions, waivers, reassignments…)
# are worded by bot/services/timeline.py; anything else falls back to a generic phrase there.
PHRASES: dict[AuditAction, str] = {
    AuditAction.LAUNCH_CREATED: "opened the launch",
    AuditAction.LAUNCH_HELD: "put the launch on hold{note}",
    AuditAction.LAUNCH_RESUMED: "resumed the launch; prompts start again",
    AuditAction.LAUNCH_CANCELLED: "cancelled the launch{note}",
    AuditAction.LAUNCH_LAUNCHED: "marked the launch launched: every gate passed",
    AuditAction.ITEM_ANSWERED: "answered {item}",
    AuditAction.ITEM_EDITED: "changed the answer to {item}",
    AuditAction.ITEM_MARKED_NA: "marked {item} not applicable",
    AuditAction.ITEM_MARKED_BLOCKED: "marked {item} blocked",
    AuditAction.ITEM_REOPENED: "reopened {item}",
    AuditAction.ITEM_WAIVER_EXPIRED: "reopened {item}: the waiver expired",
    AuditAction.ITEM_WAIVER_REVOKED: "took back the waiver on {item}{note}",
    AuditAction.ITEM_SENT_BACK: "sent back {item} (Recycle){note}",
    AuditAction.GATE_REVIEW_WITHDRAWN: "withdrew the review of {gate}: {reason}",
    AuditAction.PERSON_AWAY: "changed who is away{note}",
    AuditAction.PERSON_BACK: "changed who is away{note}",
    AuditAction.REMINDERS_SET: "changed how they are reminded{note}",
}


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
