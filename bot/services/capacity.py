"""Capacity across launches: every live launch's forecast stacked per queue and ISO week.

One query reads every forecast of every launch whose six weeks are not over; the
arithmetic (bot/capacity) runs once per queue and week on the stacked contacts, so the
cost does not grow with a query per launch. Contacts are stacked *before* Erlang C:
two launches on one queue need fewer agents together than apart (docs/capacity.md).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from sqlmodel import Session, select

from bot.capacity.config import Queues, load_queues
from bot.capacity.erlang import CannotStaff
from bot.capacity.forecast import WEEKS, Demand, demands, iso_week, requirement, week_start
from bot.capacity.staffing import QueueModel, WeekRequirement, weekly_requirement
from models import Item, ItemState, Launch, LaunchStatus


def queues_from(path: str) -> Queues:
    """capacity.yaml, re-read when the file changes (a missing file gives default queues)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        stamp = None
    return _cached(path, stamp)


@lru_cache(maxsize=4)
def _cached(path: str, stamp: int | None) -> Queues:
    return load_queues(path)


@dataclass
class Contribution:
    launch_key: str
    launch_name: str
    week: int            # 1–6 after that launch's date
    contacts: float


@dataclass
class Cell:
    """One queue in one ISO week, all launches together."""

    queue: QueueModel
    iso_week: str
    contributions: list[Contribution] = field(default_factory=list)
    contacts: float = 0.0
    work_seconds: float = 0.0
    sl_target: float | None = None
    sl_seconds: float | None = None
    shrink_weighted: float = 0.0
    required: WeekRequirement | None = None
    problem: str | None = None
    planned_fte: float | None = None

    @property
    def launches(self) -> int:
        return len({c.launch_key for c in self.contributions})

    @property
    def collision(self) -> bool:
        return self.launches > 1

    @property
    def gap_fte(self) -> float | None:
        if self.required is None or self.planned_fte is None:
            return None
        return self.required.fte - self.planned_fte


@dataclass(frozen=True)
class ForecastRow:
    launch_id: int
    launch_key: str
    launch_name: str
    launch_date: date
    markets: list[str]
    answer: dict


def live_forecasts(session: Session, today: date) -> list[ForecastRow]:
    """Answered forecasts of launches that are not cancelled and whose week 6 has not ended: one query."""
    since = today - timedelta(days=7 * WEEKS)
    rows = session.exec(
        select(Launch.id, Launch.name, Launch.launch_date, Launch.markets, Item.answer)
        .join(Item, Item.launch_id == Launch.id)
        .where(Item.answer_kind == "forecast", Item.state == ItemState.DONE,
               Launch.status != LaunchStatus.CANCELLED, Launch.launch_date > since)
        .order_by(Launch.launch_date, Launch.id)).all()
    return [ForecastRow(lid, f"LR-{lid}", name, day, list(markets or []), answer)
            for lid, name, day, markets, answer in rows if isinstance(answer, dict)]


def portfolio(session: Session, queues: Queues, today: date, *, weeks: int = 8,
              queue: str | None = None) -> list[Cell]:
    """Cells for `weeks` ISO weeks from today's, per queue with any load, in queue then week order."""
    horizon = [iso_week(today + timedelta(days=7 * k)) for k in range(weeks)]
    wanted = set(horizon)
    cells: dict[tuple[str, str], Cell] = {}
    for row in live_forecasts(session, today):
        for d in demands(row.answer, row.markets, queues):
            if queue and d.queue.id != queue:
                continue
            for n in range(1, WEEKS + 1):
                week = iso_week(week_start(row.launch_date, n))
                contacts = d.weekly_contacts[n - 1]
                if week not in wanted or contacts <= 0:
                    continue
                cell = cells.setdefault((d.queue.id, week), Cell(d.queue, week))
                _add(cell, d, contacts)
                cell.contributions.append(Contribution(row.launch_key, row.launch_name, n, contacts))
    for cell in cells.values():
        _compute(cell)
    order = {w: i for i, w in enumerate(horizon)}
    return sorted(cells.values(), key=lambda c: (c.queue.id, order[c.iso_week]))


def _add(cell: Cell, d: Demand, contacts: float) -> None:
    cell.contacts += contacts
    cell.work_seconds += contacts * d.aht_seconds
    cell.shrink_weighted += contacts * (d.queue.shrinkage if d.shrinkage is None else d.shrinkage)
    # the strictest target any launch asked for holds for the stacked load
    if d.sl_target is not None:
        cell.sl_target = max(cell.sl_target or 0.0, d.sl_target)
    if d.sl_seconds is not None:
        cell.sl_seconds = min(cell.sl_seconds or d.sl_seconds, d.sl_seconds)


