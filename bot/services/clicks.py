"""Done and Reopen clicks: saved before the ack, applied right after it.

Slack wants its ack within 3 s, and on a busy server a click's change (locks, the item, its
audit event, the refreshed messages) is most of a request's work. So the click itself is
saved first — one row, one short transaction — Slack gets its ack, and the change is made
just after by the process that took the click (bot/listeners/clicks.py). The row is deleted in the
transaction that applies it, so a click is applied exactly once; if the process stops before,
any replica's scheduler applies it once `retry_at` has passed. The answer is recorded at the
click's time, whenever it is applied.

Lock order: the pending row comes before the launch (launch → gate → items → outbox), and it is
only ever taken with SKIP LOCKED, so nobody waits for it and it cannot close a cycle.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, select

from bot.config import Settings
from models import PendingClick

from . import answers

# What a click does: the same service functions a synchronous command would call.
ACTIONS: dict[str, Callable[..., object]] = {"item.done": answers.mark_done, "item.reopen": answers.reopen}
GRACE = timedelta(seconds=60)     # the process that took the click applies it well before this
RETRY = timedelta(minutes=5)      # after a failed attempt (the database was away, a bug)


def record(session: Session, action: str, actor: str, item_id: int, *, now: datetime,
           response_url: str | None = None, home: bool = False) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown click {action!r}")
    url = response_url if response_url and len(response_url) <= 500 else None
    return int(session.execute(insert(PendingClick).values(  # one INSERT on the ack's path, no ORM flush
        action=action, actor=actor, item_id=item_id, clicked_at=now, retry_at=now + GRACE, attempts=0,
        response_url=url, home=home).returning(PendingClick.id)).scalar_one())


def apply(session: Session, click_id: int, settings: Settings) -> PendingClick | None:
    """Make the click's change in this transaction and delete its row with it. None: it was
    applied already, or another process is applying it now. A refusal (ServiceError) from the
    service propagates; the refusal's audit event and the row's deletion commit when the error
    keeps its record, else `discard` removes the row."""
    click = _locked(session, click_id)
    if click is None:
        return None
    session.delete(click)
    ACTIONS[click.action](session, click.item_id, actor=click.actor, now=click.clicked_at, settings=settings)
    return click


def discard(session: Session, click_id: int) -> None:
    """A refused click is not tried again."""
    click = _locked(session, click_id)
    if click is not None:
        session.delete(click)


def claim_due(session: Session, now: datetime, limit: int = 100) -> list[tuple[int, str, str | None]]:
    """Clicks their process did not apply (it stopped, or the attempt failed), oldest first, as
    (id, actor, response_url); claimed for RETRY so no other replica takes them meanwhile. One
    SELECT, one UPDATE."""
    rows = [(int(i), a, u) for i, a, u in session.exec(
        select(PendingClick.id, PendingClick.actor, PendingClick.response_url)
        .where(PendingClick.retry_at <= now).order_by(PendingClick.id).limit(limit)
        .with_for_update(skip_locked=True))]
    if rows:
        session.execute(update(PendingClick).where(PendingClick.id.in_([r[0] for r in rows]))
                        .values(retry_at=now + RETRY, attempts=PendingClick.attempts + 1))
    return rows


def _locked(session: Session, click_id: int) -> PendingClick | None:
    return session.exec(select(PendingClick).where(PendingClick.id == click_id)
                        .with_for_update(skip_locked=True)).first()
