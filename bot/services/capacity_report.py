"""The report's capacity section: required vs planned FTE, forecast vs actual, the forecaster's record."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlmodel import Session

from bot.capacity import svg
from models import Launch

from . import actuals, capacity

WEEK_LABELS = [f"week {n}" for n in range(1, 7)]


@dataclass
class QueueRow:
    queue: str
    label: str
    contacts: list[float]
    required: list[float | None]
    planned: list[float] | None
    short: list[float | None]


@dataclass
class CapacitySection:
    verdict: str
    queues: list[QueueRow]
    required: list[float]
    planned: list[float] | None
    forecast: list[float]
    actual: list[float | None]
    wape: float | None
    bias: float | None
    direction: str
    forecaster: str | None
    record: str | None
    fte_svg: Markup = field(default_factory=lambda: Markup(""))
    accuracy_svg: Markup = field(default_factory=lambda: Markup(""))


def build(session: Session, launch: Launch, settings, who) -> CapacitySection | None:
    items = capacity.launch_items(session, [launch.id]).get(launch.id, {})
    if not items:
        return None
    queues = capacity.safe_queues(settings.capacity_file)
    tolerance = settings.capacity_gap_tolerance_percent / 100
    cap = capacity.for_launch(launch, items, queues, tolerance)
    rows = []
    for q in cap.queues:
        req = [r.fte if r else None for r in q.required]
        short = [max(0.0, r - p) if r is not None and q.planned is not None else None
                 for r, p in zip(req, q.planned or [0.0] * 6)]
        rows.append(QueueRow(q.queue.id, f"{'/'.join(q.queue.markets[:3])} {q.queue.channel}", list(q.contacts), req,
                             q.planned, short))
    required = [sum(r.required[k] or 0.0 for r in rows) for k in range(6)]
    planned = [sum(r.planned[k] for r in rows if r.planned) for k in range(6)] if cap.plan_answered else None
    acc = actuals.accuracies(session, [launch.id], queues).get(launch.id)
    forecast = [sum(r.contacts[k] for r in rows) for k in range(6)]
    actual: list[float | None] = [None] * 6
    if acc is not None:
        for w in acc.total.weeks:
            actual[w.week - 1] = w.actual
    forecaster = acc.forecaster if acc else None
    record = None
    if forecaster:
        (tr,) = actuals.track_records(session, queues, forecaster) or [None]
        if tr is not None:
            record = (f"{len(tr.launches)} launch(es) forecast, {len(tr.measured)} measured"
                      + (f", mean WAPE {tr.wape:.1%}, mean bias {tr.bias:+.1%}, {tr.trend}" if tr.wape is not None
                         else ""))
    section = CapacitySection(
        verdict=cap.verdict(), queues=rows, required=required, planned=planned, forecast=forecast, actual=actual,
        wape=acc.total.wape if acc else None, bias=acc.total.bias if acc else None,
        direction=acc.total.direction if acc else "no actuals yet", forecaster=who(forecaster) if forecaster else None,
        record=record)
    if cap.forecast_answered:
        section.fte_svg = Markup(svg.paired_bars("Extra FTE: required vs planned", WEEK_LABELS,
                                                 ("required", required), ("planned", planned or [None] * 6),
                                                 shade_shortfall=planned is not None))
        section.accuracy_svg = Markup(svg.paired_bars("Extra contacts: forecast vs actual", WEEK_LABELS,
                                                      ("forecast", forecast), ("actual", actual)))
    return section
