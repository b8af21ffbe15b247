"""Delivery: the outbox worker and what each outbox kind renders to.

Modules that register renderers are imported here so the worker knows them.
"""
from . import (
    delegate_renderers,  # noqa: F401
    gate_renderers,  # noqa: F401
    reminder_renderers,  # noqa: F401
    renderers,  # noqa: F401
)
