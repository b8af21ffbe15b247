"""The launch's audit trail, worded for people.

`entries` turns audit events into phrases made of text and user mentions,
so Slack can render `<@U…>`, the report real names and the CSV plain ids.
Actions written by other services that are not known here still read
sensibly ("item reassigned · Is the brief shared?").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models import PHRASES, AuditAction, AuditEvent, Gate, GateDecision, Item, Launch

from . import gates
from .readable import answer_text, outcome_label, short

SYSTEM = gates.SYSTEM


@dataclass(frozen=True)
class Mention:
    user_id: str


Part = str | Mention


@dataclass
class Entry:
    at: datetime
    actor: str
    action: str
    parts: list[Part]
    event: AuditEvent

    def plain(self, name=lambda u: u) -> str:
        """The phrase with mentions written by `name(user_id)`."""
        return "".join(p if isinstance(p, str) else name(p.user_id) for p in self.parts)


HIGHLIGHTS = ("launch.", "gate.decided", "vote.cast", "item.waived", "item.waiver_expired", "item.waiver_revoked",
              "item.sent_back", "item.created", "refused.", "gate.review_opened")


class Names:
    """Gate and item names of one launch, loaded once."""

    def __init__(self, session: Session, launch: Launch):
        self.gates = {g.id: g for g in session.exec(select(Gate).where(Gate.launch_id == launch.id))}
        self.items = {i.id: i for i in session.exec(select(Item).where(Item.launch_id == launch.id))}

    def gate(self, gate_id: int | None) -> str:
        gate = self.gates.get(gate_id)
        return gate.name if gate else f"gate {gate_id}"

    def item(self, item_id: int | None) -> str:
        item = self.items.get(item_id)
        return f"“{short(item.question, 70)}”" if item else f"item {item_id}"


def events(session: Session, launch: Launch, limit: int | None = None, newest_first: bool = True,
           highlights: bool = False) -> list[AuditEvent]:
    order = (AuditEvent.at.desc(), AuditEvent.id.desc()) if newest_first else (AuditEvent.at, AuditEvent.id)
    stmt = select(AuditEvent).where(AuditEvent.launch_id == launch.id).order_by(*order)
    rows = list(session.exec(stmt))
    if highlights:
        rows = [e for e in rows if e.action.startswith(HIGHLIGHTS)]
    return rows[:limit] if limit else rows


def entries(session: Session, launch: Launch, limit: int | None = None, newest_first: bool = True,
            highlights: bool = False) -> list[Entry]:
    names = Names(session, launch)
    return [Entry(e.at, e.actor, e.action, describe(e, names), e)
            for e in events(session, launch, limit, newest_first, highlights)]


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def describe(event: AuditEvent, names: Names) -> list[Part]:
    """`voted Go on Planning`, `waived “Is the FAQ…”: reason` — without the actor.

    Plain phrases come from `models.PHRASES` (next to the `AuditAction` enum); actions
    whose wording needs their before/after values are worded by `WORDING` below."""
    a, note = event.action, event.note
    entity = names.gate(event.entity_id) if event.entity == "gate" else \
        names.item(event.entity_id) if event.entity == "item" else ""
    if a.startswith("refused."):
        return [f"was refused ({a.removeprefix('refused.').replace('_', ' ')}"
                + (f" on {entity}" if entity else "") + "): ", *note_parts(note)]
    if a in ANSWER_ACTIONS:
        return _item_change(event, entity, names)
    wording = WORDING.get(a)
    parts = wording(event, entity, names) if wording else None
    if parts is not None:
        return parts
    if a in PHRASES:
        return [PHRASES[AuditAction(a)].format(item=entity, gate=entity, note=f": {note}" if note else "",
                                               reason=note or "an item was reopened")]
    return _generic(event, entity, names)


def _vote(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    after = event.after
    parts: list[Part] = [f"voted {outcome_label(_get(after, 'outcome'))} on {entity}"]
    return parts + ([f": {short(_get(after, 'reason'), 200)}"] if _get(after, "reason") else [])


def _review_opened(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    return [f"opened the review of {entity} (round {_get(event.after, 'round')})"
            + (f" — {event.note}" if event.note else "")]


def _waived(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    after = event.after
    until = _get(after, "waiver_expires_at") or _get(after, "expires_at")  # older events: expires_at, reason
    reason = _get(after, "waiver_reason") or _get(after, "reason")
    return [f"waived {entity}" + (f" (expires {until[:16].replace('T', ' ')} UTC)" if until else "") + f": {reason}"]


def _created(event: AuditEvent, entity: str, names: Names) -> list[Part] | None:
    if event.note != "condition":
        return None
    after = event.after
    return [f"added condition {entity} for ", Mention(_get(after, "owner")), f", due {str(_get(after, 'due_at'))[:10]}"]


def _reassigned(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    return [f"reassigned {entity} from ", Mention(_get(event.before, "owner")), " to ",
            Mention(_get(event.after, "owner"))]


def _delegated(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    if not _get(event.after, "delegate"):
        return [f"removed the delegate of {entity} (", Mention(_get(event.before, "delegate")), ")"]
    return [f"delegated {entity} to ", Mention(_get(event.after, "delegate"))]


def _nudged(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    after = event.after
    count, overdue = len(_get(after, "items") or []), _get(after, "overdue")
    return ["nudged ", Mention(_get(after, "to")), f" about {count} item{'s' if count != 1 else ''}"
            + (f", {overdue} overdue" if overdue else "")]


def _escalated(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    after = event.after
    count = len(_get(after, "items") or [])
    return [f"escalated {count} overdue item{'s' if count != 1 else ''} to ", Mention(_get(after, "to")),
            f" (level {_get(after, 'level')})"]


def _date_changed(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    before, after, note = event.before, event.after, event.note
    return [f"moved the launch date from {str(_get(before, 'launch_date'))[:10]} to "
            f"{str(_get(after, 'launch_date'))[:10]} ({_get(after, 'items_moved') or 0} due dates moved)"
            + (f": {note}" if note else "")]


def _snoozed(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    count = len(_get(event.after, "items") or {})
    return [f"snoozed {count} reminder{'s' if count != 1 else ''} ({_get(event.after, 'choice')})"]


def _channel_created(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    return [f"created the launch channel #{_get(event.after, 'name') or ''}".rstrip(" #")]


def _decided(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    after = event.after or {}
    parts: list[Part] = [f"decided {entity}: {outcome_label(after.get('outcome'))}"]
    if after.get("with"):
        parts.append(" (fast path, with the gate before)")
    votes = after.get("votes") or []
    if len(votes) > 1:
        parts.append(f" ({len(votes)} votes)")
    if after.get("reason"):
        parts.append(f" — {short(after['reason'], 200)}")
    for cond in after.get("conditions") or []:
        parts += [f"; condition: {short(cond.get('text'), 80)} (", Mention(cond.get("owner")),
                  f", due {cond.get('due')})"]
    return parts


ANSWER_ACTIONS = {AuditAction.ITEM_ANSWERED, AuditAction.ITEM_EDITED, AuditAction.ITEM_MARKED_NA,
                  AuditAction.ITEM_MARKED_BLOCKED, AuditAction.ITEM_REOPENED}


def _item_change(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    """The answer services' events: what the item now says."""
    after = event.after if isinstance(event.after, dict) else {}
    item = names.items.get(event.entity_id)
    if event.action in ("item.marked_na", "item.marked_blocked"):
        detail = after.get("note")
    elif event.action == "item.reopened":
        detail = None
    else:
        detail = answer_text({**after, "answer_kind": item.answer_kind if item else None,
                              "unit": item.unit if item else None})
    return [PHRASES[AuditAction(event.action)].format(item=entity) + (f": {short(detail, 200)}" if detail else "")]


