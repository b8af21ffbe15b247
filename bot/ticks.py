"""One scheduler pass: everything time-based that is due at `now`.

Each step runs in its own transaction and only writes rows (state, audit,
outbox); the delivery worker sends afterwards. A dry run rolls every step
back, so `launchgate tick --dry-run` reports exactly what a real pass would
do and changes nothing.

`STEPS` is the whole list, in order: nudges, escalations, then the digest (so
a digest already reflects the escalations of the same pass), waiver expiry,
and outbox retention. A new step is added here, nowhere else; services never
import this module.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot import metrics
from bot.services import (actuals_pull, capacity_ticks, digest, escalations, lifecycle, outbox_retention,
                          portfolio_digest, reminders, waivers)
from bot.services.context import AppContext, TickReport

log = logging.getLogger(__name__)

__all__ = ["STEPS", "TickReport", "TickStep", "run_tick"]

TickStep = Callable[[Session, AppContext, datetime, TickReport], None]

STEPS: tuple[TickStep, ...] = (
    reminders.send_nudges,
    escalations.send_escalations,
    digest.send_digests,
    waivers.expire_waivers,
    outbox_retention.prune_outbox,
    lifecycle.launch_day,
    portfolio_digest.send_portfolio_digest,
    actuals_pull.pull_actuals,
    capacity_ticks.send_actuals_prompts,
    capacity_ticks.send_capacity_digest,
)


def run_tick(ctx: AppContext, now: datetime | None = None, dry_run: bool = False,
             steps: tuple[TickStep, ...] = STEPS, budget: float | None = None,
             resume: dict | None = None) -> TickReport:
    """With a `budget` (seconds), batching steps start no new batch once it is spent (each still runs
    its first): a pass over 10,000 launches with everyone due stays short, holds no lock for long, and
    the scheduler runs the next pass at once for the rest (`report.unfinished`). Without one (the CLI's
    `tick`, the sandbox's clock), a pass does everything due. `resume` is the previous pass's
    `report.resume`: where its unfinished steps stopped."""
    report = TickReport(dry_run=dry_run, deadline=None if budget is None else time.monotonic() + budget,
                        start_after=dict(resume or {}))
    now = now or ctx.now()
    with metrics.TICK_SECONDS.time():
        for step in steps:
            _run_step(step, ctx, now, dry_run, report)
    if not report.unfinished:  # the round is over: the next pass starts every step afresh
        report.resume.clear()
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
