"""Queueing outgoing Slack messages as outbox rows.

Services describe *what* to say (kind + payload); the delivery worker renders
Block Kit at send time, so a retried row always shows the latest state.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot.codecs import DelegatePayload, EscalationRefreshPayload, PromptPayload
from models import Launch, OutboxMessage, OutboxStatus, utcnow

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
    ESCALATION = "escalation"
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
                 Kind.DELEGATE_REFRESH, Kind.HOME_REFRESH, Kind.ESCALATION_REFRESH, Kind.CHANNEL_TOPIC}


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
) -> bool:
    """Queue a row; with a dedupe key, queue nothing if one is already there.

    The unique dedupe key (INSERT .. ON CONFLICT DO NOTHING) is what makes a
    repeated command or a racing replica harmless. Returns whether a row was
    queued. `now` is the caller's clock, so a tick run `--at` another time
    queues rows due at that time.
    """
    now = now or utcnow()
    values = dict(
        kind=kind,
        recipient=recipient,
        payload=payload or {},
        launch_id=launch_id,
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(OutboxMessage(**values))
        return True
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id))
    return session.execute(stmt).scalar() is not None


def refresh(session: Session, kind: str, recipient: str, launch_id: int, key: str, *, now: datetime | None = None,
            **payload) -> None:
    """Queue a coalescing refresh: a burst of changes becomes one update.

    The key is freed when the worker claims the row, so a change after that
    queues a fresh refresh.
    """
    enqueue(
        session,
        kind,
        recipient,
        payload,
        launch_id=launch_id,
        dedupe_key=f"refresh:{kind}:{key}",
        now=now,
    )


def profile_key(user_id: str) -> str:
    return f"profile:{user_id}"


def request_profile(session: Session, user_id: str, now: datetime | None = None) -> bool:
    """Queue one `users.info` look-up for this person (once ever: the key stays on the row)."""
    return enqueue(session, Kind.PROFILE, user_id, {}, dedupe_key=profile_key(user_id), now=now)


def refresh_home(session: Session, user_id: str, now: datetime | None = None) -> None:
    """Re-publish the person's Home tab, so one left open does not go stale (skipped at send
    time for people who never opened it)."""
    enqueue(session, Kind.HOME_REFRESH, user_id, {}, dedupe_key=f"refresh:{Kind.HOME_REFRESH}:{user_id}", now=now)


def refresh_status_card(session: Session, launch_id: int, now: datetime | None = None) -> None:
    """The channel's status card, and the Home tabs listing this launch under "my launches"."""
    refresh(session, Kind.STATUS_CARD, LAUNCH_CHANNEL, launch_id, str(launch_id), now=now)
    launch = session.get(Launch, launch_id)
    for user_id in dict.fromkeys((launch.owner_id, launch.readiness_lead_id) if launch else ()):
        if user_id:
            refresh_home(session, user_id, now=now)


def refresh_prompt(session: Session, launch_id: int, user_id: str, now: datetime | None = None) -> None:
    """Re-render a stakeholder's live prompt DM (post it if it was never sent) and their Home."""
    refresh(session, Kind.PROMPT_REFRESH, user_id, launch_id, f"{launch_id}:{user_id}", now=now,
            **PromptPayload(user=user_id).dump())
    refresh_home(session, user_id, now=now)


def refresh_nudge(session: Session, launch_id: int, user_id: str, now: datetime | None = None) -> None:
    """Re-render the person's latest nudge for this launch in place (never posts a new one)."""
    refresh(session, Kind.NUDGE_REFRESH, user_id, launch_id, f"{launch_id}:{user_id}", user=user_id, now=now)


def refresh_delegate(session: Session, launch_id: int, item_id: int, user_id: str,
                     now: datetime | None = None) -> None:
    """Re-render the DM that made `user_id` the item's delegate, in place (never posts a new one), and their Home."""
    refresh(session, Kind.DELEGATE_REFRESH, user_id, launch_id, f"{item_id}:{user_id}", now=now,
            **DelegatePayload(item=item_id, user=user_id).dump())
    refresh_home(session, user_id, now=now)


def refresh_escalations(session: Session, launch_id: int, now: datetime | None = None) -> None:
    """Re-render the launch's latest escalation messages in place, so the lead working through
    one sees what was answered, waived or reassigned since (nothing is queued if none was sent)."""
    sent = session.exec(select(OutboxMessage.recipient, OutboxMessage.payload).where(
        OutboxMessage.kind == Kind.ESCALATION, OutboxMessage.launch_id == launch_id)).all()
    for recipient, level in dict.fromkeys((r, int((p or {}).get("level", 1))) for r, p in sent):
        refresh(session, Kind.ESCALATION_REFRESH, recipient, launch_id, f"{launch_id}:{recipient}:{level}",
                now=now, **EscalationRefreshPayload(level=level).dump())


def refresh_item_views(session: Session, launch_id: int, item, now: datetime | None = None) -> None:
    """Every message that shows `item`: the owner's prompt and latest nudge, the delegate's DM,
    and escalations that listed it."""
    refresh_escalations(session, launch_id, now=now)
    if item.owner_id:
        refresh_prompt(session, launch_id, item.owner_id, now=now)
        refresh_nudge(session, launch_id, item.owner_id, now=now)
    if item.delegate_id:
        refresh_delegate(session, launch_id, item.id, item.delegate_id, now=now)
