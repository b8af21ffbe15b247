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
from bot.capacity.forecast import WEEKS, Demand, demands, iso_week, week_start
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
