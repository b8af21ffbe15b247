"""SQLModel tables. Importing this package registers every table."""
from .audit import PHRASES, AuditAction, AuditEvent
from .capacity import ForecastActual
from .clicks import PendingClick
from .decision import GateDecision, ImmutableRecord, Outcome, Vote
from .integrations import IntegrationRequest, IntegrationToken
from .launch import Gate, GateStatus, Item, ItemState, Launch, LaunchRole, LaunchStatus
from .links import LinkCheck, LinkStatus
from .outbox import OutboxMessage, OutboxStatus, SlackMessageRef
from .people import DirectoryMember, Nudge, PersonPreference, UserProfile
from .types import UTCDateTime, utcnow
from .webhooks import WebhookEndpointState

__all__ = [
    "PHRASES", "AuditAction", "AuditEvent", "DirectoryMember", "ForecastActual", "Gate", "GateDecision", "GateStatus",
    "ImmutableRecord", "IntegrationRequest", "IntegrationToken", "Item", "ItemState", "Launch", "LaunchRole",
    "LaunchStatus", "LinkCheck", "LinkStatus", "Nudge", "Outcome", "OutboxMessage", "OutboxStatus", "PendingClick", "PersonPreference", "SlackMessageRef",
    "UTCDateTime", "UserProfile", "Vote", "WebhookEndpointState", "utcnow",
]
