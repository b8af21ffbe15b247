"""What one transaction changed, collected while it runs.

Use cases change rows and say what they changed here (`record(session, ItemChanged(…))`);
they never decide which Slack messages follow. At commit, `bot.services.effects`
turns the collected changes into outbox rows in one place (status card, prompts,
Home tabs, nudges, delegate DMs, escalations, review copies — and whatever else is
registered there), and writes every outbox row of the transaction last.

The change set lives in `session.info`, so it is the unit of work's: it is
emptied on commit and on rollback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from bot.config import Settings

KEY = "launchgate.changes"


@dataclass(frozen=True)
class ItemChanged:
    """An item's state, answer, owner, delegate or due date changed (or it was created).
    Everyone who sees the item is named: owners and delegates before and after."""

    launch_id: int
    item_id: int
    owners: tuple[str | None, ...] = ()      # None: an item nobody owns (yet); skipped
    delegates: tuple[str | None, ...] = ()
    action: str = ""
    actor: str = ""


@dataclass(frozen=True)
class LaunchChanged:
    """Status, dates, gates or decisions of a launch: its status card and "my launches" on Home."""

    launch_id: int


@dataclass(frozen=True)
class PromptsChanged:
    """The launch as a whole changed under people's live prompts (hold, cancel, launched, dates moved)."""

    launch_id: int
    owners: tuple[str, ...] = ()
    delegated_items: tuple[tuple[int, str], ...] = ()   # (item id, delegate)
    nudges: bool = False


@dataclass(frozen=True)
class ReviewChanged:
    """Votes, the outcome or a withdrawal of a gate review: every copy of it (approvers, voters, channel)."""

    launch_id: int
    gate_id: int
    round: int


@dataclass(frozen=True)
class ApprovalsChanged:
    """A review opened for these approvers: their Home lists "approvals waiting for me"."""

    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class NudgeSnoozed:
    """A person snoozed their reminders for a launch: their latest nudge says so."""

    launch_id: int
    user_id: str


@dataclass(frozen=True)
class PromptChanged:
    """Something one person's live prompt shows changed (e.g. the stakeholder list on the PM's prompt)."""

    launch_id: int
    user_id: str


Change = (ItemChanged | LaunchChanged | PromptsChanged | PromptChanged | ReviewChanged | ApprovalsChanged
          | NudgeSnoozed)


@dataclass
class ChangeSet:
    changes: list[Change] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)   # rows queued by services, written at commit
    intros: set[tuple[int, str]] = field(default_factory=set)    # (launch, user) whose prompt an intro DM posts
    now: datetime | None = None                                  # the use case's clock (tick --at, tests)
    settings: Settings | None = None                             # the use case's settings (capacity figures)
    events: list[Any] = field(default_factory=list)              # audit events recorded (webhooks, link checks)
    written_events: list[Any] = field(default_factory=list)      # …and those inserted in bulk (plain records)

    def add(self, change: Change, now: datetime | None = None, settings: Settings | None = None) -> None:
        self.changes.append(change)
        if now is not None:
            self.now = now
        if settings is not None:
            self.settings = settings

    def __bool__(self) -> bool:
        return bool(self.changes or self.outbox or self.events or self.written_events)


def of(session: Session) -> ChangeSet:
    """This transaction's change set (created on first use)."""
    found = session.info.get(KEY)
    if found is None:
        found = session.info[KEY] = ChangeSet()
    return found


def record(session: Session, change: Change, *, now: datetime | None = None,
           settings: Settings | None = None) -> None:
    of(session).add(change, now, settings)


def take(session: Session) -> ChangeSet:
    """Remove and return the change set (at commit, or to drop it on rollback)."""
    return session.info.pop(KEY, None) or ChangeSet()
