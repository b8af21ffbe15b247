"""Queueing outgoing Slack messages as outbox rows.

Services describe *what* to say (kind + payload); the delivery worker renders
Block Kit at send time, so a retried row always shows the latest state.

`enqueue` does not write at once: the row joins the transaction's change set and
is written at commit, after every launch, gate and item row the transaction locked
or changed (the lock order is launch → gate → items → outbox). Refreshes of
messages already sent are not queued by use cases at all: bot/services/effects.py
derives them from what changed.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import OutboxMessage, OutboxStatus, utcnow

from . import changes

LAUNCH_CHANNEL = "launch_channel"


class Kind:
    """Outbox kinds (string constants so rows stay readable in the database)."""

    STATUS_CARD = "status_card"          # post-or-update the launch channel card
    ANNOUNCE = "announce"                # one line in LAUNCHES_CHANNEL
    INTRO_DM = "intro_dm"                # first DM: your items for this launch
    PROMPT_REFRESH = "prompt_refresh"    # chat.update of a stakeholder's live prompt
    CREATE_CHANNEL = "create_channel"    # conversations.create (+ invites)
    INVITE = "invite"                    # conversations.invite
    EPHEMERAL = "ephemeral"
    TEXT = "text"                        # plain notice (DM or channel)
    NUDGE = "nudge"
    NUDGE_REFRESH = "nudge_refresh"      # chat.update of the latest nudge (answers, snoozes)
    NUDGE_DAY = "nudge_day"              # a person's one reminder of the day across several launches
    NUDGE_DAY_REFRESH = "nudge_day_refresh"  # chat.update of it (items answered since)
    ESCALATION = "escalation"
    ESCALATION_DAY = "escalation_day"    # a lead's / owner's one escalation of the day across several launches
    ESCALATION_DAY_REFRESH = "escalation_day_refresh"
    ESCALATION_REFRESH = "escalation_refresh"  # chat.update of the latest escalation (items handled since)
    DIGEST = "digest"
    DATES_MOVED = "dates_moved"          # one DM per owner (and a channel note) when the launch date moves
    HANDOVER = "handover"                # short DM to the new / old owner of a reassigned item
    DELEGATED = "delegated"              # DM to a new delegate (with the item's controls), or a note to the owner
    DELEGATE_REFRESH = "delegate_refresh"  # chat.update of that DM to the delegate (answers, removal)
    PROFILE = "profile"                  # users.info → UserProfile (time zone); sends no message
    HOME_REFRESH = "home_refresh"        # views.publish of a person's Home tab (only once they have opened it)
    REVIEW = "review"                    # gate review message to an approver
    REVIEW_REFRESH = "review_refresh"
    ADMIN_ALERT = "admin_alert"
    CHANNEL_TOPIC = "channel_topic"      # conversations.setTopic of the launch channel (status in a line)
    PORTFOLIO_DIGEST = "portfolio_digest"  # Monday: every launch by next gate, risks, decisions (leads or channel)
    WEBHOOK = "webhook"                  # a signed HTTP POST to a webhooks.yaml endpoint (recipient = endpoint id)
    ACTUALS_PROMPT = "actuals_prompt"    # Monday DM to WFM: enter last weeks' actual contacts (issue 13)


REFRESH_KINDS = {Kind.STATUS_CARD, Kind.PROMPT_REFRESH, Kind.REVIEW_REFRESH, Kind.NUDGE_REFRESH,
                 Kind.NUDGE_DAY_REFRESH, Kind.ESCALATION_DAY_REFRESH,
                 Kind.DELEGATE_REFRESH, Kind.HOME_REFRESH, Kind.ESCALATION_REFRESH, Kind.CHANNEL_TOPIC}


def _values(kind: str, recipient: str, payload: dict[str, Any] | None, launch_id: int | None,
            dedupe_key: str | None, not_before: datetime | None, now: datetime | None) -> dict[str, Any]:
    now = now or utcnow()
    return dict(kind=kind, recipient=recipient, payload=payload or {}, launch_id=launch_id, dedupe_key=dedupe_key,
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=not_before or now, created_at=now)


def enqueue(
    session: Session,
    kind: str,
    recipient: str,
    payload: dict[str, Any] | None = None,
    *,
    launch_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """Queue a row, written when the transaction commits (in the order queued).

    With a dedupe key, nothing is written if a row with that key is already
    there: the unique key (INSERT .. ON CONFLICT DO NOTHING) is what makes a
    repeated command or a racing replica harmless. `now` is the caller's clock,
    so a tick run `--at` another time queues rows due at that time.
    """
    cs = changes.of(session)
    cs.outbox.append(_values(kind, recipient, payload, launch_id, dedupe_key, not_before, now))
    if kind == Kind.INTRO_DM and launch_id is not None:
        cs.intros.add((launch_id, recipient))  # the intro posts the prompt: no prompt refresh on top


def enqueue_now(
    session: Session,
    kind: str,
    recipient: str,
    payload: dict[str, Any] | None = None,
    *,
    launch_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Write the row at once; returns whether it was written (False: the dedupe key exists)."""
    return write(session, _values(kind, recipient, payload, launch_id, dedupe_key, not_before, now))


_KEYED_INSERT: dict[str, Any] = {}  # dialect name → INSERT .. ON CONFLICT (dedupe_key) DO NOTHING RETURNING id


def _keyed_insert(dialect: str):
    """Built once per dialect and executed with each row's values (a click writes two or three
    refresh rows; building the statement each time cost more CPU than running it)."""
    stmt = _KEYED_INSERT.get(dialect)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _KEYED_INSERT[dialect] = (insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
                                         .returning(OutboxMessage.id))
    return stmt


def write(session: Session, values: dict[str, Any]) -> bool:
    if values["dedupe_key"] is None:
        session.add(OutboxMessage(**values))
        return True
    return session.execute(_keyed_insert(session.get_bind().dialect.name), values).scalar() is not None


def exists(session: Session, dedupe_key: str) -> bool:
    """Whether a row with this key was written (queued rows of this transaction not counted)."""
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first() is not None


def refresh(session: Session, kind: str, recipient: str, launch_id: int | None, key: str, *, now: datetime | None = None,
            **payload) -> bool:
    """Write a coalescing refresh now (bot/services/effects.py, at commit): a burst of changes
    becomes one update. The key is freed when the worker claims the row, so a change after
    that queues a fresh refresh."""
    return enqueue_now(session, kind, recipient, payload, launch_id=launch_id, dedupe_key=f"refresh:{kind}:{key}",
                       now=now)


def refresh_home(session: Session, user_id: str, *, now: datetime | None = None) -> bool:
    """Queue one publish of this person's Home tab (coalesced with one already waiting)."""
    return enqueue_now(session, Kind.HOME_REFRESH, user_id, {}, dedupe_key=f"refresh:{Kind.HOME_REFRESH}:{user_id}",
                       now=now)


def profile_key(user_id: str) -> str:
    return f"profile:{user_id}"


def request_profile(session: Session, user_id: str, now: datetime | None = None) -> bool:
    """Queue one `users.info` look-up for this person (once ever: the key stays on the row)."""
    return enqueue_now(session, Kind.PROFILE, user_id, {}, dedupe_key=profile_key(user_id), now=now)
