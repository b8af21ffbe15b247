"""Webhook events, derived from audit events (the `webhooks` effect of bot/services/effects.py DERIVED).

A payload is built once, when the change commits, and frozen in the outbox row:
an event is a fact about that moment, so a retry or a replay sends the same body
with the same `id` (receivers deduplicate on it). Shape: docs/webhook-event.schema.json.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from models import AuditEvent, Gate, Item, Launch

from .config import Endpoint

VERSION = 1
KIND = "webhook"

FROM_ACTION = {
    "launch.created": "launch.opened",
    "launch.date_changed": "launch.date_changed",
    "launch.held": "launch.held",
    "launch.resumed": "launch.resumed",
    "launch.cancelled": "launch.cancelled",
    "launch.launched": "launch.launched",
    "gate.review_opened": "gate.review_opened",
    "gate.decided": "gate.decided",
    "item.waived": "waiver.granted",
    "item.waiver_revoked": "waiver.revoked",
    "item.waiver_expired": "waiver.expired",
    "escalation.sent": "item.overdue",
    "item.answered": "item.answered",
    "item.edited": "item.answered",
    "item.marked_na": "item.answered",
    "item.marked_blocked": "item.answered",
    "item.link_broken": "evidence.link_broken",
    "capacity.gap": "capacity.gap",
    "capacity.covered": "capacity.gap_closed",
}
CAPACITY_ACTIONS = ("capacity.gap", "capacity.covered")


def actor_of(actor: str) -> dict:
    if actor == "launchgate":
        return {"type": "system"}
    if actor.startswith("integration:"):
        return {"type": "integration", "id": actor.split(":", 1)[1]}
    return {"type": "user", "id": actor}


def launch_of(launch: Launch) -> dict:
    return {"id": launch.id, "key": launch.key, "name": launch.name, "kind": launch.kind,
            "markets": list(launch.markets), "launch_date": launch.launch_date.isoformat(), "status": launch.status,
            "owner": launch.owner_id, "readiness_lead": launch.readiness_lead_id}


def item_of(item: Item) -> dict:
    return {"id": item.id, "key": item.item_key, "question": item.question, "owner": item.owner_id,
            "state": item.state, "required": item.required}


def gate_of(gate: Gate) -> dict:
    return {"id": gate.id, "key": gate.gate_key, "name": gate.name, "status": gate.status}


def _data(session: Session, type_: str, event: AuditEvent) -> dict[str, Any]:
    before, after = event.before or {}, event.after or {}
    if type_ == "launch.opened":
        return {"gates": after.get("gates"), "items": after.get("items")}
    if type_ == "launch.date_changed":
        return {"from": before.get("launch_date"), "to": after.get("launch_date"),
                "items_moved": after.get("items_moved"), "reason": event.note}
    if type_.startswith("launch."):
        return {"from_status": before.get("status"), "to_status": after.get("status"), "reason": event.note}
    if type_.startswith("gate."):
        gate = session.get(Gate, event.entity_id)
        data = {"gate": gate_of(gate), "round": after.get("round")}
        if type_ == "gate.decided":
            data |= {"outcome": after.get("outcome"), "reason": after.get("reason"),
                     "conditions": after.get("conditions") or [], "votes": after.get("votes") or [],
                     "approvers": after.get("approvers") or []}
        return data
    if type_.startswith("capacity."):
        return {"gaps": after.get("gaps") or [], "verdict": after.get("verdict")}
    if type_ == "item.overdue":
        return {"items": after.get("items") or [], "owners": after.get("owners") or [], "level": after.get("level"),
                "escalated_to": after.get("to")}
    item = session.get(Item, event.entity_id)
    data = {"item": item_of(item)}
    if type_.startswith("waiver."):
        data |= {"reason": after.get("reason") or event.note or before.get("waiver_reason"),
                 "expires_at": after.get("expires_at") or before.get("waiver_expires_at")}
    elif type_ == "item.answered":
        data |= {"answer": item.answer, "evidence": item.evidence, "note": item.note}
    elif type_ == "evidence.link_broken":
        data |= {"reason": event.note}
    return data


def body(session: Session, type_: str, event: AuditEvent, launch: Launch | None) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": type_,
        "version": VERSION,
        "occurred_at": event.at.isoformat(),
        "actor": actor_of(event.actor),
        "launch": launch_of(launch) if launch is not None else None,
        "data": _data(session, type_, event),
    }


def _capacity_news(session: Session, event: AuditEvent) -> bool:
    """A gap is news when it appears or changes (weeks, queues, FTE short), and when it closes —
    not each time a forecast or plan edit re-checks an unchanged one."""
    previous = session.exec(select(AuditEvent.action, AuditEvent.after).where(
        AuditEvent.launch_id == event.launch_id, AuditEvent.action.in_(CAPACITY_ACTIONS), AuditEvent.id < event.id)
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    if event.action == "capacity.covered":
        return previous is not None and previous[0] == "capacity.gap"
    return previous is None or previous[0] != "capacity.gap" or \
        (previous[1] or {}).get("gaps") != (event.after or {}).get("gaps")


def derive(session: Session, event: AuditEvent, endpoints: list[Endpoint]) -> int:
    """Queue one outbox row per subscribed endpoint; returns how many."""
    type_ = FROM_ACTION.get(event.action)
    if type_ is None or (type_ == "item.overdue" and (event.after or {}).get("level", 1) != 1):
        return 0
    if event.action in CAPACITY_ACTIONS and not _capacity_news(session, event):
        return 0
    wanted = [e for e in endpoints if e.wants(type_)]
    if not wanted:
        return 0
    from bot.services.outbox import enqueue

    launch = session.get(Launch, event.launch_id) if event.launch_id else None
    payload = body(session, type_, event, launch)
    for endpoint in wanted:
        # No dedupe key: the event id is fresh, and delivered rows are pruned after 30 days like notices.
        enqueue(session, KIND, endpoint.id, {"event": payload}, launch_id=event.launch_id, now=event.at)
    return len(wanted)
