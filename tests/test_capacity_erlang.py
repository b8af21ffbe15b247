"""Staffing formulas against the issue's reference case, published textbook cases and identities."""
from __future__ import annotations

import math
import time

import pytest

from bot.capacity.erlang import (CannotStaff, agents_for_target, agents_for_target_a, asa, erlang_a, erlang_b,
                                 erlang_c, occupancy, service_level)
from bot.capacity.staffing import DAYS, QueueModel, fte, plan_check, weekly_requirement


def test_reference_case_100_contacts_in_30_minutes_aht_180s_80_in_20():
    traffic = 100 * 180 / 1800                      # 10 Erlangs
    s = agents_for_target(traffic, 180, 0.80, 20)
    assert s.agents == 14
    assert s.service_level == pytest.approx(0.888, abs=0.001)
    assert s.occupancy == pytest.approx(0.714, abs=0.0005)
    # one agent fewer misses the target: 14 is the fewest
    assert service_level(13, traffic, 180, 20) < 0.80
    assert s.asa == pytest.approx(asa(14, traffic, 180))
    assert s.asa == pytest.approx(7.8, abs=0.05)    # Erlang C ASA at 14 agents


def test_textbook_erlang_b_table_10_erlangs_at_1_percent_needs_18_circuits():
    # Erlang B (loss) tables, e.g. R. B. Cooper, "Introduction to Queueing Theory", 2nd ed.
    # (North Holland, 1981), Table of the Erlang loss function: 10 Erlangs offered at a
    # grade of service of 1 % need 18 circuits; B(18, 10) = 0.00714, B(17, 10) = 0.0129.
    assert erlang_b(18, 10) == pytest.approx(0.00714, abs=0.00001)
    assert erlang_b(17, 10) == pytest.approx(0.0129, abs=0.0001)
    assert min(n for n in range(1, 40) if erlang_b(n, 10) <= 0.01) == 18


def test_textbook_hillier_lieberman_county_hospital_emergency_room():
    # F. S. Hillier & G. J. Lieberman, "Introduction to Operations Research", chapter
    # "Queueing Theory", County Hospital example: patients arrive at λ = 2 per hour, a
    # doctor treats μ = 3 per hour. One doctor (M/M/1): Wq = 2/3 h; two doctors (M/M/2):
    # P0 = 1/2, Lq = 1/12, Wq = 1/24 h.
    aht_hours = 1 / 3
    assert asa(1, 2 / 3, aht_hours) == pytest.approx(2 / 3)
    assert asa(2, 2 / 3, aht_hours) == pytest.approx(1 / 24)
    assert asa(2, 2 / 3, aht_hours) * 2 == pytest.approx(1 / 12)         # Little: Lq = λ·Wq
    assert erlang_c(2, 2 / 3) == pytest.approx(1 / 6)                    # P(wait) = 1 − P0 − P1 = 1 − 1/2 − 1/3


def test_textbook_m_m_3_with_2_erlangs_waits_with_probability_four_ninths():
    # The Erlang C example in the Wolfram Language documentation (ErlangC[3, 2]) and a
    # standard hand calculation (e.g. Gross & Harris, "Fundamentals of Queueing Theory",
    # M/M/c): P0 = 1/9, C(3, 2) = (2³/3!)·(3/(3−2))·P0 = 4/9. Wq = C/(cμ − λ).
    assert erlang_c(3, 2) == pytest.approx(4 / 9, rel=1e-12)
    assert asa(3, 2, 1.0) == pytest.approx(4 / 9)


def test_textbook_erlang_b_small_exact_values():
    # Hand-checkable values of Erlang's loss formula B(n, a) = (aⁿ/n!) / Σ aᵏ/k!:
    # B(1, 1) = 1/2, B(2, 1) = 1/5, B(2, 2) = 2/5 (Kleinrock, "Queueing Systems" vol. 1, §3.7).
    assert erlang_b(1, 1) == pytest.approx(1 / 2)
    assert erlang_b(2, 1) == pytest.approx(1 / 5)
    assert erlang_b(2, 2) == pytest.approx(2 / 5)


