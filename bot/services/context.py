"""What services need from the running app, without any Slack in it."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.config import Settings
from models import utcnow

from .templates import ChecklistTemplate


@dataclass
class TickReport:
    """What a scheduler pass did (or, dry-run, would do): human-readable lines."""

    lines: list[str] = field(default_factory=list)
    dry_run: bool = False  # steps that commit per batch (tick_batches.end_batch) leave that to the pass
    # time.monotonic() after which batching steps start no new batch (None: run every batch). Due rows
    # stay due in the database, so what a pass leaves is simply the next pass's first batches.
    deadline: float | None = None
    unfinished: list[str] = field(default_factory=list)  # steps that stopped at the deadline
    batches: int = 0  # batches run so far this pass (the first one runs whatever the budget)
    # Where each unfinished step resumes (the last key it did: a person's id, a launch id). The next
    # pass starts after it, so passes make progress even over rows that stay due (a snoozed item).
    start_after: dict[str, Any] = field(default_factory=dict)
    resume: dict[str, Any] = field(default_factory=dict)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclass
class AppContext:
    engine: Engine
    settings: Settings
    templates: dict[str, ChecklistTemplate]
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()
