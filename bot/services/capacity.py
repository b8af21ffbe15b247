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

from .errors import NotFound
from .readable import safe


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
    plan: dict | None = None        # WFM's capacity-plan answer, when given


def live_forecasts(session: Session, today: date) -> list[ForecastRow]:
    """Answered forecasts (with WFM's plans) of launches that are not cancelled and whose week 6 has
    not ended: one query."""
    since = today - timedelta(days=7 * WEEKS)
    rows = session.exec(
        select(Launch.id, Launch.name, Launch.launch_date, Launch.markets, Item.answer_kind, Item.answer)
        .join(Item, Item.launch_id == Launch.id)
        .where(Item.answer_kind.in_(["forecast", "capacity_plan"]), Item.state == ItemState.DONE,
               Launch.status != LaunchStatus.CANCELLED, Launch.launch_date > since)
        .order_by(Launch.launch_date, Launch.id, Item.id)).all()
    forecasts: dict[int, ForecastRow] = {}
    plans: dict[int, dict] = {}
    for lid, name, day, markets, kind, answer in rows:
        if not isinstance(answer, dict):
            continue
        if kind == "forecast":
            forecasts.setdefault(lid, ForecastRow(lid, f"LR-{lid}", name, day, list(markets or []), answer))
        else:
            plans.setdefault(lid, answer)
    return [ForecastRow(**{**f.__dict__, "plan": plans.get(f.launch_id)}) for f in forecasts.values()]


def portfolio(session: Session, queues: Queues, today: date, *, weeks: int = 8,
              queue: str | None = None) -> list[Cell]:
    """Cells for `weeks` ISO weeks from today's, per queue with any load, in queue then week order.
    A `queue` capacity.yaml does not have is refused (NotFound), naming the queues it has."""
    if queue and queues.configured and queues.get(queue) is None:
        raise NotFound(f"There is no queue '{safe(queue)}'. Queues: {', '.join(queues.by_id)}.")
    horizon = [iso_week(today + timedelta(days=7 * k)) for k in range(weeks)]
    wanted = set(horizon)
    cells: dict[tuple[str, str], Cell] = {}
    for row in live_forecasts(session, today):
        planned = {r.get("queue"): r.get("planned_fte") for r in (row.plan or {}).get("queues") or []
                   if isinstance(r, dict) and r.get("planned_fte")}
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
                if d.queue.id in planned:
                    cell.planned_fte = (cell.planned_fte or 0.0) + float(planned[d.queue.id][n - 1])
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
    plan_waived: str | None = None     # the waiver's reason: a waived plan holds no gate

    def gaps(self) -> list[dict]:
        if self.plan_waived is not None:
            return []
        return [{"queue": q.queue.id, "week": w, "short_fte": round(s, 1)}
                for q in self.queues for w, s in q.short(self.tolerance)]

    def verdict(self) -> str:
        """The one line gate reviews and the status card show."""
        if not self.forecast_answered:
            return "Capacity: no forecast yet"
        if not self.queues:
            return "Capacity: the forecast has no contacts to staff"
        if self.plan_waived is not None:
            return f"Capacity: WFM plan waived ({self.plan_waived[:120]})"
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
        required: list[WeekRequirement | None] = []
        problems: list[str | None] = []
        for n in range(1, WEEKS + 1):
            try:
                required.append(requirement(d, n))
                problems.append(None)
            except CannotStaff as exc:
                required.append(None)
                problems.append(str(exc))
        out.append(QueueWeeks(d.queue, d.weekly_contacts, required, problems,
                              planned.get(d.queue.id, [0.0] * WEEKS) if plan_done else None))
    waived = (plan.waiver_reason or "waived") if plan is not None and plan.state == ItemState.WAIVED else None
    return LaunchCapacity(out, answered, plan_done, tolerance, waived)



# --- the answer modals' rows ------------------------------------------------------------------------

@dataclass
class ModalRow:
    queue_id: str
    label: str
    weeks: str = ""                    # the forecast's contacts, as typed ("8000, 8000, …")
    aht: str = ""
    planned: str = ""                  # WFM's planned FTE, as typed
    required: str = ""                 # "22.9, 22.9, … FTE" from the forecast (plan modal)


@dataclass
class ModalContext:
    markets: list[str]
    rows: list[ModalRow]
    defaults: str                      # what blank target / shrinkage fields fall back to
    summary: str = ""                  # accuracy items: the computed figures


def safe_queues(path: str) -> Queues:
    """capacity.yaml for the bot at run time: an invalid file is logged and default queues are used."""
    import logging

    from bot.capacity.config import CapacityError

    try:
        return queues_from(path)
    except CapacityError as exc:
        logging.getLogger(__name__).error("capacity file %s is invalid, using default queues: %s", path, exc)
        return Queues({}, configured=False)


