"""Who may do what on a launch. Services call these; the UI only hides buttons.

Refusals raise `Forbidden` after the caller has audited the attempt (see
`refuse`), so a refused click is on the record like any other.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, true
from sqlmodel import Session, select

from models import Item, Launch, LaunchRole, LaunchStatus, utcnow

from . import audit, directory
from .errors import Conflict, Forbidden


def role_holders(session: Session, launch_id: int, role: str) -> list[str]:
    rows = session.exec(
        select(LaunchRole.user_id).where(LaunchRole.launch_id == launch_id, LaunchRole.role == role)
        .order_by(LaunchRole.id)
    )
    return list(dict.fromkeys(rows))


def is_owner(launch: Launch, user_id: str) -> bool:
    return launch.owner_id == user_id


def is_readiness_lead(session: Session, launch: Launch, user_id: str) -> bool:
    return user_id == launch.readiness_lead_id or user_id in role_holders(session, launch.id, "readiness_lead")


def can_steer(session: Session, launch: Launch, user_id: str) -> bool:
    """Launch owner, a readiness lead of the launch, or an admin."""
    return (is_owner(launch, user_id) or is_readiness_lead(session, launch, user_id)
            or directory.is_admin(session, user_id))


def sees_everything(session: Session, user_id: str) -> bool:
    """Admins and readiness leads (anyone holding the role in the directory) see private launches."""
    return directory.is_admin(session, user_id) or directory.holds_role(session, user_id, "readiness_lead")


def visible_to(session: Session, user_id: str | None):
    """A WHERE clause on Launch: what `user_id` may see (None: the operator at the CLI, everything).

    Public launches, and private ones where they are the owner, the lead, hold a role
    or own / are delegated an item. One definition for list, status, timeline,
    report, export, search by key and the digests.
    """
    if user_id is None or sees_everything(session, user_id):
        return true()
    return or_(
        Launch.private.is_(False),
        Launch.owner_id == user_id,
        Launch.readiness_lead_id == user_id,
        exists().where(LaunchRole.launch_id == Launch.id, LaunchRole.user_id == user_id),
        exists().where(Item.launch_id == Launch.id, or_(Item.owner_id == user_id, Item.delegate_id == user_id)),
    )


def can_see(session: Session, launch: Launch, user_id: str | None) -> bool:
    if not launch.private or user_id is None or user_id in (launch.owner_id, launch.readiness_lead_id):
        return True
    return session.exec(select(Launch.id).where(Launch.id == launch.id, visible_to(session, user_id))).first() \
        is not None


def can_answer(session: Session, launch: Launch, item: Item, user_id: str) -> bool:
    """The owner, their delegate, their role's backup while they are away, the launch owner or a lead."""
    from . import away
    return (user_id in (item.owner_id, item.delegate_id) or can_steer(session, launch, user_id)
            or away.stands_in(session, user_id, item.owner_id, item.owner_role, utcnow().date()))


def check_checklist_open(launch: Launch) -> None:
    """Items change only while the launch runs (open or on hold), not once it is
    cancelled or complete: the final decision's snapshot is the record then."""
    if launch.status == LaunchStatus.CANCELLED:
        raise Conflict(f"{launch.key} is cancelled; its checklist is closed.")
    if launch.status == LaunchStatus.LAUNCHED:
        raise Conflict(f"{launch.key} is complete (every gate passed); its checklist is closed.")


def refuse(session: Session, *, launch: Launch, actor: str, action: str, entity: str, entity_id: int | None,
           message: str, now: datetime) -> Forbidden:
    """Audit a refused attempt and return the error to raise.

    The caller must commit the session (the listener's unit of work does when
    it catches `Forbidden`) so the refusal is recorded even though the change
    is not made.
    """
    audit.record(session, actor=actor, action=f"refused.{action}", entity=entity, entity_id=entity_id,
                 launch_id=launch.id, note=message, at=now)
    return Forbidden(message)
