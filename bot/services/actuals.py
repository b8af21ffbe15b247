"""Actual contacts after launch, and the forecast's accuracy against them.

Actuals arrive from three places — WFM's Monday modal, `launchgate actuals import FILE.csv`
and the optional reporting pull — and all go through `record_many`: one upsert per
(launch, queue, week), audited with before/after. Reads are set-based: the accuracy of any
number of launches comes from two queries.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.capacity.accuracy import Accuracy, accuracy, trend
from bot.capacity.config import Queues
from bot.capacity.forecast import WEEKS, demands
from models import ForecastActual, Item, ItemState, Launch, LaunchStatus

from . import audit
from .answer_values import number

COLUMNS = ("launch", "queue", "week", "contacts")
MAX_ROWS = 50_000


class ActualsError(Exception):
    """Every bad row, as 'line N: reason'; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Actual:
    launch_id: int
    queue: str
    week: int
    contacts: float


def week_ended(launch_date: date, week: int, today: date) -> bool:
    """Week n runs launch date + 7(n−1) … + 7n − 1; its actuals exist from the day after."""
    return launch_date + timedelta(days=7 * week) <= today


def forecast_queues(session: Session, launch_ids: list[int], queues: Queues) -> dict[int, dict[str, list[float]]]:
    """{launch: {queue: forecast contacts weeks 1–6}} from the answered forecasts, one query."""
    out: dict[int, dict[str, list[float]]] = {}
    if not launch_ids:
        return out
    rows = session.exec(select(Launch.id, Launch.markets, Item.answer).join(Item, Item.launch_id == Launch.id)
                        .where(Launch.id.in_(launch_ids), Item.answer_kind == "forecast",
                               Item.state == ItemState.DONE)).all()
    for lid, markets, answer in rows:
        out[lid] = {d.queue.id: list(d.weekly_contacts) for d in demands(answer, list(markets or []), queues)}
    return out


def record_many(session: Session, actuals: list[Actual], *, source: str, actor: str, now: datetime) -> int:
    """Upsert actuals; returns how many rows changed. Audited per launch."""
    if not actuals:
        return 0
    ids = sorted({a.launch_id for a in actuals})
    existing = {(r.launch_id, r.queue, r.week): r for r in session.exec(
        select(ForecastActual).where(ForecastActual.launch_id.in_(ids)))}
    changed: dict[int, list[dict]] = {}
    for a in actuals:
        row = existing.get((a.launch_id, a.queue, a.week))
        if row is not None and row.contacts == a.contacts:
            continue
        before = None if row is None else row.contacts
        if row is None:
            row = ForecastActual(launch_id=a.launch_id, queue=a.queue, week=a.week, contacts=a.contacts,
                                 source=source, entered_by=actor, at=now)
            existing[(a.launch_id, a.queue, a.week)] = row
        else:
            row.contacts, row.source, row.entered_by, row.at = a.contacts, source, actor, now
        session.add(row)
        changed.setdefault(a.launch_id, []).append({"queue": a.queue, "week": a.week, "before": before,
                                                    "contacts": a.contacts})
    for lid, rows in changed.items():
        audit.record(session, actor=actor, action="actuals.recorded", entity="launch", entity_id=lid, launch_id=lid,
                     after={"source": source, "rows": rows}, at=now)
    session.flush()
    return sum(len(r) for r in changed.values())


def _launch_id(raw: str) -> int | None:
    text = raw.strip().upper().removeprefix("LR-")
    return int(text) if text.isdigit() and len(text) < 10 else None