def _fmt(values) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def modal_context(session: Session, item: Item, launch: Launch, settings) -> ModalContext | None:
    """Rows for the per-queue forecast modal or WFM's plan modal (None for other items)."""
    if item.answer_kind == "accuracy":
        fig = accuracy_figures(session, launch, settings)
        return ModalContext(list(launch.markets), [], "", accuracy_text(fig) if fig else "")
    if item.answer_kind not in (FORECAST, PLAN):
        return None
    queues = safe_queues(settings.capacity_file)
    items = launch_items(session, [launch.id]).get(launch.id, {})
    cap = for_launch(launch, items, queues, settings.capacity_gap_tolerance_percent / 100)
    forecast = items.get(FORECAST)
    by_queue = {d.queue.id: d for d in (demands(forecast.answer, list(launch.markets), queues)
                                        if forecast is not None and isinstance(forecast.answer, dict) else [])}
    plan = items.get(PLAN)
    plan_rows = (plan.answer.get("queues") or []) if plan is not None and isinstance(plan.answer, dict) else []
    planned = {r.get("queue"): r.get("planned_fte") for r in plan_rows}
    required = {q.queue.id: q for q in cap.queues}
    shown = queues.for_markets(list(launch.markets))
    if item.answer_kind == PLAN:     # plan only where the forecast sends contacts (or every queue before it)
        shown = [q for q in shown if q.id in required] or shown
    rows = []
    for q in shown:
        d = by_queue.get(q.id)
        req = required.get(q.id)
        rows.append(ModalRow(
            q.id, f"{q.id} ({'/'.join(q.markets[:3])} {q.channel})",
            weeks=_fmt(int(w) if float(w).is_integer() else w for w in d.weekly_contacts) if d else "",
            aht=f"{d.aht_seconds / 60:g}" if d else "",
            planned=_fmt(planned[q.id]) if planned.get(q.id) else "",
            required=(_fmt(round(r.fte, 1) if r else "?" for r in req.required) + " FTE") if req else ""))
    sample = shown[0] if shown else None
    defaults = (f"Leave empty for each queue's own: e.g. {sample.id} {sample.sl_target:.0%} in {sample.sl_seconds:g} s, "
                f"shrinkage {sample.shrinkage:.0%}." if sample else "")
    return ModalContext(list(launch.markets), rows, defaults)


# --- what a forecast or plan change does, and the Go rule ------------------------------------------

def launch_capacity(session: Session, launch: Launch, settings) -> LaunchCapacity:
    items = launch_items(session, [launch.id]).get(launch.id, {})
    return for_launch(launch, items, safe_queues(settings.capacity_file),
                      settings.capacity_gap_tolerance_percent / 100)


def requirement_lines(cap: LaunchCapacity) -> list[str]:
    """Per queue: required FTE weeks 1–6, peak agents, service level (and Erlang A abandonment)."""
    lines = []
    for q in cap.queues:
        fte = ", ".join(f"{r.fte:.1f}" if r else "–" for r in q.required)
        live = [r for r in q.required if r and r.service_level is not None]
        extra = ""
        if live:
            extra = (f" · peak {max(r.peak_agents for r in live)} agents · SL ≥ "
                     f"{min(r.service_level for r in live):.0%}")
            abandon = [r.abandonment for r in live if r.abandonment is not None]
            if abandon:
                extra += f" · Erlang A abandonment ≤ {max(abandon):.1%}"
        elif any(q.required):
            extra = " · workload model (async)"
        problem = next((p for p in q.problems if p), None)
        lines.append(f"• {_queue_label(q.queue)} (`{q.queue.id}`): {fte} FTE{extra}"
                     + (f" · ⚠️ {problem}" if problem else ""))
    return lines


def item_changed(session: Session, item: Item, launch: Launch, *, actor: str, action: str, now, settings) -> None:
    """After a forecast or capacity-plan answer changes: the gap is re-checked and audited, and
    WFM hears about a new or changed forecast with the staff it needs."""
    if item.answer_kind not in (FORECAST, PLAN):
        return
    from . import access, audit, changes, outbox
    from .changes import PromptChanged

    cap = launch_capacity(session, launch, settings)
    if cap.plan_answered or cap.plan_waived:
        gaps = cap.gaps()
        audit.record(session, actor=actor, action="capacity.gap" if gaps else "capacity.covered", entity="launch",
                     entity_id=launch.id, launch_id=launch.id, after={"gaps": gaps, "verdict": cap.verdict()},
                     at=now)
    if item.answer_kind != FORECAST or item.state != ItemState.DONE:
        return
    forecaster_owns(session, launch, actor, now=now)
    plan = launch_items(session, [launch.id]).get(launch.id, {}).get(PLAN)
    recipients = [plan.owner_id] if plan is not None and plan.owner_id else access.role_holders(session, launch.id,
                                                                                               "wfm")
    due = f", due {plan.due_at.date().isoformat()}" if plan is not None and plan.is_open else ""
    text = (f"📈 *{launch.key} · {safe(launch.name)}*: the contact forecast was "
            f"{'changed' if action == 'item.edited' else 'entered'} by <@{actor}>. "
            f"Extra FTE it needs, weeks 1–6:\n" + "\n".join(requirement_lines(cap))
            + f"\n{cap.verdict()}."
            + (f" Enter the planned FTE per queue in your capacity-plan item{due}." if plan is not None else ""))
    for person in dict.fromkeys(r for r in recipients if r and r != actor):
        outbox.enqueue(session, outbox.Kind.TEXT, person, {"text": text[:3000]}, launch_id=launch.id, now=now)
    if plan is not None and plan.owner_id:      # the prompt shows the requirement next to the plan owed
        changes.record(session, PromptChanged(launch.id, plan.owner_id), now=now)


