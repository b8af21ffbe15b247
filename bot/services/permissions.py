"""Workspace policy (LAUNCH_OPENERS, READINESS_LEAD_FROM): who may open a launch and who may be
named its readiness lead — the lead becomes an approver of every gate, so it is not anyone's pick.
Refusals are explained to the person and audited."""
from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, select

from bot.config import Settings
from models import DirectoryMember

from . import audit
from .errors import Forbidden, RefusedFields

EVERYONE = "everyone"
USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _entries(spec: str) -> list[str]:
    return [e.strip() for e in spec.split(",") if e.strip()]


def allowed(session: Session, spec: str, user_id: str | None) -> bool:
    entries = _entries(spec)
    if EVERYONE in entries:
        return True
    if not user_id:
        return False
    if user_id in entries:
        return True
    roles = [e for e in entries if not USER.match(e)]
    return bool(roles) and session.exec(select(DirectoryMember.id).where(
        DirectoryMember.user_id == user_id, DirectoryMember.role.in_(roles))).first() is not None


def describe(spec: str) -> str:
    names = {"admin": "admins", "readiness_lead": "readiness leads", "product_manager": "product managers",
             "vendor_management": "vendor management"}
    parts = [names.get(e, e.replace("_", " ")) if not USER.match(e) else f"<@{e}>" for e in _entries(spec)]
    return " or ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " or " + parts[-1]


def may_open(session: Session, settings: Settings, user_id: str) -> bool:
    return allowed(session, settings.launch_openers, user_id)


def opening_refusal(settings: Settings) -> str:
    return (f"Only {describe(settings.launch_openers)} can open launches here (LAUNCH_OPENERS). "
            "Ask one of them, or an admin, if this launch needs opening.")


def check_may_open(session: Session, settings: Settings, actor: str, now: datetime) -> None:
    """Raise Forbidden (its audit event is kept) unless `actor` may open launches."""
    if may_open(session, settings, actor):
        return
    message = opening_refusal(settings)
    audit.record(session, actor=actor, action="refused.launch.open", entity="launch", note=message, at=now)
    raise Forbidden(message)


def check_lead(session: Session, settings: Settings, actor: str, lead_id: str | None, now: datetime) -> None:
    """Raise RefusedFields on the readiness-lead field (audited) unless `lead_id` may lead."""
    if allowed(session, settings.readiness_lead_from, lead_id):
        return
    # A modal's field error is plain text in Slack (no mentions): the person picked is right above it.
    message = ("That person can't be the readiness lead: leads approve the gates, so they must be "
               f"{describe(settings.readiness_lead_from)} (READINESS_LEAD_FROM). Pick one of them.")
    audit.record(session, actor=actor, action="refused.launch.lead", entity="launch",
                 after={"readiness_lead": lead_id}, note=message, at=now)
    raise RefusedFields({"readiness_lead": message})
