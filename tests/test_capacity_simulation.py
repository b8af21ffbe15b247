"""Cross-check of the formulas against a discrete-event simulation (ciw, a test-only dependency).

Each case simulates 300 hours of a single queue (Poisson arrivals, exponential handle
times, FIFO; exponential patience for Erlang A), drops the first 5 % as warm-up and
compares the share answered within the target time with the formula: within 2 points.
"""
from __future__ import annotations

import ciw
import pytest

from bot.capacity.erlang import erlang_a, service_level

HOURS = 300


def simulate(agents: int, traffic: float, aht: float, within: float, patience: float | None = None, seed: int = 7):
    params = dict(arrival_distributions=[ciw.dists.Exponential(traffic / aht)],
                  service_distributions=[ciw.dists.Exponential(1 / aht)], number_of_servers=[agents])
    if patience:
        params["reneging_time_distributions"] = [ciw.dists.Exponential(1 / patience)]
    ciw.seed(seed)
    sim = ciw.Simulation(ciw.create_network(**params))
    sim.simulate_until_max_time(HOURS * 3600)
    records = [r for r in sim.get_all_records() if r.arrival_date > HOURS * 3600 * 0.05]
    served = [r for r in records if r.record_type == "service"]
    offered = len(served) + sum(1 for r in records if r.record_type == "renege")
    assert offered > 10_000
    return sum(1 for r in served if r.waiting_time <= within) / offered, 1 - len(served) / offered


@pytest.mark.parametrize("agents,traffic,aht,within", [
    (14, 10.0, 180, 20),      # the reference case
    (9, 7.5, 300, 30),        # tighter staffing: SL well below 80 %
])
def test_erlang_c_service_level_matches_simulation(agents, traffic, aht, within):
    simulated, _ = simulate(agents, traffic, aht, within)
    assert simulated == pytest.approx(service_level(agents, traffic, aht, within), abs=0.02)


def test_erlang_a_service_level_and_abandonment_match_simulation():
    simulated, abandoned = simulate(12, 10.0, 180, 20, patience=60)
    model = erlang_a(12, 10.0, 180, 60, 20)
    assert simulated == pytest.approx(model.service_level, abs=0.02)
    assert abandoned == pytest.approx(model.abandonment, abs=0.02)
