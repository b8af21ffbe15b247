"""What services need from the running app, without any Slack in it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot.config import Settings
from models import utcnow

from .templates import ChecklistTemplate


@dataclass
class TickReport:
    """What a scheduler pass did (or, dry-run, would do): human-readable lines."""

    lines: list[str] = field(default_factory=list)
    dry_run: bool = False  # steps that commit per batch (tick_batches.end_batch) leave that to the pass

    def add(self, line: str) -> None:
        self.lines.append(line)


@dataclass
class AppContext:
    engine: Engine
    settings: Settings
    templates: dict[str, ChecklistTemplate]
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()
