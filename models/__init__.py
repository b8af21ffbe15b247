"""SQLModel tables. Importing this package registers every table."""
from .audit import AuditEvent
from .capacity import ForecastActual
from .decision import GateDecision, ImmutableRecord, Outcome, Vote
from .launch import Gate, GateStatus, Item, ItemState, Launch, LaunchRole, LaunchStatus
from .outbox import OutboxMessage, OutboxStatus, SlackMessageRef
from .people import DirectoryMember, Nudge, UserProfile
from .types import UTCDateTime, utcnow

__all__ = [
    "AuditEvent", "DirectoryMember", "ForecastActual", "Gate", "GateDecision", "GateStatus", "ImmutableRecord", "Item",
    "ItemState", "Launch", "LaunchRole", "LaunchStatus", "Nudge", "Outcome", "OutboxMessage",
    "OutboxStatus", "SlackMessageRef", "UTCDateTime", "UserProfile", "Vote", "utcnow",
]