GO_REFUSED = ("{verdict}. While WFM's plan falls short, this gate can be decided *Go with conditions* "
              "(say how the gap is closed) or after a readiness lead waives the capacity-plan item — not plain Go.")


def check_go(session: Session, launch: Launch, gate, outcome: str, settings) -> None:
    """Plain Go is refused on a pre-launch gate at or after the capacity plan's gate while the plan falls short."""
    from models import Outcome

    from .errors import FieldErrors

    if outcome != Outcome.GO or gate.offset_business_days > 0:
        return
    cap = launch_capacity(session, launch, settings)
    plan = launch_items(session, [launch.id]).get(launch.id, {}).get(PLAN)
    if plan is None or not cap.gaps():
        return
    from models import Gate

    plan_gate = session.get(Gate, plan.gate_id)
    if plan_gate is not None and gate.position >= plan_gate.position:
        raise FieldErrors({"reason": GO_REFUSED.format(verdict=cap.verdict())})


def verdict_for(session: Session, launch: Launch, settings) -> str | None:
    """The status card's and gate review's one line; None for a launch without forecast or plan items."""
    items = launch_items(session, [launch.id]).get(launch.id, {})
    if not items:
        return None
    cap = for_launch(launch, items, safe_queues(settings.capacity_file), settings.capacity_gap_tolerance_percent / 100)
    line = cap.verdict()
    return ("⚠️ " if cap.gaps() else "") + line


# --- forecast accuracy: computed, and owned by the forecaster ---------------------------------------

ACCURACY = "accuracy"
FORECASTER_ITEMS = ("forecast-variance",)     # item keys that also follow the forecaster


def accuracy_figures(session: Session, launch: Launch, settings) -> dict | None:
    """The launch's accuracy so far as stored JSON: None until there are actuals."""
    from .actuals import accuracies

    acc = accuracies(session, [launch.id], safe_queues(settings.capacity_file)).get(launch.id)
    if acc is None or acc.total.wape is None:
        return None
    return {"wape": round(acc.total.wape, 4), "bias": round(acc.total.bias, 4),
            "weeks": [{"week": w.week, "forecast": w.forecast, "actual": w.actual,
                       "error": None if w.error is None else round(w.error, 4)} for w in acc.total.weeks]}


def accuracy_text(fig: dict) -> str:
    weeks = ", ".join(f"w{w['week']} {w['error']:+.0%}" if w["error"] is not None else f"w{w['week']} n/a"
                      for w in fig["weeks"])
    bias = fig["bias"]
    direction = "unbiased" if abs(bias) < 0.02 else "over-forecast" if bias > 0 else "under-forecast"
    return f"WAPE {fig['wape']:.1%} · bias {bias:+.1%} ({direction}) · {weeks}"


def computed_answer(session: Session, item: Item, launch: Launch, parsed, settings):
    """An accuracy item stores what launchgate computed, never a typed figure; none before actuals exist."""
    if item.answer_kind != ACCURACY or parsed.state != ItemState.DONE:
        return parsed
    from .errors import Conflict

    fig = accuracy_figures(session, launch, settings)
    if fig is None:
        raise Conflict(f"{launch.key} has no actual contacts yet: WFM enters them each Monday after a launch week "
                       "(or `launchgate actuals import`), and the accuracy is computed from them.")
    parsed.value = fig
    return parsed


def forecaster_owns(session: Session, launch: Launch, forecaster: str, *, now) -> None:
    """The person who answered the forecast owns its accuracy review and the variance explanation."""
    from . import audit

    for item in session.exec(select(Item).where(Item.launch_id == launch.id)
                             .where((Item.answer_kind == ACCURACY) | Item.item_key.in_(FORECASTER_ITEMS))):
        if item.is_open and item.owner_id != forecaster:
            before = item.owner_id
            item.owner_id = forecaster
            session.add(item)
            audit.record(session, actor=forecaster, action="item.owner_forecaster", entity="item", entity_id=item.id,
                         launch_id=launch.id, before={"owner": before}, after={"owner": forecaster}, at=now)


def plan_note(session: Session, launch: Launch, user_id: str, settings) -> str | None:
    """For WFM's prompt: what the forecast needs, next to the plan they owe (None when not theirs or no forecast)."""
    items = launch_items(session, [launch.id]).get(launch.id, {})
    plan = items.get(PLAN)
    if plan is None or plan.owner_id != user_id:
        return None
    cap = for_launch(launch, items, safe_queues(settings.capacity_file), settings.capacity_gap_tolerance_percent / 100)
    if not cap.forecast_answered:
        return None
    return "📈 *The forecast needs* (extra FTE, weeks 1–6):\n" + "\n".join(requirement_lines(cap)) + \
        f"\n{'⚠️ ' if cap.gaps() else ''}{cap.verdict()}"
