"""Plain-text wording shared by review messages, timeline, export and report.

Everything here returns plain text (no mrkdwn, nothing escaped): each
surface escapes for its own format (Slack mrkdwn, Markdown, HTML, CSV).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Item, ItemState, Outcome

OUTCOME_LABELS: dict[str, str] = {  # keyed by Outcome (a str): looked up with stored strings
    Outcome.GO: "Go",
    Outcome.GO_WITH_CONDITIONS: "Go with conditions",
    Outcome.HOLD: "Hold",
    Outcome.RECYCLE: "Recycle",
    Outcome.KILL: "Kill",
}
OUTCOME_ICONS: dict[str, str] = {
    Outcome.GO: "✅", Outcome.GO_WITH_CONDITIONS: "☑️", Outcome.HOLD: "⏸️", Outcome.RECYCLE: "↩️", Outcome.KILL: "🛑",
}
STATE_LABELS = {
    ItemState.OPEN: "open", ItemState.DONE: "done", ItemState.NA: "not applicable",
    ItemState.BLOCKED: "blocked", ItemState.WAIVED: "waived",
}


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, str(outcome).replace("_", " ").capitalize())


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def forecast_text(answer: dict) -> str:
    """`120, 140, 160 extra contacts/week · AHT 6 min · SL 80% in 30 s · shrinkage 30%`."""
    parts = []
    weeks = answer.get("weekly_contacts") or []
    if weeks:
        parts.append(f"{', '.join(_num(w) for w in weeks)} extra contacts/week (weeks 1–{len(weeks)})")
    if answer.get("aht_minutes") is not None:
        parts.append(f"AHT {_num(answer['aht_minutes'])} min")
    if answer.get("sl_percent") is not None:
        sl = f"SL {_num(answer['sl_percent'])}%"
        if answer.get("sl_seconds") is not None:
            sl += f" in {_num(answer['sl_seconds'])} s"
        parts.append(sl)
    if answer.get("shrinkage_percent") is not None:
        parts.append(f"shrinkage {_num(answer['shrinkage_percent'])}%")
    known = {"weekly_contacts", "aht_minutes", "sl_percent", "sl_seconds", "shrinkage_percent", "queues"}
    parts += [f"{k.replace('_', ' ')} {_num(v)}" for k, v in answer.items() if k not in known and v not in (None, "")]
    rows = [r for r in answer.get("queues") or [] if isinstance(r, dict) and r.get("weekly_contacts")]
    if rows:
        parts.append("; ".join(f"{r.get('queue') or r.get('market')}: {', '.join(_num(w) for w in r['weekly_contacts'])}"
                               + (f" (AHT {_num(r['aht_minutes'])} min)" if r.get("aht_minutes") is not None else "")
                               for r in rows))
    return " · ".join(parts)


def plan_text(answer: dict) -> str:
    """WFM's capacity plan: `fr-phone 20, 20, 20, 15, 12, 10 FTE; de-phone …`."""
    rows = [r for r in answer.get("queues") or [] if isinstance(r, dict) and r.get("planned_fte")]
    return "; ".join(f"{r['queue']} {', '.join(_num(v) for v in r['planned_fte'])} FTE" for r in rows) or \
        "no extra FTE planned"


def answer_text(snap: dict) -> str:
    """What the item's answer says, from an item snapshot (see `item_snapshot`)."""
    state = snap.get("state")
    if state == ItemState.WAIVED:
        waiver = snap.get("waiver") or {}
        return f"waived: {waiver.get('reason') or ''}".strip()
    if state in (ItemState.NA, ItemState.BLOCKED):
        return f"{STATE_LABELS[state]}: {snap.get('note') or ''}".strip().rstrip(":")
    answer = snap.get("answer")
    if state != ItemState.DONE and answer in (None, ""):
        return ""
    kind = snap.get("answer_kind")
    if kind == "forecast" and isinstance(answer, dict):
        return forecast_text(answer)
    if kind == "capacity_plan" and isinstance(answer, dict):
        return plan_text(answer)
    if kind == "accuracy" and isinstance(answer, dict) and answer.get("wape") is not None:
        return f"WAPE {answer['wape']:.1%} · bias {answer['bias']:+.1%}"
    if isinstance(answer, dict):
        return " · ".join(f"{k.replace('_', ' ')} {_num(v)}" for k, v in answer.items())
    if isinstance(answer, list):
        return ", ".join(_num(v) for v in answer)
    if answer in (None, True, ""):
        return "done" if state == ItemState.DONE else ""
    text = _num(answer)
    return f"{text} {snap['unit']}" if snap.get("unit") and kind == "number" else text


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_snapshot(item: Item) -> dict:
    """Everything a reviewer saw about an item, as JSON (decision snapshots, export)."""
    return {
        "id": item.id,
        "key": item.item_key,
        "question": item.question,
        "owner_role": item.owner_role,
        "owner": item.owner_id,
        "delegate": item.delegate_id,
        "required": item.required,
        "answer_kind": item.answer_kind,
        "unit": item.unit,
        "state": item.state,
        "answer": item.answer,
        "evidence": item.evidence,
        "note": item.note,
        "answered_by": item.answered_by,
        "answered_at": iso(item.answered_at),
        "due_at": iso(item.due_at),
        "waiver": {"reason": item.waiver_reason, "by": item.waived_by, "expires_at": iso(item.waiver_expires_at)}
        if item.state == ItemState.WAIVED else None,
        "condition_of": item.source_decision_id,
    }


def short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe(text: object) -> str:
    """Make text inert in Slack mrkdwn (for messages services write for a person)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utc_time(value: datetime) -> str:
    return value.strftime("%a %d %b %Y %H:%M UTC")