def _compute(cell: Cell) -> None:
    try:
        cell.required = weekly_requirement(
            cell.queue, cell.contacts, cell.work_seconds / cell.contacts, sl_target=cell.sl_target,
            sl_seconds=cell.sl_seconds, shrinkage=cell.shrink_weighted / cell.contacts)
    except CannotStaff as exc:
        cell.problem = f"cannot be staffed: {exc}"


# --- one launch: required FTE, WFM's plan, the gap ------------------------------------------------

FORECAST, PLAN = "forecast", "capacity_plan"


@dataclass
class QueueWeeks:
    """One queue of one launch: required FTE per week 1–6, WFM's plan, and the shortfall."""

    queue: QueueModel
    contacts: tuple[float, ...]
    required: list[WeekRequirement | None]
    problems: list[str | None]
    planned: list[float] | None = None

    def short(self, tolerance: float) -> list[tuple[int, float]]:
        """(week, FTE short) where the plan falls below required × (1 − tolerance)."""
        if self.planned is None:
            return []
        out = []
        for n, (req, plan) in enumerate(zip(self.required, self.planned), 1):
            if req is not None and req.fte > 0 and plan < req.fte * (1 - tolerance):
                out.append((n, req.fte - plan))
        return out


@dataclass
class LaunchCapacity:
    queues: list[QueueWeeks]
    forecast_answered: bool
    plan_answered: bool
    tolerance: float

    def gaps(self) -> list[dict]:
        return [{"queue": q.queue.id, "week": w, "short_fte": round(s, 1)}
                for q in self.queues for w, s in q.short(self.tolerance)]

    def verdict(self) -> str:
        """The one line gate reviews and the status card show."""
        if not self.forecast_answered:
            return "Capacity: no forecast yet"
        if not self.queues:
            return "Capacity: the forecast has no contacts to staff"
        if not self.plan_answered:
            peak = max(((r.fte, q.queue.id) for q in self.queues for r in q.required if r), default=(0.0, ""))
            return f"Capacity: forecast in, WFM plan pending (needs up to {peak[0]:.1f} FTE, {peak[1]})"
        gaps = self.gaps()
        if not gaps:
            weeks = {n for q in self.queues for n, r in enumerate(q.required, 1) if r and r.fte > 0}
            return f"Capacity: WFM plan covers {len(weeks)}/{len(weeks)} weeks"
        parts = []
        for q in self.queues:
            short = q.short(self.tolerance)
            if short:
                parts.append(f"short {max(s for _, s in short):.1f} FTE in {_weeks_text([w for w, _ in short])}, "
                             f"{_queue_label(q.queue)}")
        return "Capacity: " + "; ".join(parts)


def _weeks_text(weeks: list[int]) -> str:
    runs, start = [], None
    for n in weeks + [None]:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            runs.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = n
    return ("week " if len(weeks) == 1 else "weeks ") + ", ".join(runs)


def _queue_label(q: QueueModel) -> str:
    return f"{'/'.join(q.markets[:2])} {q.channel}" if q.markets else q.id


def launch_items(session: Session, launch_ids: list[int]) -> dict[int, dict[str, Item]]:
    """The forecast and capacity-plan items of these launches, in one query."""
    out: dict[int, dict[str, Item]] = {}
    if not launch_ids:
        return out
    for item in session.exec(select(Item).where(Item.launch_id.in_(launch_ids),
                                                Item.answer_kind.in_([FORECAST, PLAN])).order_by(Item.id)):
        out.setdefault(item.launch_id, {}).setdefault(item.answer_kind, item)
    return out


def for_launch(launch: Launch, items: dict[str, Item], queues: Queues, tolerance: float) -> LaunchCapacity:
    forecast, plan = items.get(FORECAST), items.get(PLAN)
    answered = forecast is not None and forecast.state == ItemState.DONE and isinstance(forecast.answer, dict)
    planned = {}
    plan_done = plan is not None and plan.state == ItemState.DONE and isinstance(plan.answer, dict)
    if plan_done:
        planned = {r["queue"]: [float(x) for x in r["planned_fte"]] for r in plan.answer.get("queues") or []
                   if r.get("planned_fte")}
    out = []
    for d in (demands(forecast.answer, list(launch.markets), queues) if answered else []):
        required, problems = [], []
        for n in range(1, WEEKS + 1):
            try:
                required.append(requirement(d, n))
                problems.append(None)
            except CannotStaff as exc:
                required.append(None)
                problems.append(str(exc))
        out.append(QueueWeeks(d.queue, d.weekly_contacts, required, problems,
                              planned.get(d.queue.id, [0.0] * WEEKS) if plan_done else None))
    return LaunchCapacity(out, answered, plan_done, tolerance)

