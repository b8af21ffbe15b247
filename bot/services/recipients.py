"""When a person may be reminded: their Slack time zone, working hours, business days.

Time zones come from the `UserProfile` cache (filled from `users.info` by the
delivery worker). A person whose profile was never fetched gets a fetch queued
and waits one tick; a person Slack has no zone for is treated as UTC.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import Nudge, OutboxMessage, OutboxStatus, UserProfile

from . import calendar
from .outbox import profile_key, request_profile
from .policy import WorkingHours

UTC = ZoneInfo("UTC")
# Local days start up to 14 hours before UTC's (Pacific/Kiritimati); a query for
# "due by the recipient's local date" looks this far ahead and then checks exactly.
LOCAL_DAY_LEAD = timedelta(hours=14)


def day_start(day: date) -> datetime:
    """Midnight UTC of `day`: how a local *day* is stored in a UTC column."""
    return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)


def user_tz(session: Session, user_id: str) -> str | None:
    """The person's cached Slack time zone name, if any (never asks Slack)."""
    profile = session.get(UserProfile, user_id)
    return profile.tz if profile else None


def zone_for(session: Session, user_id: str, now: datetime) -> ZoneInfo | None:
    """The person's zone, or None while their profile is being fetched (queued here)."""
    profile = session.get(UserProfile, user_id)
    if profile is not None:
        return zone_named(profile.tz)
    attempted = session.exec(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == profile_key(user_id),
                                       OutboxMessage.status != OutboxStatus.PENDING)
    ).first()
    if attempted is not None:  # Slack could not tell us: fall back to UTC
        return UTC
    request_profile(session, user_id, now=now)
    return None


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def is_working_time(local: datetime, hours: WorkingHours, markets: Iterable[str]) -> bool:
    """Inside the working window on a business day (weekends and the launch markets' holidays skipped)."""
    return calendar.is_business_day(local.date(), markets) and hours.start <= local.time() < hours.end


def window_start(day: date, zone: ZoneInfo, hours: WorkingHours) -> datetime:
    """The UTC instant the working day `day` starts in `zone`."""
    return datetime.combine(day, hours.start, tzinfo=zone).astimezone(timezone.utc)


def next_business_day(day: date, markets: Iterable[str]) -> date:
    return calendar.add_business_days(day, 1, markets)


def claim(session: Session, launch_id: int, user_id: str, day: date, kind: str, now: datetime) -> bool:
    """Record one reminder of `kind` for this person, launch and local day.

    The unique ledger row is the claim: a second replica (or a second tick the
    same day) inserts nothing and must not send.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(Nudge).values(launch_id=launch_id, user_id=user_id, day=day, kind=kind, at=now)
            .on_conflict_do_nothing(index_elements=["launch_id", "user_id", "day", "kind"])
            .returning(Nudge.id))
    return session.execute(stmt).scalar() is not None
