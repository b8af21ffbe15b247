"""Use cases and their rules; nothing here imports Slack.

`effects` is imported here so its commit hook (outbox rows and derived effects of
every transaction, see bot/services/effects.py) is installed whenever a service is.
"""
from . import effects  # noqa: F401  (installs the unit of work's commit hook)