def test_large_case_5000_contacts_per_30_minutes_is_fast_and_finite():
    traffic = 5000 * 180 / 1800                     # 500 Erlangs
    started = time.perf_counter()
    s = agents_for_target(traffic, 180, 0.80, 20)
    elapsed = time.perf_counter() - started
    assert 500 < s.agents < 560
    assert 0.80 <= s.service_level < 1 and math.isfinite(s.asa)
    assert service_level(s.agents - 1, traffic, 180, 20) < 0.80
    assert elapsed < 2        # a generous bound: it takes about a millisecond
    # thousands of agents: the recursion never overflows where aⁿ/n! would
    for n, a in ((10_000, 9_500.0), (50_000, 49_000.0)):
        b, c = erlang_b(n, a), erlang_c(n, a)
        assert 0 < b < c < 1 and math.isfinite(b) and math.isfinite(c)


def test_occupancy_at_or_over_100_percent_cannot_be_staffed():
    assert erlang_c(10, 10) == 1.0 and service_level(10, 10, 180, 20) == 0.0
    assert asa(9, 10, 180) == math.inf
    assert occupancy(8, 10) == pytest.approx(1.25)
    with pytest.raises(CannotStaff, match="occupancy would be 100%"):
        plan_check(10, 10.0, 180, 20)
    with pytest.raises(CannotStaff, match="occupancy would be 125%"):
        plan_check(8, 10.0, 180, 20)
    with pytest.raises(CannotStaff):
        agents_for_target(float("inf"), 180, 0.8, 20)
    sl, occ = plan_check(14, 10.0, 180, 20)
    assert sl == pytest.approx(0.888, abs=0.001) and occ == pytest.approx(10 / 14)


def test_max_occupancy_cap_adds_agents():
    s = agents_for_target(500, 180, 0.80, 20, max_occupancy=0.85)
    assert s.occupancy <= 0.85 and s.agents == math.ceil(500 / 0.85)


def test_erlang_a_with_endless_patience_is_erlang_c():
    a = erlang_a(14, 10, 180, patience=1e9, answer_within=20)
    assert a.service_level == pytest.approx(service_level(14, 10, 180, 20), abs=1e-6)
    assert a.wait_probability == pytest.approx(erlang_c(14, 10), abs=1e-6)
    assert a.abandonment < 1e-6


def test_erlang_a_with_patience_equal_to_handle_time_is_the_poisson_law():
    # θ = μ: every contact in the system leaves at rate μ whether served or waiting, so the
    # number in the system is Poisson(a) (an M/M/∞ identity), whatever the staffing.
    traffic, n = 10.0, 12
    a = erlang_a(n, traffic, 180, patience=180, answer_within=20)
    p = [math.exp(k * math.log(traffic) - traffic - math.lgamma(k + 1)) for k in range(120)]
    assert a.wait_probability == pytest.approx(sum(p[n:]), rel=1e-9)
    assert a.abandonment == pytest.approx(sum((k - n) * p[k] for k in range(n, 120)) / traffic, rel=1e-9)


def test_erlang_a_little_law_and_overload():
    a = erlang_a(12, 10, 180, patience=60, answer_within=20)
    # Little's law on the queue: λ·P(abandon) = θ·E[Q]  ⇔  P(abandon) = mean wait ÷ patience
    assert a.abandonment == pytest.approx(a.mean_wait / 60, rel=1e-9)
    # over 100 % offered load: Erlang C cannot staff it, Erlang A stays finite (people hang up)
    over = erlang_a(8, 10, 180, patience=60, answer_within=20)
    assert 0.2 < over.abandonment < 1 and over.occupancy <= 1 and 0 <= over.service_level <= 1


def test_erlang_a_staffing_meets_the_target_with_the_fewest_agents():
    s = agents_for_target_a(10, 180, patience=60, target=0.80, answer_within=20)
    assert s.service_level >= 0.80
    assert erlang_a(s.agents - 1, 10, 180, 60, 20).service_level < 0.80
    assert s.agents <= agents_for_target(10, 180, 0.80, 20).agents


def test_fte_divides_by_paid_hours_and_by_one_minus_shrinkage():
    assert fte(700, 37.5, 0.30) == pytest.approx(700 / 37.5 / 0.7)
    with pytest.raises(CannotStaff):
        fte(10, 37.5, 1.0)


def test_a_week_of_the_reference_interval_is_14_agents_every_interval():
    queue = QueueModel("fr-phone", hours={d: (0, 24 * 60) for d in DAYS}, paid_hours_per_week=37.5, shrinkage=0.30)
    week = weekly_requirement(queue, 100 * 48 * 7, 180)
    assert week.peak_agents == 14
    assert week.agent_hours == pytest.approx(14 * 24 * 7)
    assert week.fte == pytest.approx(14 * 24 * 7 / 37.5 / 0.7)
    assert week.service_level == pytest.approx(0.888, abs=0.001) and week.occupancy == pytest.approx(10 / 14)


