"""One scheduler pass: everything time-based that is due at `now`."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.services.context import AppContext

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What a pass did (or, dry-run, would do): human-readable lines."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


def run_tick(ctx: AppContext, now: datetime | None = None, dry_run: bool = False) -> TickReport:
    report = TickReport()
    now = now or ctx.now()
    for step in TICK_STEPS:
        step(ctx, now, dry_run, report)
    return report


TICK_STEPS: list = []  # reminder, escalation, digest and waiver steps register here
