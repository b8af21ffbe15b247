"""Wiring: settings → engine, templates, Slack client, worker, Bolt app.

Built once per process; tests build one per app under test.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from bot.config import Settings
from bot.db import make_engine, read_only, transaction, unit_of_work
from bot.delivery.gateway import SlackGateway
from bot.delivery.slack_client import make_client
from bot.delivery.worker import ChannelPacer, OutboxWorker, PacerClock
from bot.logs import ContextExecutor
from bot.services import effects
from bot.services.context import AppContext
from bot.services.templates import load_templates
from models import utcnow

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    ctx: AppContext
    client: WebClient                   # the outbox worker's: never sleeps on 429
    worker: OutboxWorker
    listener_client: WebClient | None = None  # Bolt's: waits Retry-After once (see make_client)
    kick_hook: Callable[[], None] | None = None
    # Answers given after the ack (`/launch list`, `/launch status`): their own small pool, so a
    # burst of slow reads never delays another request's ack (Bolt's listener pool stays free).
    answers: ThreadPoolExecutor = field(
        default_factory=lambda: ContextExecutor(max_workers=2, thread_name_prefix="answer"))
    # Clicks saved before the ack are applied here just after it (bot/listeners/clicks.py): one
    # thread, so a burst of clicks is applied one after another instead of competing with acks.
    clicks: ThreadPoolExecutor = field(
        default_factory=lambda: ContextExecutor(max_workers=1, thread_name_prefix="click"))
    _pending: int = 0
    _settled: threading.Condition = field(default_factory=threading.Condition)

    @property
    def slack(self) -> SlackGateway:
        """The worker's Slack gateway (profiles, user groups)."""
        return self.worker.slack

    def unit_of_work(self):
        """One transaction (bot.db.unit_of_work on this runtime's engine)."""
        return unit_of_work(self.ctx.engine)

    def transaction(self, work):
        """`work(session)` as one transaction, run again on a deadlock (bot.db.transaction)."""
        return transaction(self.ctx.engine, work)

    def read_only(self):
        """A session for a path that only reads (bot.db.read_only): never waits behind a writer."""
        return read_only(self.ctx.engine)

    def answer_later(self, job: Callable[[], None]) -> None:
        """Run `job` on the answer pool (after the request was acked)."""
        self.answers.submit(job)

    def apply_later(self, job: Callable[[], None]) -> None:
        """Run `job` on the click pool (after the request was acked); `settle` waits for it."""
        with self._settled:
            self._pending += 1

        def run() -> None:
            try:
                job()
            finally:
                with self._settled:
                    self._pending -= 1
                    self._settled.notify_all()

        self.clicks.submit(run)

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every click taken so far is applied (what a person sees a moment after
        clicking; tests and the sandbox wait here instead of polling)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def kick(self) -> None:
        """Ask the delivery loop to drain now rather than at its next interval."""
        if self.kick_hook is not None:
            self.kick_hook()


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow,
                  pacer_clock: PacerClock | None = None, templates: dict | None = None) -> Runtime:
    """`pacer_clock` (default: wall time) is what the worker's per-channel pacer waits on;
    tests pass a VirtualClock so pacing costs them no real seconds. `templates`: already
    loaded ones (serve validates them first; loading is a good part of a cold start)."""
    engine = make_engine(settings.database_url)
    effects.configure(engine, settings)  # market languages and webhook endpoints for derived effects
    templates = templates if templates is not None else load_templates(settings.checklists_dir)
    ctx = AppContext(engine=engine, settings=settings, templates=templates, clock=clock)
    client = make_client(settings.slack_bot_token or "", settings.slack_api_url, clock=clock, pace_clock=pacer_clock)
    listener_client = make_client(settings.slack_bot_token or "", settings.slack_api_url, wait_on_rate_limit=True)
    worker = OutboxWorker(ctx, client, pacer=ChannelPacer(clock=pacer_clock))
    return Runtime(ctx=ctx, client=client, worker=worker, listener_client=listener_client)
