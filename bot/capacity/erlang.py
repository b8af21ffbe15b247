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
    """Blocking probability of an M/M/n/n system (Erlang's loss formula).

    Small n: the forward recursion. Large n: 1/B(n, a) = Σ_i Π_{m<i} (n−m)/a summed
    backwards from n until the terms vanish — O(√a) terms near the staffing that matters
    instead of O(n) — rescaled so it never overflows.
    """
    _check_load(traffic)
    if agents < 64 or traffic == 0:
        b = 1.0
        for k in range(1, agents + 1):
            b = traffic * b / (k + traffic * b)
        return b
    total = term = 1.0
    for m in range(agents):
        term *= (agents - m) / traffic
        total += term
        if term < 1e-17 * total:
            break
        if total > 1e250:            # B underflows: the load is tiny for this many agents
            return 0.0
    return 1.0 / total


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
    b = erlang_b(n, traffic)          # then one recursion step per extra agent
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
    The share answered within t has a closed form per j (`_answered_within`, an
    incomplete beta function). `patience` = mean patience in seconds.
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
    """Σ_j start[j] · P(answered within t | j ahead).

    With j ahead, the time V until an agent takes the contact is a sum of exponentials
    with rates c, c+θ, …, c+jθ (c = nμ): an arithmetic progression, whose density has the
    closed form f(v) ∝ e^(−cv)·(1 − e^(−θv))^j. Requiring its own patience to last too
    (× e^(−θv)) and substituting u = 1 − e^(−θv) gives

        P_j(t) = x/(x+j+1) · I_U(j+1, x+1),   x = c/θ,  U = 1 − e^(−θt),

    with I the regularised incomplete beta function; for integer first argument
    I_U(j+2, b) = I_U(j+1, b) − T_(j+1), T_1 = b·U·(1−U)^b, T_(a+1) = T_a·U·(a+b)/(a+1),
    each term taken in logarithms so nothing under- or overflows. O(j) in all.
    (t → ∞ gives x/(x+j+1) = Π d_i/(d_i+θ): the chance of being answered at all.)
    """
    if t <= 0:
        return 0.0
    x = service_rate / theta
    b = x + 1.0
    u = -math.expm1(-theta * t)
    log_u = math.log(u)
    log_rest = -theta * t                      # log(1 − U)
    incomplete = -math.expm1(b * log_rest)     # I_U(1, b) = 1 − (1−U)^b
    log_term = math.log(b) + log_u + b * log_rest
    total = 0.0
    for j, weight in enumerate(start):
        if incomplete <= 0.0:
            break
        total += weight * x / (x + j + 1) * incomplete
        a = j + 1
        incomplete -= math.exp(log_term)
        log_term += log_u + math.log((a + b) / (a + 1))
    return total


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
