"""One pass of due link checks: claim a batch, fetch it with no transaction open, store its results
in one transaction (bench/links.py measures it).

Run by the scheduler every TICK_SECONDS and by `launchgate tick`; claims are
leased (SKIP LOCKED on PostgreSQL), so replicas never check the same row twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.db import unit_of_work
from bot.services import links
from bot.services.context import AppContext

from .fetch import FetchPolicy, LinkFetcher
from .guard import AddressPolicy, Resolver

log = logging.getLogger(__name__)


def fetch_policy(settings: Settings, resolve: Resolver | None = None) -> FetchPolicy:
    return FetchPolicy(
        addresses=AddressPolicy.from_list(settings.linkcheck_allow_hosts, resolve),
        host_headers={h.lower(): dict(v) for h, v in settings.linkcheck_host_headers.items()},
        login_urls=tuple(settings.linkcheck_login_urls),
        timeout=settings.linkcheck_timeout_seconds,
        max_redirects=settings.linkcheck_max_redirects,
        max_bytes=settings.linkcheck_max_bytes,
    )


@dataclass
class CheckReport:
    checked: int = 0
    broken: int = 0
    sent_back: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def run_due(ctx: AppContext, now: datetime | None = None, limit: int = 20, resolve: Resolver | None = None,
            max_batches: int = 5) -> CheckReport:
    now = now or ctx.now()
    report = CheckReport()
    with LinkFetcher(fetch_policy(ctx.settings, resolve)) as fetcher:
        for _ in range(max_batches):
            with unit_of_work(ctx.engine) as session:
                due = links.claim_due(session, now, limit)
            if not due:
                break
            results = []
            for check_id, url, date_rule in due:   # no transaction open while pages answer
                result = fetcher.check(url, date_rule)
                log.info("link check %s: %s (%s)", check_id, result.outcome, result.reason)
                results.append((check_id, result))
            with unit_of_work(ctx.engine) as session:   # the batch's results: one transaction, set-based
                batch = links.apply_results(session, results, now, ctx.settings)
            for applied in filter(None, batch):
                report.checked += 1
                report.statuses[applied.status] = report.statuses.get(applied.status, 0) + 1
                report.broken += applied.status == "broken"
                report.sent_back += applied.sent_back
            if len(due) < limit:
                break
    return report
