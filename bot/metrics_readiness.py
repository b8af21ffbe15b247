"""Readiness metrics for Prometheus, read from the database at scrape time (every replica agrees).

Labels are kind, gate (template gate id), role and state only: a bounded set, and
nothing that names a launch or a person.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.services import readiness


class ReadinessCollector:
    def __init__(self, engine: Engine, now: Callable[[], datetime]):
        self.engine = engine
        self.now = now

    def collect(self):
        try:
            with Session(self.engine) as session:
                r = readiness.compute(session, now=self.now())
        except SQLAlchemyError:
            return  # /healthz reports the database; the other metrics still answer
        launches = GaugeMetricFamily("launchgate_launches", "Launches by kind and state", labels=["kind", "state"])
        for (kind, state), n in sorted(r.launches.items()):
            launches.add_metric([kind, state], n)
        yield launches
        overdue = GaugeMetricFamily("launchgate_overdue_items", "Open required items past due in open launches",
                                    labels=["role"])
        for role, n in sorted(r.overdue.items()):
            overdue.add_metric([role], n)
        yield overdue
        cycle = HistogramMetricFamily("launchgate_gate_cycle_seconds",
                                      "Gate cycle time: first review opened to the closing decision",
                                      labels=["kind", "gate"])
        right = GaugeMetricFamily("launchgate_gate_first_time_right_ratio",
                                  "Share of gates whose first decided review was Go (not Hold/Recycle/Kill)",
                                  labels=["kind", "gate"])
        on_time = GaugeMetricFamily("launchgate_gate_decided_on_time_ratio",
                                    "Share of closed gates decided on or before their due date",
                                    labels=["kind", "gate"])
        bounds = readiness.cycle_buckets()
        for (kind, gate), g in sorted(r.gates.items()):
            if g.cycle_seconds:
                buckets = [(_le(b), n) for b, n in readiness.by_bucket(g.cycle_seconds, bounds)]
                buckets.append(("+Inf", len(g.cycle_seconds)))
                cycle.add_metric([kind, gate], buckets, sum(g.cycle_seconds))
            if g.first_reviews:
                right.add_metric([kind, gate], g.first_time_right_ratio)
            if g.decided:
                on_time.add_metric([kind, gate], g.on_time_ratio)
        yield cycle
        yield right
        yield on_time
        late = GaugeMetricFamily("launchgate_items_answered_late", "Items answered after their due time",
                                 labels=["role"])
        for role, n in sorted(r.answered_late.items()):
            late.add_metric([role], n)
        yield late
        waived = GaugeMetricFamily("launchgate_waivers_granted", "Waivers granted", labels=["role"])
        for role, n in sorted(r.waivers.items()):
            waived.add_metric([role], n)
        yield waived


def _le(bound: float) -> str:
    return f"{bound:.1f}"


def exposition(engine: Engine, now: Callable[[], datetime] | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReadinessCollector(engine, now or (lambda: datetime.now(timezone.utc))))
    return generate_latest(registry)
