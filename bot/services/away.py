"""People, not launches: away with a backup, and the weekly-summary preference.

While someone is away (through `away_until`, inclusive) they are not reminded or escalated
to: their items' reminders go to their role's backup (`backups:` in the stakeholders file),
and the escalation ladder is owner → role backup → readiness lead → launch owner, each rung
skipped while its person is away with no backup there. `Routing` answers "who is reminded
instead of whom" for a whole tick batch from two queries.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from sqlmodel import Session, select

from models import AuditAction, PersonPreference

from . import audit, directory, outbox
from . import tick_batches as batches
from .errors import Forbidden, ServiceError

LEAD_ROLE, OWNER_ROLE = "readiness_lead", "product_manager"
SUMMARY_DAYS = 5           # the weekly summary's default horizon: items due within 5 days still come daily
MAX_SUMMARY_DAYS = 60
MAX_AWAY_DAYS = 366


class Routing:
    """Who is away on `day`, each role's backups, and people's summary preference."""

    def __init__(self, session: Session, people: Iterable[str], day: date):
        self.day = day
        self.backups = directory.backups(session)
        wanted = sorted(set(people) | {b for bs in self.backups.values() for b in bs})
        self.away: dict[str, date] = {}
        self.summary: dict[str, int] = {}
        for part in batches.chunks(wanted):
            for user_id, until, days in session.exec(select(
                    PersonPreference.user_id, PersonPreference.away_until, PersonPreference.summary_days).where(
                    PersonPreference.user_id.in_(part))):
                if until is not None and until >= day:
                    self.away[user_id] = until
                if days is not None:
                    self.summary[user_id] = days

    def stand_in(self, person: str | None, role: str) -> str | None:
        """`person`, or while they are away the first backup of `role` who is not; None: nobody."""
        if not person:
            return None
        if person not in self.away:
            return person
        return next((b for b in self.backups.get(role, []) if b != person and b not in self.away), None)

    def lead_rung(self, lead: str, owner: str) -> str | None:
        """Escalation level 1: the readiness lead (or their backup), else the launch owner (or theirs)."""
        return self.stand_in(lead, LEAD_ROLE) or self.stand_in(owner, OWNER_ROLE)

    def owner_rung(self, owner: str) -> str | None:
        return self.stand_in(owner, OWNER_ROLE)


def stands_in(session: Session, user_id: str, owner: str | None, role: str, day: date) -> bool:
    """Whether `user_id` is a backup of `role` while `owner` is away (they may then answer it)."""
    if not owner or owner == user_id:
        return False
    pref = session.get(PersonPreference, owner)
    if pref is None or pref.away_until is None or pref.away_until < day:
        return False
    return user_id in directory.backups(session).get(role, [])


# -- use cases ---------------------------------------------------------------------------------

def preference(session: Session, user_id: str) -> PersonPreference:
    return session.get(PersonPreference, user_id) or PersonPreference(user_id=user_id)


def _check_may(session: Session, actor: str, target: str, now: datetime) -> None:
    if actor == target or directory.is_admin(session, actor):
        return
    audit.record(session, actor=actor, action=AuditAction.refused("person.away"), entity="person",
                 after={"for": target}, note="only admins can set someone else away", at=now)
    raise Forbidden("Only admins can set someone else away. `/launch away until 2027-03-01` sets yourself.")


def set_away(session: Session, actor: str, target: str, until: date | None, now: datetime) -> PersonPreference:
    """Set `target` away through `until` (None: back now). Audited; their Home shows it."""
    _check_may(session, actor, target, now)
    today = now.date()
    if until is not None and until < today:
        raise ServiceError(f"{until.isoformat()} is in the past. Give the last day away, e.g. "
                           f"`/launch away until {today.replace(year=today.year + 1).isoformat()}`.")
    if until is not None and (until - today).days > MAX_AWAY_DAYS:
        raise ServiceError("That is more than a year away. Give a date within the next 12 months, or ask an admin "
                           "to reassign the items for good.")
    pref = preference(session, target)
    before = pref.away_until.isoformat() if pref.away_until and pref.away_until >= today else None
    pref.away_until, pref.away_set_by, pref.updated_at = until, actor if until else None, now
    session.add(pref)
    after = until.isoformat() if until else None
    if before != after:
        audit.record(session, actor=actor, action=AuditAction.PERSON_AWAY if until else AuditAction.PERSON_BACK,
                     entity="person", before={"user": target, "away_until": before},
                     after={"user": target, "away_until": after},
                     note=(f"<@{target}> away through {after}; reminders go to their role's backup" if until
                           else f"<@{target}> is back; reminders go to them again"), at=now)
    outbox.refresh_home(session, target, now=now)
    return pref


def set_summary(session: Session, actor: str, days: int | None, now: datetime) -> PersonPreference:
    """Weekly summary (Mondays) for items not due within `days` days; None: daily nudges. Audited."""
    if days is not None and not 0 <= days <= MAX_SUMMARY_DAYS:
        raise ServiceError(f"Give a number of days from 0 to {MAX_SUMMARY_DAYS}, e.g. `/launch summary weekly 5`.")
    pref = preference(session, actor)
    if pref.summary_days != days:
        audit.record(session, actor=actor, action=AuditAction.REMINDERS_SET, entity="person",
                     before={"user": actor, "summary_days": pref.summary_days},
                     after={"user": actor, "summary_days": days},
                     note=f"weekly summary for items due in more than {days} days" if days is not None
                     else "daily reminders", at=now)
    pref.summary_days, pref.updated_at = days, now
    session.add(pref)
    outbox.refresh_home(session, actor, now=now)
    return pref


# -- `/launch away …` and `/launch summary …` arguments ------------------------------------------

MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(\|[^>]*)?>$")
AWAY_USAGE = ("Usage: `/launch away until 2027-03-01` (the last day you are away), `/launch away off`; "
              "admins: `/launch away @person until 2027-03-01` or `/launch away @person off`.")


def parse_away(args: list[str], actor: str) -> tuple[str, date | None]:
    """(whom, until or None for off) from the words after `/launch away`; ServiceError with the usage."""
    words = list(args)
    target = actor
    if words and MENTION.match(words[0]):
        target = MENTION.match(words.pop(0)).group(1)
    if words and words[0].lower() == "until":
        words.pop(0)
    if len(words) == 1 and words[0].lower() in ("off", "back", "none"):
        return target, None
    if len(words) != 1:
        raise ServiceError(AWAY_USAGE)
    try:
        return target, date.fromisoformat(words[0])
    except ValueError:
        raise ServiceError(f"`{words[0][:40]}` is not a date (YYYY-MM-DD). {AWAY_USAGE}") from None


SUMMARY_USAGE = ("Usage: `/launch summary weekly [N]` — a Monday summary instead of daily nudges for items not "
                 f"due within N days (default {SUMMARY_DAYS}); `/launch summary daily` — daily nudges again.")


def parse_summary(args: list[str]) -> int | None:
    words = [w.lower() for w in args]
    if words[:1] == ["daily"] and len(words) == 1:
        return None
    if words[:1] == ["weekly"] and len(words) <= 2:
        if len(words) == 1:
            return SUMMARY_DAYS
        if words[1].isdigit():
            return int(words[1])
    raise ServiceError(SUMMARY_USAGE)
