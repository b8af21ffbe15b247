"""Ad-hoc items: work that is not in the template, added to a running launch, and removing items.

`/launch add LR-12` (launch owner, readiness lead or admin) opens a modal: question,
owner (a role of the launch or a person), gate (one not yet passed), due date,
required, answer kind. The new item is scheduled, audited (`item.created`, note
"ad hoc") and its owner prompted like any other: someone new to the launch gets
their intro DM and a channel invite, someone already in it sees it added to their
prompt. A required item added to a gate in review withdraws the review.

Removing an open item (`/launch remove LR-12`) needs a reason; the audit event
keeps the whole item as it was (`item.removed`), then the row goes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func
from sqlmodel import Session, select

from bot.config import Settings
from models import Gate, Item, ItemState, Launch, LaunchRole

from . import access, audit, calendar, changes, gates, item_state, launches, outbox, policy, reminders
from .errors import FieldErrors, NotFound, ServiceError
from .changes import ItemChanged
from .outbox import Kind, enqueue
from .readable import item_snapshot

KINDS = {"confirm": "Done / not done", "number": "A number", "text": "Some text", "link": "A link"}
QUESTION_MAX = 300
REASON_MAX = 500


@dataclass
class ItemForm:
    question: str = ""
    owner_role: str | None = None
    owner_id: str | None = None
    gate_id: int | None = None
    due: date | None = None
    required: bool = True
    answer_kind: str = "confirm"


def check(session: Session, key: str, actor: str, now: datetime, action: str = "add") -> Launch:
    launch = launches.get_launch(session, key, viewer=actor)
    if not access.can_steer(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action=f"item.{action}", entity="launch",
                            entity_id=launch.id, now=now,
                            message=f"Only the launch owner or a readiness lead can {action} items on {launch.key}.")
    access.check_checklist_open(launch)
    return launch


def open_gates(session: Session, launch: Launch) -> list[Gate]:
    """Gates an item may still join: not passed, not killed."""
    return [g for g in gates.gates_of(session, launch.id) if g.status not in (*gates.PASSED, "killed")]


def roles_of(session: Session, launch: Launch) -> list[str]:
    return sorted(set(session.exec(select(LaunchRole.role).where(LaunchRole.launch_id == launch.id))))


def add_item(session: Session, launch_id: int, form: ItemForm, *, actor: str, now: datetime,
             settings: Settings) -> Item:
    if session.get(Launch, launch_id) is None:
        raise NotFound("That launch no longer exists.")
    launch = gates.lock_launch(session, launch_id)
    check(session, launch.key, actor, now)
    gate, owner, role = _validate(session, launch, form, now)
    n = session.exec(select(func.count()).select_from(Item).where(Item.launch_id == launch.id,
                                                                  Item.item_key.like("adhoc-%"))).one()
    item = Item(
        launch_id=launch.id, gate_id=gate.id, item_key=f"adhoc-{n + 1}", question=" ".join(form.question.split()),
        action="Added during the launch by " + f"<@{actor}>", why="Ad-hoc item (not in the template).",
        owner_role=role, owner_id=owner, answer_kind=form.answer_kind, required=form.required,
        due_offset_business_days=calendar.business_days_between(launch.launch_date, form.due, launch.markets),
        due_at=datetime.combine(form.due, calendar.DUE_TIME, tzinfo=timezone.utc),
    )
    reminders.schedule_item(item, launch, policy.for_launch(settings, launch), now)
    session.add(item)
    session.flush()
    item_state.created(session, item, launch, actor=actor,
                       after={"question": item.question, "owner": owner, "role": role, "gate": gate.gate_key,
                              "due_at": item.due_at, "required": item.required, "answer_kind": item.answer_kind},
                       note="ad hoc", now=now)
    intro = f"intro:{launch.id}:{owner}"
    if not outbox.exists(session, intro):  # new to the launch: the intro DM posts their prompt
        enqueue(session, Kind.INTRO_DM, owner, {"user": owner, "handed_by": actor, "item": item.id},
                launch_id=launch.id, dedupe_key=intro, now=now)
    if launch.channel_id:
        enqueue(session, Kind.INVITE, launch.channel_id, {"users": [owner]}, launch_id=launch.id,
                dedupe_key=f"invite:{launch.id}:{owner}", now=now)
    gates.items_changed(session, launch, [gate.id], actor=actor, now=now)
    return item


def _validate(session: Session, launch: Launch, form: ItemForm, now: datetime) -> tuple[Gate, str, str]:
    errors: dict[str, str] = {}
    question = " ".join((form.question or "").split())
    if not question:
        errors["question"] = "Say what needs doing, as a question the owner can answer."
    elif len(question) > QUESTION_MAX:
        errors["question"] = f"Keep it to {QUESTION_MAX} characters (this one has {len(question)})."
    gate = next((g for g in open_gates(session, launch) if g.id == form.gate_id), None)
    if gate is None:
        errors["gate"] = "Pick a gate that has not passed yet."
    if form.due is None:
        errors["due"] = "Pick the due date."
    elif form.due < now.date():
        errors["due"] = "The due date can't be in the past."
    if form.answer_kind not in KINDS:
        errors["answer_kind"] = "Pick how it is answered."
    owner, role = form.owner_id, form.owner_role
    if owner and not role:
        role = session.exec(select(LaunchRole.role).where(LaunchRole.launch_id == launch.id,
                                                          LaunchRole.user_id == owner).order_by(LaunchRole.id)).first()
        role = role or "ad_hoc"
    elif role and not owner:
        holders = access.role_holders(session, launch.id, role)
        if role == "product_manager":
            holders = [launch.owner_id]
        elif role == "readiness_lead":
            holders = [launch.readiness_lead_id]
        if not holders:
            errors["owner_role"] = f"Nobody holds {role} on {launch.key}; pick a person instead."
        owner = holders[0] if holders else None
    elif not owner and not role:
        errors["owner_role"] = "Pick a role of the launch, or a person below."
    if errors:
        raise FieldErrors(errors)
    return gate, owner, role


# -- removing ------------------------------------------------------------------------------

def removable(session: Session, launch: Launch) -> list[Item]:
    """Open items (answered ones are part of the record and stay)."""
    return [i for i in launches.items_of(session, launch.id) if i.state in (ItemState.OPEN, ItemState.BLOCKED)]


def remove_item(session: Session, item_id: int | None, reason: str | None, *, actor: str, now: datetime) -> Launch:
    """Remove one open item (`item_id` None: nothing was picked in the form), with a reason on the record."""
    if item_id is None:
        raise FieldErrors({"item": "Pick the item to remove."})
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound("That item no longer exists.")
    launch = gates.lock_launch(session, item.launch_id)
    check(session, launch.key, actor, now, action="remove")
    item = session.exec(select(Item).where(Item.id == item_id).execution_options(populate_existing=True)).first()
    if item is None:
        raise NotFound("That item was removed a moment ago.")
    if not item.is_open:
        raise ServiceError("Only open items can be removed; an answered or waived item is part of the record.")
    text = " ".join((reason or "").split())
    if not text:
        raise FieldErrors({"reason": "Say why it is removed; the reason goes on the record."})
    if len(text) > REASON_MAX:
        raise FieldErrors({"reason": f"Keep the reason to {REASON_MAX} characters."})
    audit.record(session, actor=actor, action="item.removed", entity="item", entity_id=item.id, launch_id=launch.id,
                 before=item_snapshot(item) | {"gate_id": item.gate_id},
                 note=text, at=now)
    gate_id = item.gate_id
    changes.record(session, ItemChanged(launch.id, item.id, (item.owner_id,), (item.delegate_id,), "item.removed"),
                   now=now)
    session.delete(item)
    session.flush()
    gates.items_changed(session, launch, [gate_id], actor=actor, now=now)
    return launch
