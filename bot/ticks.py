"""One scheduler pass: everything time-based that is due at `now`.

Each step runs in its own transaction and only writes rows (state, audit,
outbox); the delivery worker sends afterwards. A dry run rolls every step
back, so `launchgate tick --dry-run` reports exactly what a real pass would
do and changes nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot import metrics
from bot.services.context import AppContext

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What a pass did (or, dry-run, would do): human-readable lines."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


TickStep = Callable[[Session, AppContext, datetime, TickReport], None]
TICK_STEPS: list[TickStep] = []


def tick_step(fn: TickStep) -> TickStep:
    """Register a step; steps run in registration order."""
    TICK_STEPS.append(fn)
    return fn


def run_tick(ctx: AppContext, now: datetime | None = None, dry_run: bool = False) -> TickReport:
    _load_steps()
    report = TickReport()
    now = now or ctx.now()
    with metrics.TICK_SECONDS.time():
        for step in TICK_STEPS:
            _run_step(step, ctx, now, dry_run, report)
    return report


def _run_step(step: TickStep, ctx: AppContext, now: datetime, dry_run: bool, report: TickReport) -> None:
    session = Session(ctx.engine, expire_on_commit=False)
    try:
        step(session, ctx, now, report)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
        metrics.TICK_FAILURES.labels(step.__name__).inc()
        log.exception("tick step %s failed; the next tick retries it", step.__name__)
    finally:
        session.close()


def _load_steps() -> None:
    """Import the modules whose steps register themselves."""
    from bot.services import tick_steps  # noqa: F401
