"""Queueing formulas for staffing a live queue: Erlang B, Erlang C and Erlang A.

Plain floats, no Slack, no database, no third-party code: WFM must be able to read
and check every line (docs/capacity.md works the reference case through).

Units: `traffic` is the offered load in Erlangs (contacts per interval × AHT ÷
interval length); times (`aht`, `answer_within`, `patience`) are in seconds.

Numerics: Erlang B is computed by its recursion B(k) = a·B(k−1) / (k + a·B(k−1)),
which stays in [0, 1] at every step, so there is no factorial, no power and no
overflow at thousands of agents. Erlang C and Erlang A are derived from B.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 1_000_000


class CannotStaff(ValueError):
    """The target cannot be met by any number of agents (or the load is not finite)."""


def _check_load(traffic: float) -> None:
    if not math.isfinite(traffic) or traffic < 0:
        raise CannotStaff(f"offered load must be a finite number ≥ 0 (got {traffic!r})")


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of an M/M/n/n system (Erlang's loss formula)."""
    _check_load(traffic)
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (M/M/n, infinite patience). 1 when agents ≤ load."""
    if agents <= traffic:
        return 1.0
    return _c_from_b(agents, traffic, erlang_b(agents, traffic))


def _c_from_b(agents: int, traffic: float, b: float) -> float:
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(agents: int, traffic: float, aht: float, answer_within: float) -> float:
    """Share of contacts answered within `answer_within` seconds under Erlang C (0 if unstable)."""
    if agents <= traffic:
        return 0.0
    return _sl(agents, traffic, aht, answer_within, erlang_c(agents, traffic))


def _sl(agents: int, traffic: float, aht: float, answer_within: float, c: float) -> float:
    return max(0.0, 1.0 - c * math.exp(-(agents - traffic) * answer_within / aht))


def asa(agents: int, traffic: float, aht: float) -> float:
    """Average speed of answer in seconds under Erlang C (inf if unstable)."""
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht / (agents - traffic)


def occupancy(agents: int, traffic: float) -> float:
    """Share of logged-in agent time spent handling contacts (can exceed 1: then nobody can staff it)."""
    return traffic / agents if agents else math.inf


@dataclass(frozen=True)
class Staffing:
    """What `agents_for_target` found for one interval."""

    agents: int
    service_level: float      # share answered within the target time (0–1)
    asa: float                # seconds
    occupancy: float          # 0–1
    wait_probability: float   # Erlang C


def agents_for_target(traffic: float, aht: float, target: float, answer_within: float, *,
                      max_occupancy: float = 1.0) -> Staffing:
    """The fewest agents that answer `target` (0–1) of contacts within `answer_within` seconds.

    Walks n upward from ⌈load⌉ carrying Erlang B along (one recursion step per n), so the
    search costs O(agents) however large the queue. `max_occupancy` (< 1) adds a cap that
    WFM often sets to protect agents from burning out.
    """
    _check_load(traffic)
    if not (0 < target < 1):
        raise CannotStaff("a service target must be between 0 % and 100 % (exclusive)")
    if aht <= 0 or answer_within < 0:
        raise CannotStaff("handle time must be > 0 and the answer time ≥ 0")
    if traffic == 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0)
    n = max(1, math.floor(traffic))
    b = erlang_b(n, traffic)
    while True:
        if n > traffic and traffic / n <= max_occupancy:
            c = _c_from_b(n, traffic, b)
            sl = _sl(n, traffic, aht, answer_within, c)
            if sl >= target:
                return Staffing(n, sl, c * aht / (n - traffic), traffic / n, c)
        n += 1
        if n > MAX_AGENTS:
            raise CannotStaff(f"more than {MAX_AGENTS:,} agents would be needed")
        b = traffic * b / (n + traffic * b)


# --- Erlang A (M/M/n+M): customers hang up after an exponential patience -------------------------

@dataclass(frozen=True)
class ErlangA:
    agents: int
    wait_probability: float   # share of contacts that find every agent busy
    abandonment: float        # share of contacts that hang up before they are answered
    service_level: float      # share of ALL offered contacts answered within the target time
    mean_wait: float          # seconds, over all offered contacts (those who hang up included)
    occupancy: float          # handled load ÷ agents


_TAIL = 1e-13


def _queue_weights(agents: int, rate: float, mu: float, theta: float) -> list[float]:
    """r_j = Π_{i=1..j} λ / (nμ + iθ), j = 0, 1, … until the tail is negligible."""
    weights = [1.0]
    total = 1.0
    j = 0
    while True:
        j += 1
        nxt = weights[-1] * rate / (agents * mu + j * theta)
        weights.append(nxt)
        total += nxt
        if nxt < _TAIL * total and agents * mu + j * theta > rate:
            return weights
        if j > 5_000_000:
            raise CannotStaff("the queue is too long to evaluate (patience too long for the load)")


def erlang_a(agents: int, traffic: float, aht: float, patience: float, answer_within: float) -> ErlangA:
    """Palm's M/M/n+M model (Erlang A), solved as a birth–death chain.

    Stationary law: states up to n agents busy are the Erlang B law; each queue length j
    beyond that has weight π_n·r_j with r_j as in `_queue_weights`, so
    P(wait) = S / (1/B(n, a) + S − 1) with S = Σ r_j. An arrival that finds j waiting is
    answered if the j ahead of it and then one agent clear before its own patience runs
    out: each step i (i ahead) clears at rate nμ + iθ while it hangs up at rate θ.
    The share answered within t comes from uniformising that pure-death chain
    (all terms positive: numerically stable). `patience` = mean patience in seconds.
    """
    _check_load(traffic)
    if aht <= 0 or patience <= 0:
        raise CannotStaff("handle time and patience must be > 0")
    mu, theta = 1.0 / aht, 1.0 / patience
    rate = traffic * mu
    if agents == 0:
        return ErlangA(0, 1.0, 1.0 if traffic else 0.0, 0.0 if traffic else 1.0, patience if traffic else 0.0, 0.0)
    if traffic == 0:
        return ErlangA(agents, 0.0, 0.0, 1.0, 0.0, 0.0)
    b = erlang_b(agents, traffic)
    r = _queue_weights(agents, rate, mu, theta)
    s = math.fsum(r)
    p_wait = s / (1.0 / b + s - 1.0)
    w = [p_wait * x / s for x in r]            # P(an arrival finds j waiting), j ≥ 0
    # P(answered | j ahead) = Π_{i=0..j} d_i / (d_i + θ), d_i = nμ + iθ
    answered, acc = [], 1.0
    for i in range(len(w)):
        d = agents * mu + i * theta
        acc *= d / (d + theta)
        answered.append(acc)
    abandonment = math.fsum(wj * (1.0 - aj) for wj, aj in zip(w, answered))
    mean_queue = math.fsum(j * wj for j, wj in enumerate(w))  # PASTA: E[Q] seen = time-average E[Q]
    sl = (1.0 - p_wait) + _answered_within(w, agents * mu, theta, answer_within)
    handled = traffic * (1.0 - abandonment)
    return ErlangA(agents, p_wait, abandonment, min(1.0, sl), mean_queue / rate, handled / agents)


def _answered_within(start: list[float], service_rate: float, theta: float, t: float) -> float:
    """Σ_j start[j] · P(answered within t | j ahead), by uniformisation of the pure-death chain."""
    if t <= 0:
        return 0.0
    top = len(start) - 1
    big = service_rate + (top + 1) * theta           # the fastest total exit rate
    lam_t = big * t
    # Poisson(lam_t) weights, computed in log space so a long target (lam_t ≫ 700) cannot underflow
    steps = int(lam_t + 10 * math.sqrt(lam_t) + 20)
    mass = list(start)                                # mass[i]: probability of still waiting with i ahead
    answered_by_step = 0.0
    total = 0.0
    log_t = math.log(lam_t)
    for k in range(steps + 1):
        poisson = math.exp(k * log_t - lam_t - math.lgamma(k + 1))
        total += poisson * answered_by_step
        # one uniformised step: i → i−1 w.p. d_i/Λ (i = 0 → answered), hang up w.p. θ/Λ, else stay
        new = [0.0] * len(mass)
        for i, m in enumerate(mass):
            if m == 0.0:
                continue
            d = service_rate + i * theta
            move = m * d / big
            if i == 0:
                answered_by_step += move
            else:
                new[i - 1] += move
            new[i] += m * (1.0 - (d + theta) / big)
        mass = new
    # the last steps' answered mass with the remaining Poisson tail weight
    return total + (1.0 - _poisson_cdf(steps, lam_t)) * answered_by_step


def _poisson_cdf(k: int, lam: float) -> float:
    log_l = math.log(lam)
    return min(1.0, math.fsum(math.exp(i * log_l - lam - math.lgamma(i + 1)) for i in range(k + 1)))


def agents_for_target_a(traffic: float, aht: float, patience: float, target: float,
                        answer_within: float) -> ErlangA:
    """The fewest agents for which Erlang A answers `target` of all offered contacts within the time."""
    _check_load(traffic)
    if not (0 < target < 1):
        raise CannotStaff("a service target must be between 0 % and 100 % (exclusive)")
    if traffic == 0:
        return erlang_a(0, 0.0, aht, patience, answer_within)
    low, high = 0, max(1, math.ceil(traffic))
    while erlang_a(high, traffic, aht, patience, answer_within).service_level < target:
        low, high = high, high * 2
        if high > MAX_AGENTS:
            raise CannotStaff(f"more than {MAX_AGENTS:,} agents would be needed")
    while high - low > 1:        # service level rises with every agent: bisect
        mid = (low + high) // 2
        if erlang_a(mid, traffic, aht, patience, answer_within).service_level >= target:
            high = mid
        else:
            low = mid
    return erlang_a(high, traffic, aht, patience, answer_within)