def _generic(event: AuditEvent, entity: str, names: Names) -> list[Part]:
    """Item and nudge events from the other services: say what changed."""
    a = event.action
    verb = a.split(".", 1)[-1].replace("_", " ")
    noun = a.split(".", 1)[0]
    parts: list[Part] = [f"{verb} {entity}".strip() if noun in ("item", "gate") else f"{noun} {verb}"
                         + (f" · {entity}" if entity else "")]
    before, after = event.before if isinstance(event.before, dict) else {}, \
        event.after if isinstance(event.after, dict) else {}
    if noun == "item" and "state" in after and after.get("state") != before.get("state"):
        answer = answer_text({**after, "answer_kind": names.items.get(event.entity_id).answer_kind
                              if event.entity_id in names.items else None})
        if answer:
            parts.append(f": {short(answer, 200)}")
    for key in ("owner", "owner_id", "user", "to"):
        if isinstance(after.get(key), str) and after[key][:1] in ("U", "W") and after[key] != before.get(key):
            if isinstance(before.get(key), str):
                parts += [" from ", Mention(before[key])]
            parts += [" to ", Mention(after[key])]
            break
    for key in ("launch_date", "due_at"):
        if key in after and key in before and after[key] != before[key]:
            parts.append(f": {key.replace('_', ' ')} {str(before[key])[:10]} → {str(after[key])[:10]}")
    if event.note:
        parts += [" — ", *note_parts(short(event.note, 300))]
    return parts


WORDING = {
    AuditAction.VOTE_CAST: _vote, AuditAction.GATE_DECIDED: _decided, AuditAction.GATE_REVIEW_OPENED: _review_opened,
    AuditAction.ITEM_WAIVED: _waived, AuditAction.ITEM_CREATED: _created, AuditAction.ITEM_REASSIGNED: _reassigned,
    AuditAction.ITEM_DELEGATED: _delegated, AuditAction.NUDGE_SENT: _nudged, AuditAction.ESCALATION_SENT: _escalated,
    AuditAction.LAUNCH_DATE_CHANGED: _date_changed, AuditAction.SNOOZE_SET: _snoozed,
    AuditAction.LAUNCH_CHANNEL_CREATED: _channel_created,
}

MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def note_parts(note: str | None) -> list[Part]:
    """Notes written for Slack (mrkdwn, escaped) back to plain text and mentions."""
    out: list[Part] = []
    for n, piece in enumerate(MENTION.split(note or "")):
        if n % 2:
            out.append(Mention(piece))
        elif piece:
            out.append(piece.replace("*", "").replace("`", "").replace("&lt;", "<").replace("&gt;", ">")
                       .replace("&amp;", "&"))
    return out


def decisions_by_gate(session: Session, launch: Launch) -> dict[int, list[GateDecision]]:
    out: dict[int, list[GateDecision]] = {}
    for decision in gates.decisions_of(session, launch.id):
        out.setdefault(decision.gate_id, []).append(decision)
    return out


def count(session: Session, launch: Launch) -> int:
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.launch_id == launch.id)).one()
