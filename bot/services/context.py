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
class AppContext:
    engine: Engine
    settings: Settings
    templates: dict[str, ChecklistTemplate]
    clock: Callable[[], datetime] = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()
