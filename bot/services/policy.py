"""The reminder policy: settings' defaults, overridden per template, pinned per launch.

A launch keeps the policy it was opened with, like its template version, so
editing a template or the settings never changes the cadence of a running launch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import time

from bot.config import Settings
from models import Launch

from .templates import ChecklistTemplate


@dataclass(frozen=True)
class ReminderPolicy:
    first_nudge_days: int
    escalate_after_days: int
    escalate_owner_after_days: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def defaults(settings: Settings) -> ReminderPolicy:
    return ReminderPolicy(settings.reminder_first_nudge_days, settings.reminder_escalate_after_days,
                          settings.reminder_escalate_owner_after_days)


def for_template(settings: Settings, template: ChecklistTemplate) -> ReminderPolicy:
    overrides = {k: v for k, v in template.reminders.model_dump().items() if v is not None}
    return ReminderPolicy(**(defaults(settings).as_dict() | overrides))


def for_launch(settings: Settings, launch: Launch) -> ReminderPolicy:
    known = defaults(settings).as_dict()
    return ReminderPolicy(**(known | {k: v for k, v in (launch.reminder_policy or {}).items() if k in known}))


@dataclass(frozen=True)
class WorkingHours:
    start: time
    end: time

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingHours:
        return cls(settings.workday_start, settings.workday_end)
