"""The launch's stakeholder list, confirmed by the product manager at discovery.

The template item `stakeholders` asks the product manager to confirm who each role
resolved to for this launch's markets; their prompt lists the roles and people
(`roster`) and offers *Someone's missing…*, which adds a person to a role here
(`add_member`): they hold the role on this launch from then on, and items of that
role that fell back to the readiness lead (nobody held the role) are handed to
them, prompted and invited like a reassignment. Audited as `launch.stakeholder_added`.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models import Item, Launch, LaunchRole

from . import access, audit, gates
from .errors import FieldErrors, NotFound
from .outbox import Kind, enqueue, refresh_item_views, refresh_prompt, refresh_status_card

ROSTER_ITEM = "stakeholders"


def roster(session: Session, launch_id: int) -> list[tuple[str, list[str]]]:
    """(role, people) for the launch, roles in alphabetical order."""
    out: dict[str, list[str]] = {}
    for role, user_id in session.exec(select(LaunchRole.role, LaunchRole.user_id)
                                      .where(LaunchRole.launch_id == launch_id).order_by(LaunchRole.id)):
        out.setdefault(role, []).append(user_id)
    return sorted(out.items())


def add_member(session: Session, launch_id: int, role: str | None, user_id: str | None, *, actor: str,
               now: datetime) -> list[Item]:
    """Add `user_id` to `role` on the launch; returns the items handed to them."""
    if session.get(Launch, launch_id) is None:
        raise NotFound("That launch no longer exists.")
    launch = gates.lock_launch(session, launch_id)
    if not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="stakeholder_add", entity="launch",
                            entity_id=launch.id, now=now,
                            message=f"Only the launch owner or a readiness lead can change who is on {launch.key}.")
    access.check_checklist_open(launch)
    errors = {}
    roles = dict(roster(session, launch.id))
    if not role or role not in roles and role not in item_roles(session, launch):
        errors["role"] = "Pick one of the launch's roles."
    if not user_id:
        errors["user"] = "Pick the person who is missing."
    elif role and user_id in roles.get(role, []):
        errors["user"] = "They already hold that role on this launch."
    if errors:
        raise FieldErrors(errors)
    session.add(LaunchRole(launch_id=launch.id, role=role, user_id=user_id))
    handed = [i for i in session.exec(select(Item).where(Item.launch_id == launch.id, Item.owner_role == role,
                                                         Item.owner_id == launch.readiness_lead_id))
              if i.is_open and role != "readiness_lead"]
    for item in handed:
        item.owner_id, item.delegate_id = user_id, None
        session.add(item)
        refresh_item_views(session, launch.id, item, now=now)
    audit.record(session, actor=actor, action="launch.stakeholder_added", entity="launch", entity_id=launch.id,
                 launch_id=launch.id, after={"role": role, "user": user_id, "items": [i.id for i in handed]},
                 at=now)
    if not enqueue(session, Kind.INTRO_DM, user_id, {"user": user_id, "handed_by": actor}, launch_id=launch.id,
                   dedupe_key=f"intro:{launch.id}:{user_id}", now=now):
        refresh_prompt(session, launch.id, user_id, now=now)
    if launch.channel_id:
        enqueue(session, Kind.INVITE, launch.channel_id, {"users": [user_id]}, launch_id=launch.id,
                dedupe_key=f"invite:{launch.id}:{user_id}", now=now)
    refresh_prompt(session, launch.id, launch.owner_id, now=now)  # the list on the PM's prompt
    refresh_status_card(session, launch.id, now=now)
    return handed


def item_roles(session: Session, launch: Launch) -> set[str]:
    return set(session.exec(select(Item.owner_role).where(Item.launch_id == launch.id)))