def parse_csv(session: Session, text: str, queues: Queues, today: date) -> list[Actual]:
    """Check every row of an actuals CSV (columns launch, queue, week, contacts); ActualsError lists them all."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:4] != list(COLUMNS):
        raise ActualsError([f"line 1: the header must be {','.join(COLUMNS)} (got {','.join(header) or 'nothing'})"])
    raw_rows = [(f"line {n}", row) for n, row in enumerate(reader, start=2)]
    if len(raw_rows) > MAX_ROWS:
        raise ActualsError([f"the file has {len(raw_rows):,} rows; import at most {MAX_ROWS:,} at a time"])
    return check_rows(session, raw_rows, queues, today)


def check_rows(session: Session, raw_rows: list[tuple[str, list[str]]], queues: Queues, today: date) -> list[Actual]:
    """Every row checked (launch, queue of its forecast, ended week 1–6, contacts ≥ 0, no repeats); all or none."""
    wanted = {lid for _, row in raw_rows if row and (lid := _launch_id(row[0])) is not None}
    launches = {l.id: l for l in session.exec(select(Launch).where(Launch.id.in_(wanted)))} if wanted else {}
    forecasts = forecast_queues(session, list(launches), queues)
    problems: list[str] = []
    out: list = []
    seen: dict = {}
    for line, row in raw_rows:
        row = [str(c) for c in row]
        if not any(c.strip() for c in row):
            continue
        if len(row) != 4:
            problems.append(f"{line}: expected 4 columns (launch, queue, week, contacts), got {len(row)}")
            continue
        raw_launch, queue, raw_week, raw_contacts = (c.strip() for c in row)
        lid = _launch_id(raw_launch)
        launch = launches.get(lid) if lid is not None else None
        if launch is None:
            problems.append(f"{line}: no launch {raw_launch or '(empty)'}")
            continue
        if launch.status == LaunchStatus.CANCELLED:
            problems.append(f"{line}: {launch.key} was cancelled")
            continue
        if lid not in forecasts:
            problems.append(f"{line}: {launch.key} has no answered forecast to compare with")
            continue
        if queue not in forecasts[lid]:
            problems.append(f"{line}: {launch.key} forecast no contacts for queue '{queue}' "
                            f"(its queues: {', '.join(forecasts[lid]) or 'none'})")
            continue
        week = int(raw_week) if raw_week.isdigit() else None
        if week is None or not 1 <= week <= WEEKS:
            problems.append(f"{line}: week must be 1 to {WEEKS} (weeks after launch), got '{raw_week}'")
            continue
        if not week_ended(launch.launch_date, week, today):
            problems.append(f"{line}: week {week} of {launch.key} ends "
                            f"{(launch.launch_date + timedelta(days=7 * week - 1)).isoformat()}; it has no actuals yet")
            continue
        contacts = number(raw_contacts)
        if contacts is None or contacts < 0 or contacts > 100_000_000:
            problems.append(f"{line}: contacts must be a number ≥ 0, got '{raw_contacts}'")
            continue
        key = (lid, queue, week)
        if key in seen:
            problems.append(f"{line}: {launch.key} {queue} week {week} is already on {seen[key]}")
            continue
        seen[key] = line
        out.append(Actual(lid, queue, week, contacts))
    if problems:
        raise ActualsError(problems)
    return out


# --- accuracy -------------------------------------------------------------------------------------

@dataclass
class LaunchAccuracy:
    launch: Launch
    forecaster: str | None
    total: Accuracy                         # all queues of the launch together, per week
    per_queue: dict[str, Accuracy]


def accuracies(session: Session, launch_ids: list[int], queues: Queues) -> dict[int, LaunchAccuracy]:
    """Accuracy of each launch's forecast against the actuals so far: three queries for any number of launches."""
    if not launch_ids:
        return {}
    launches = {l.id: l for l in session.exec(select(Launch).where(Launch.id.in_(launch_ids)))}
    forecasters = dict(session.exec(select(Item.launch_id, Item.answered_by).where(
        Item.launch_id.in_(launch_ids), Item.answer_kind == "forecast", Item.state == ItemState.DONE)).all())
    forecasts = forecast_queues(session, launch_ids, queues)
    actual: dict[int, dict[str, dict[int, float]]] = {}
    for row in session.exec(select(ForecastActual).where(ForecastActual.launch_id.in_(launch_ids))):
        actual.setdefault(row.launch_id, {}).setdefault(row.queue, {})[row.week] = row.contacts
    out = {}
    for lid, per_queue in forecasts.items():
        got = actual.get(lid, {})
        queue_acc = {q: accuracy(f, got.get(q, {})) for q, f in per_queue.items()}
        weeks_known = sorted({w for q in per_queue for w in got.get(q, {})})
        total_f = [sum(f[w - 1] for f in per_queue.values()) for w in range(1, WEEKS + 1)]
        total_a = {w: sum(got.get(q, {}).get(w, 0.0) for q in per_queue) for w in weeks_known}
        out[lid] = LaunchAccuracy(launches[lid], forecasters.get(lid), accuracy(total_f, total_a), queue_acc)
    return out


