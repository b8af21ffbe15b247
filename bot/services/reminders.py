"""Reminder cadence (being built: see issue "Stakeholder prompts, reminders…").

`schedule_item` is the one place an item's next nudge time is set; every
service that creates or reopens an item calls it.
"""
from __future__ import annotations

from datetime import datetime

from models import Item, Launch

from .policy import ReminderPolicy


def schedule_item(item: Item, launch: Launch, policy: ReminderPolicy, now: datetime) -> None:
    """Set `item.next_nudge_at` for an open item (clear it for a closed one)."""
    item.next_nudge_at = max(item.due_at, now) if item.is_open else None
