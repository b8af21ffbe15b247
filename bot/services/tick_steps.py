"""Imports every module that registers a scheduler step (see bot/ticks.py).

Steps run in import order: reminders (nudges), escalations, then the digest,
so a digest already reflects the escalations of the same pass.
"""
from bot.services import reminders  # noqa: F401,I001
from bot.services import escalations  # noqa: F401
from bot.services import digest  # noqa: F401
from bot.services import waivers  # noqa: E402,F401  (waiver expiry)
from bot.services import outbox_retention  # noqa: E402,F401  (delivered rows nobody needs)
from bot.services import lifecycle  # noqa: E402,F401  (launch day: ready launches become launched)
