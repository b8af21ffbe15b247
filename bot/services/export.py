"""`launchgate export KEY --format csv|json`: decisions and the full timeline.

JSON is the whole record (launch, gates with every decision — votes, reason,
conditions, item snapshot — and every audit event, oldest first). CSV is one
row per audit event with a header row, for a spreadsheet; decisions are
events too (`gate.decided`, with the votes in `after`). Cells that a
spreadsheet would run as a formula (=, +, -, @) are prefixed with `'`.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session

from . import gates, launches, timeline
from .errors import ServiceError
from .readable import iso

FORMATS = ("csv", "json")
CSV_COLUMNS = ["at", "launch", "actor", "action", "entity", "entity_id", "summary", "before", "after", "note"]


def export_launch(session: Session, key: str, fmt: str, viewer: str | None = None) -> str:
    if fmt not in FORMATS:
        raise ServiceError(f"Unknown format {fmt!r}; use csv or json.")
    launch = launches.get_launch(session, key, viewer=viewer)
    return _csv(session, launch) if fmt == "csv" else json.dumps(record(session, launch), indent=2,
                                                                 ensure_ascii=False) + "\n"


def record(session: Session, launch) -> dict[str, Any]:
    decisions = timeline.decisions_by_gate(session, launch)
    return {
        "format": "launchgate-export/1",
        "launch": {**launches.launch_snapshot(launch), "key": launch.key, "channel": launch.channel_id,
                   "created_at": iso(launch.created_at)},
        "gates": [
            {
                "key": g.gate_key, "name": g.name, "position": g.position, "status": g.status,
                "due_at": iso(g.due_at), "approver_role": g.approver_role, "quorum": g.quorum,
                "fast_path": g.fast_path, "allow_self_approval": g.allow_self_approval,
                "review_round": g.review_round, "decided_at": iso(g.decided_at),
                "decisions": [_decision(d) for d in decisions.get(g.id, [])],
            }
            for g in gates.gates_of(session, launch.id)
        ],
        "timeline": [_event(e) for e in timeline.entries(session, launch, newest_first=False)],
    }


def _decision(d) -> dict[str, Any]:
    return {"id": d.id, "round": d.round, "outcome": d.outcome, "decided_at": iso(d.decided_at),
            "approvers": d.approvers, "votes": d.votes, "reason": d.reason, "conditions": d.conditions,
            "decided_with": d.decided_with_id, "snapshot": d.snapshot}


def _event(entry: timeline.Entry) -> dict[str, Any]:
    e = entry.event
    return {"at": iso(e.at), "actor": e.actor, "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
            "summary": entry.plain(), "before": e.before, "after": e.after, "note": e.note}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(session: Session, launch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in timeline.entries(session, launch, newest_first=False):
        e = entry.event
        writer.writerow([iso(e.at), launch.key, _cell(e.actor), e.action, e.entity, e.entity_id or "",
                         _cell(entry.plain()), _cell(e.before), _cell(e.after), _cell(e.note)])
    return out.getvalue()