def test_issue_example_six_week_forecast_needs_far_more_than_five_agents():
    # 8000 extra contacts a week, AHT 3 min, 80 % in 20 s, shrinkage 30 %, Mon–Fri 08–20
    queue = QueueModel("fr-phone", paid_hours_per_week=37.5, shrinkage=0.30)
    week = weekly_requirement(queue, 8000, 180)
    assert week.peak_agents == 10                  # 8000 / 120 intervals ≈ 66.7 per 30 min ≈ 6.7 Erlangs
    assert week.fte > 20
    assert weekly_requirement(queue, 4000, 180).fte < week.fte


def test_patience_adds_erlang_a_figures_but_the_requirement_stays_erlang_c():
    plain = weekly_requirement(QueueModel("q"), 8000, 180)
    patient = weekly_requirement(QueueModel("q", patience_seconds=90), 8000, 180)
    assert patient.fte == plain.fte and patient.model == "erlang_c"
    assert 0 < patient.abandonment < 0.05 and patient.service_level_a > 0.8


def test_async_workload_and_response_target():
    mail = QueueModel("fr-mail", channel="email", paid_hours_per_week=37.5, shrinkage=0.30)
    loose = weekly_requirement(mail, 5000, 600, answer_within_hours=48)
    assert loose.model == "workload"
    assert loose.agent_hours == pytest.approx(5000 * 600 / 3600)              # pure workload
    assert loose.fte == pytest.approx(5000 * 600 / 3600 / 37.5 / 0.7)
    tight = weekly_requirement(mail, 5000, 600, answer_within_hours=8)
    assert tight.fte > loose.fte and tight.max_wait_hours <= 8 + 1e-6
    # nights and weekends pile up for Monday morning: a tight target costs far more than the workload
    assert weekly_requirement(mail, 5000, 600, answer_within_hours=2).max_wait_hours <= 2 + 1e-6


def _answered_within_by_uniformisation(agents, traffic, aht, patience, t):
    """An independent, slow oracle for Erlang A's service level: uniformise the waiting
    contact's pure-death chain (i ahead → i−1 at rate nμ+iθ, hang up at θ) step by step."""
    from bot.capacity.erlang import _queue_weights

    mu, theta = 1 / aht, 1 / patience
    r = _queue_weights(agents, traffic * mu, mu, theta)
    p_wait = sum(r) / (1 / erlang_b(agents, traffic) + sum(r) - 1)
    mass = [p_wait * x / sum(r) for x in r]
    big = agents * mu + len(mass) * theta
    steps = int(big * t + 10 * math.sqrt(big * t) + 20)
    answered = total = 0.0
    for k in range(steps + 1):
        total += math.exp(k * math.log(big * t) - big * t - math.lgamma(k + 1)) * answered
        new = [0.0] * len(mass)
        for i, m in enumerate(mass):
            d = agents * mu + i * theta
            if i == 0:
                answered += m * d / big
            else:
                new[i - 1] += m * d / big
            new[i] += m * (1 - (d + theta) / big)
        mass = new
    return (1 - p_wait) + total


@pytest.mark.parametrize("agents,traffic,aht,patience,within", [
    (12, 10.0, 180, 60, 20), (8, 10.0, 180, 60, 20), (30, 25.0, 300, 30, 60), (120, 110.0, 240, 180, 30)])
def test_erlang_a_closed_form_matches_uniformisation(agents, traffic, aht, patience, within):
    closed = erlang_a(agents, traffic, aht, patience, within).service_level
    assert closed == pytest.approx(_answered_within_by_uniformisation(agents, traffic, aht, patience, within),
                                   abs=1e-9)


def test_erlang_b_backward_sum_agrees_with_the_recursion():
    def recursion(n, a):
        b = 1.0
        for k in range(1, n + 1):
            b = a * b / (k + a * b)
        return b

    for n, a in ((64, 50.0), (100, 90.5), (520, 500.0), (1000, 1200.0), (3000, 2950.0)):
        assert erlang_b(n, a) == pytest.approx(recursion(n, a), rel=1e-11)