@dataclass
class TrackRecord:
    forecaster: str
    launches: list[LaunchAccuracy]

    @property
    def measured(self) -> list[LaunchAccuracy]:
        return [a for a in self.launches if a.total.wape is not None]

    @property
    def wape(self) -> float | None:
        m = self.measured
        return sum(a.total.wape for a in m) / len(m) if m else None

    @property
    def bias(self) -> float | None:
        m = self.measured
        return sum(a.total.bias for a in m) / len(m) if m else None

    @property
    def trend(self) -> str:
        return trend([a.total.wape for a in sorted(self.measured, key=lambda a: a.launch.launch_date)])


def track_records(session: Session, queues: Queues, forecaster: str | None = None) -> list[TrackRecord]:
    """Every forecaster's launches with their accuracy (or one forecaster's): set-based."""
    stmt = select(Item.launch_id, Item.answered_by).where(Item.answer_kind == "forecast",
                                                          Item.state == ItemState.DONE)
    if forecaster:
        stmt = stmt.where(Item.answered_by == forecaster)
    pairs = session.exec(stmt).all()
    acc = accuracies(session, [lid for lid, _ in pairs], queues)
    by: dict[str, list[LaunchAccuracy]] = {}
    for lid, who in pairs:
        if lid in acc and who:
            by.setdefault(who, []).append(acc[lid])
    return [TrackRecord(who, sorted(items, key=lambda a: a.launch.launch_date)) for who, items in sorted(by.items())]


# --- WFM's Monday modal --------------------------------------------------------------------------

def may_enter(session: Session, launch: Launch, actor: str) -> bool:
    from . import access

    plan_owner = session.exec(select(Item.owner_id).where(Item.launch_id == launch.id,
                                                          Item.answer_kind == "capacity_plan")).first()
    return (actor == plan_owner or actor in access.role_holders(session, launch.id, "wfm")
            or access.can_steer(session, launch, actor))


def modal_rows(session: Session, launch_id: int, queues: Queues, today: date) -> tuple[Launch, list]:
    """(launch, [(queue, weeks ended, current actuals as typed)]) for the actuals modal."""
    from .errors import Conflict, NotFound

    launch = session.get(Launch, launch_id)
    if launch is None:
        raise NotFound("That launch no longer exists.")
    ended = sum(1 for w in range(1, WEEKS + 1) if week_ended(launch.launch_date, w, today))
    if not ended:
        raise Conflict(f"{launch.key} has no finished week since launch yet.")
    have: dict[str, dict[int, float]] = {}
    for row in session.exec(select(ForecastActual).where(ForecastActual.launch_id == launch.id)):
        have.setdefault(row.queue, {})[row.week] = row.contacts
    rows = []
    for queue in forecast_queues(session, [launch.id], queues).get(launch.id, {}):
        got = have.get(queue, {})
        current = ", ".join(_fmt(got[w]) for w in range(1, ended + 1)) if all(w in got for w in range(1, ended + 1)) \
            else ""
        rows.append((queue, ended, current))
    return launch, rows


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def from_modal(session: Session, launch_id: int, values: dict, *, actor: str, now: datetime,
               queues: Queues) -> int:
    """The actuals modal was submitted: FieldErrors in place, or every row saved at once."""
    from . import access
    from .errors import FieldErrors

    launch, rows = modal_rows(session, launch_id, queues, now.date())
    if not may_enter(session, launch, actor):
        raise access.refuse(session, launch=launch, actor=actor, action="actuals.enter", entity="launch",
                            entity_id=launch.id, message=f"Only WFM on {launch.key}, its launch owner or a readiness "
                                                         "lead can enter its actuals.", now=now)
    errors, out = {}, []
    for queue, ended, _ in rows:
        field = "ac." + queue
        raw = (values.get(field) or "").replace(";", ",")
        if not raw.strip():
            continue
        parts = [p for p in (x.strip() for x in raw.replace("\n", ",").split(",")) if p]
        if len(parts) == 1:
            parts = parts[0].split()
        numbers = [number(p) for p in parts]
        if len(numbers) != ended or any(n is None or n < 0 for n in numbers):
            errors[field] = f"Enter {ended} number{'s' if ended > 1 else ''} ≥ 0 (weeks 1–{ended}), separated by commas."
            continue
        out += [Actual(launch.id, queue, w, n) for w, n in enumerate(numbers, 1)]
    if not out and not errors and rows:
        errors["ac." + rows[0][0]] = "Enter the actuals for at least one queue."
    if errors:
        raise FieldErrors(errors)
    return record_many(session, out, source="slack", actor=actor, now=now)
