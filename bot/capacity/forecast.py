"""A forecast answer → extra contacts per queue and week, and the staff they need.

Two stored shapes are read (the item's `answer` JSON):

* single-number (before issue 13): {"weekly_contacts": [6 numbers], "aht_minutes", "sl_percent",
  "sl_seconds", "shrinkage_percent"} for the whole launch. It is split evenly over the launch's
  markets (remainder to the first), each market's share going to its first queue in capacity.yaml;
  the answer's target and shrinkage override the queue's.
* per queue: the same keys plus "queues": [{"queue": "fr-phone" | None, "market": "FR" | None,
  "weekly_contacts": [...], "aht_minutes", optional "sl_percent", "sl_seconds", "shrinkage_percent"}].
  A row naming a market instead of a queue goes to that market's first queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .config import Queues
from .erlang import CannotStaff
from .staffing import QueueModel, WeekRequirement, weekly_requirement

WEEKS = 6


@dataclass(frozen=True)
class Demand:
    """Extra contacts one launch sends to one queue, weeks 1–6 after launch."""

    queue: QueueModel
    weekly_contacts: tuple[float, ...]
    aht_seconds: float
    sl_target: float | None = None        # overrides (0–1)
    sl_seconds: float | None = None
    shrinkage: float | None = None        # 0–1


def _overrides(row: dict) -> dict:
    out = {}
    if row.get("sl_percent") is not None:
        out["sl_target"] = float(row["sl_percent"]) / 100
    if row.get("sl_seconds") is not None:
        out["sl_seconds"] = float(row["sl_seconds"])
    if row.get("shrinkage_percent") is not None:
        out["shrinkage"] = float(row["shrinkage_percent"]) / 100
    return out


def _weeks(row: dict) -> tuple[float, ...]:
    weeks = [float(w or 0) for w in (row.get("weekly_contacts") or [])][:WEEKS]
    return tuple(weeks + [0.0] * (WEEKS - len(weeks)))


def demands(answer: dict | None, markets: list[str], queues: Queues) -> list[Demand]:
    """The answer's extra contacts per queue (rows for the same queue are added up)."""
    if not isinstance(answer, dict) or not answer.get("aht_minutes") and not answer.get("queues"):
        return []
    first = {}
    for m in markets:
        candidates = queues.for_markets([m])
        live = [q for q in candidates if q.live and m.upper() in q.markets]
        first[m.upper()] = (live or [q for q in candidates if m.upper() in q.markets] or candidates)[0]
    rows: list[tuple[QueueModel, dict]] = []
    if answer.get("queues"):
        for row in answer["queues"]:
            q = queues.get(row["queue"]) if row.get("queue") else first.get(str(row.get("market") or "").upper())
            if q is not None:
                rows.append((q, row))
    elif markets:
        total = _weeks(answer)
        share = [[int(w) // len(markets) for w in total] for _ in markets]
        for k, w in enumerate(total):
            share[0][k] += w - sum(s[k] for s in share)
        rows = [(first[m.upper()], {**answer, "weekly_contacts": s}) for m, s in zip(markets, share)]
    merged: dict[str, Demand] = {}
    for q, row in rows:
        aht = float(row.get("aht_minutes") or answer.get("aht_minutes") or 0) * 60
        if aht <= 0:
            continue
        d = Demand(q, _weeks(row), aht, **{**_overrides(answer), **_overrides(row)})
        if q.id in merged:      # two rows on one queue: add contacts, weight handle time by contacts
            old = merged[q.id]
            weeks = tuple(a + b for a, b in zip(old.weekly_contacts, d.weekly_contacts))
            work = sum(old.weekly_contacts) * old.aht_seconds + sum(d.weekly_contacts) * d.aht_seconds
            d = Demand(q, weeks, work / sum(weeks) if sum(weeks) else d.aht_seconds,
                       d.sl_target, d.sl_seconds, d.shrinkage)
        merged[q.id] = d
    return list(merged.values())


def requirement(d: Demand, week: int) -> WeekRequirement:
    """Week `week` (1–6) of one demand. CannotStaff propagates (an async target no staffing meets)."""
    return weekly_requirement(d.queue, d.weekly_contacts[week - 1], d.aht_seconds,
                              sl_target=d.sl_target, sl_seconds=d.sl_seconds, shrinkage=d.shrinkage)


def week_start(launch_date: date, week: int) -> date:
    """Week 1 is the seven days from the launch date; week n starts 7·(n−1) days later."""
    return launch_date + timedelta(days=7 * (week - 1))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


__all__ = ["CannotStaff", "Demand", "WEEKS", "demands", "iso_week", "requirement", "week_start"]
