"""From a week's forecast for one queue to agents per interval, FTE and the figures WFM reports.

No Slack, no database: a `QueueModel` (read from capacity.yaml by bot/capacity/config.py, or
built in a test) and numbers in, a `WeekRequirement` out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .erlang import CannotStaff, agents_for_target, erlang_a, erlang_c

LIVE = ("phone", "chat")
ASYNC = ("email", "async")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, eq=False)
class QueueModel:
    """One queue of the contact centre, as capacity.yaml describes it."""

    id: str
    channel: str = "phone"
    markets: tuple[str, ...] = ()
    language: str = ""
    timezone: str = "UTC"
    interval_minutes: int = 30
    # weekday → (open minute, close minute) in the queue's time zone; a missing day is closed
    hours: dict[str, tuple[int, int]] = field(default_factory=lambda: {d: (8 * 60, 20 * 60) for d in DAYS[:5]})
    intraday: dict[int, float] | None = None          # interval start minute → relative weight within a day
    weekday_shares: dict[str, float] | None = None    # share of the week's contacts per open day
    paid_hours_per_week: float = 37.5
    shrinkage: float = 0.30                            # 0–1
    sl_target: float = 0.80                            # 0–1, live channels
    sl_seconds: float = 20                             # live channels
    answer_within_hours: float = 24                    # async channels
    patience_seconds: float | None = None              # mean patience: adds Erlang A figures

    @property
    def live(self) -> bool:
        return self.channel in LIVE

    def intervals(self) -> list[tuple[str, int, float]]:
        """(weekday, start minute, share of the week's contacts) for every open interval; shares sum to 1."""
        open_days = [d for d in DAYS if d in self.hours]
        if not open_days:
            return []
        day_share = self.weekday_shares or {d: 1 / len(open_days) for d in open_days}
        day_total = sum(day_share.get(d, 0.0) for d in open_days) or 1.0
        out = []
        for day in open_days:
            start, end = self.hours[day]
            starts = list(range(start, end, self.interval_minutes))
            profile = [self.intraday.get(m, 0.0) for m in starts] if self.intraday else [1.0] * len(starts)
            total = sum(profile)
            if not total:                 # the profile misses this day's hours: flat
                profile, total = [1.0] * len(starts), float(len(starts))
            for minute, weight in zip(starts, profile):
                out.append((day, minute, day_share.get(day, 0.0) / day_total * weight / total))
        return out


@dataclass(frozen=True)
class WeekRequirement:
    """Extra staff one queue needs for one week of extra contacts."""

    queue: str
    contacts: float
    fte: float                        # required extra FTE (paid, after shrinkage)
    agent_hours: float                # productive hours on the queue (before shrinkage)
    peak_agents: int                  # most agents needed in one interval (live); workload agents (async)
    service_level: float | None       # volume-weighted share answered in time (live), or None
    occupancy: float | None           # offered load ÷ agents over the week
    model: str                        # "erlang_c" or "workload"
    abandonment: float | None = None  # Erlang A, when the queue gives a patience
    service_level_a: float | None = None
    max_wait_hours: float | None = None   # async: the oldest contact's age with this staffing


def fte(agent_hours: float, paid_hours_per_week: float, shrinkage: float) -> float:
    """Σ agent-hours ÷ paid hours per FTE ÷ (1 − shrinkage): shrinkage divides because an FTE is
    paid for hours it does not spend on the queue (leave, training, meetings, sickness)."""
    if not 0 <= shrinkage < 1:
        raise CannotStaff("shrinkage must be at least 0 % and below 100 %")
    if paid_hours_per_week <= 0:
        raise CannotStaff("paid hours per FTE must be > 0")
    return agent_hours / paid_hours_per_week / (1 - shrinkage)


def weekly_requirement(queue: QueueModel, contacts: float, aht_seconds: float, *,
                       sl_target: float | None = None, sl_seconds: float | None = None,
                       shrinkage: float | None = None, answer_within_hours: float | None = None) -> WeekRequirement:
    """Required extra FTE for `contacts` extra contacts in one week on `queue` (overrides win over the queue's defaults)."""
    shrink = queue.shrinkage if shrinkage is None else shrinkage
    if contacts < 0 or aht_seconds <= 0:
        raise CannotStaff("contacts must be ≥ 0 and handle time > 0")
    if not queue.live:
        return _async(queue, contacts, aht_seconds, shrink,
                      queue.answer_within_hours if answer_within_hours is None else answer_within_hours)
    target = queue.sl_target if sl_target is None else sl_target
    within = queue.sl_seconds if sl_seconds is None else sl_seconds
    interval_s = queue.interval_minutes * 60
    intervals = queue.intervals()
    if contacts and not intervals:
        raise CannotStaff(f"queue {queue.id} has no opening hours")
    agent_intervals = peak = 0
    answered = offered_load = 0.0
    abandon = answered_a = 0.0
    cache: dict[float, tuple] = {}
    for _day, _minute, share in intervals:
        volume = contacts * share
        load = volume * aht_seconds / interval_s
        key = round(load, 9)
        if key not in cache:         # a flat profile repeats the same interval: compute it once
            s = agents_for_target(load, aht_seconds, target, within)
            a = (erlang_a(s.agents, load, aht_seconds, queue.patience_seconds, within)
                 if queue.patience_seconds and s.agents else None)
            cache[key] = (s, a)
        s, a = cache[key]
        agent_intervals += s.agents
        peak = max(peak, s.agents)
        answered += volume * s.service_level
        offered_load += load
        if a is not None:
            abandon += volume * a.abandonment
            answered_a += volume * a.service_level
    hours = agent_intervals * queue.interval_minutes / 60
    return WeekRequirement(
        queue=queue.id, contacts=contacts, fte=fte(hours, queue.paid_hours_per_week, shrink), agent_hours=hours,
        peak_agents=peak, service_level=answered / contacts if contacts else 1.0,
        occupancy=offered_load / agent_intervals if agent_intervals else 0.0, model="erlang_c",
        abandonment=abandon / contacts if queue.patience_seconds and contacts else None,
        service_level_a=answered_a / contacts if queue.patience_seconds and contacts else None)


def plan_check(agents: int, traffic: float, aht_seconds: float, answer_within: float) -> tuple[float, float]:
    """(service level, occupancy) that `agents` give on `traffic` Erlangs; CannotStaff when occupancy ≥ 100 %."""
    if agents <= traffic:
        occ = traffic / agents if agents else math.inf
        raise CannotStaff(f"{agents} agents cannot carry {traffic:.1f} Erlangs: occupancy would be "
                          + (f"{occ:.0%}" if math.isfinite(occ) else "unbounded") + " and the queue grows without end")
    c = erlang_c(agents, traffic)
    return 1.0 - c * math.exp(-(agents - traffic) * answer_within / aht_seconds), traffic / agents


# --- async (email, messages answered later) ------------------------------------------------------

def _async(queue: QueueModel, contacts: float, aht_seconds: float, shrink: float, within_hours: float) -> WeekRequirement:
    """Workload FTE, raised if needed until the backlog it leaves meets the response target.

    Fluid model over two identical weeks (the second is measured, so Monday starts with
    the backlog Sunday left): contacts arrive in open intervals by the queue's profile and
    are worked first-in first-out at a flat rate over open hours. The oldest contact's
    age, in clock hours (nights and weekends count), is the response time it implies.
    """
    work_hours = contacts * aht_seconds / 3600
    intervals = queue.intervals()
    if not contacts or not intervals:
        return WeekRequirement(queue.id, contacts, 0.0, 0.0, 0, None, None, "workload", max_wait_hours=0.0)
    rate = 1.0                                      # × the average arrival rate over open intervals
    wait = _max_age(queue, intervals, rate)
    if wait > within_hours:
        low, high = rate, rate * 2
        while _max_age(queue, intervals, high) > within_hours:
            low, high = high, high * 2
            if high > 10_000:
                raise CannotStaff(f"queue {queue.id} cannot answer within {within_hours:g} h during its opening hours")
        for _ in range(30):
            mid = (low + high) / 2
            low, high = (low, mid) if _max_age(queue, intervals, mid) <= within_hours else (mid, high)
        rate, wait = high, _max_age(queue, intervals, high)
    hours = work_hours * rate
    agents = math.ceil(hours / (len(intervals) * queue.interval_minutes / 60) - 1e-9)
    return WeekRequirement(queue.id, contacts, fte(hours, queue.paid_hours_per_week, shrink), hours, agents,
                           None, 1 / rate, "workload", max_wait_hours=wait)


def _max_age(queue: QueueModel, intervals: list[tuple[str, int, float]], rate: float) -> float:
    """Oldest contact's age in open hours when capacity per open interval is `rate` × the average need.

    Async contacts arrive round the clock (by weekday share, flat within the day) but are
    only worked in open intervals. Ages are counted in open hours, the way response targets
    for mail are set ("within 8 business hours"): mail that arrives at night starts ageing
    when the queue opens.
    """
    step = queue.interval_minutes / 60
    per_day = int(24 / step)
    day_share = queue.weekday_shares or {d: 1 / len(DAYS) for d in DAYS}
    day_total = sum(day_share.get(d, 0.0) for d in DAYS) or 1.0
    is_open = {(day, minute) for day, minute, _ in intervals}
    per_open = rate / len(intervals)               # the week's contacts are 1.0
    arrived: list[tuple[float, float]] = [(0.0, 0.0)]   # (open-hours clock, cumulative arrivals)
    served: list[tuple[float, float]] = []
    cum_in = cum_out = clock = 0.0
    for _week in range(2):
        for day in DAYS:
            for k in range(per_day):
                came = day_share.get(day, 0.0) / day_total / per_day
                if (day, int(k * queue.interval_minutes)) in is_open:
                    arrived.append((clock, cum_in))
                    clock += step
                    cum_in += came
                    arrived.append((clock, cum_in))
                    cum_out = min(cum_in, cum_out + per_open)
                    served.append((clock, cum_out))
                else:
                    cum_in += came                  # waits, not ageing, until the queue opens
    worst = 0.0
    i = 0
    half = len(served) // 2
    for (t, done), (_, before) in zip(served[half:], served[half - 1:]):
        if done <= before + 1e-12:
            continue
        # the oldest contact worked in this interval is the first one after `before`; it is done by t
        while i + 1 < len(arrived) and arrived[i + 1][1] <= before + 1e-12:
            i += 1
        (t0, c0), (t1, c1) = arrived[i], arrived[min(i + 1, len(arrived) - 1)]
        arrived_at = t0 if c1 <= c0 else t0 + (t1 - t0) * (before - c0) / (c1 - c0)
        worst = max(worst, t - arrived_at)
    return worst
