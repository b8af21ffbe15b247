"""In-process periodic ticks (APScheduler, memory job store, never shared).

All due times live in the database; a tick only asks "what is due now?",
so any number of replicas can run their own scheduler safely: ticks claim
rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL and the nudge ledger's
unique key makes a second replica's nudge a no-op.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import Runtime
from bot.ticks import run_tick

log = logging.getLogger(__name__)
DRAIN_SECONDS = 2


def _check_links(rt: Runtime, kick) -> None:
    """Evidence links due for a check (HTTP off the request path); a broken one queues messages."""
    from bot.linkcheck.runner import run_due

    if run_due(rt.ctx).checked:
        kick()


def _apply_clicks(rt: Runtime) -> None:
    """Done / Reopen clicks saved but not applied by the process that took them (it stopped)."""
    from bot.listeners.clicks import apply_due

    if apply_due(rt):
        rt.kick()


def start_scheduler(rt: Runtime, first_tick_now: bool = True) -> BackgroundScheduler:
    """With `first_tick_now=False` the tick waits for `release_first_tick` (called once the
    HTTP server listens), so a long first pass never delays /healthz."""
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone=timezone.utc,
    )
    again = threading.Event()
    running = threading.Event()
    lock = threading.Lock()

    def drain_until_quiet() -> None:
        """Drain; once more if a command was committed and kicked meanwhile."""
        with lock:
            running.set()
        try:
            while True:
                again.clear()
                rt.worker.drain_all()
                with lock:
                    if not again.is_set():
                        running.clear()
                        return
        finally:
            running.clear()

    drain = scheduler.add_job(drain_until_quiet, "interval", seconds=DRAIN_SECONDS, id="outbox-drain")

    def kick() -> None:
        """Coalesced: a kick while a drain runs only asks that drain for one more round. Moving the
        job's next run instead would make APScheduler skip it with a "maximum number of running
        instances reached" warning on ordinary clicks."""
        with lock:
            again.set()
            if running.is_set():
                return
            drain.modify(next_run_time=datetime.now(timezone.utc))

    resume: dict = {}  # where the last pass's unfinished steps stopped (this process's own passes only)

    def tick() -> None:
        nonlocal resume
        report = run_tick(rt.ctx, budget=rt.ctx.settings.tick_budget_seconds, resume=resume)
        resume = report.resume
        if report.lines:
            log.info("tick: %d reminder(s) queued", len(report.lines))
            kick()
        if report.unfinished:  # the budget ran out with batches left: the next pass starts now
            log.info("tick: %s continue in the next pass", ", ".join(dict.fromkeys(report.unfinished)))
            scheduler.get_job("tick").modify(next_run_time=datetime.now(timezone.utc))

    scheduler.add_job(tick, "interval", seconds=rt.ctx.settings.tick_seconds, id="tick",
                      next_run_time=datetime.now(timezone.utc) if first_tick_now else None)
    scheduler.add_job(lambda: _check_links(rt, kick), "interval", seconds=rt.ctx.settings.tick_seconds,
                      id="link-checks")
    scheduler.add_job(lambda: _apply_clicks(rt), "interval", seconds=rt.ctx.settings.tick_seconds,
                      id="pending-clicks")
    rt.kick_hook = kick  # commands ask for prompt delivery instead of waiting for the interval
    scheduler.start()
    return scheduler


def release_first_tick(scheduler: BackgroundScheduler) -> None:
    """Run the first tick now (the server is listening) and then every TICK_SECONDS."""
    scheduler.get_job("tick").modify(next_run_time=datetime.now(timezone.utc))
