"""Delivery: the outbox worker and what each outbox kind renders to.

Modules that register renderers are imported here so the worker knows them.
"""
from . import renderers  # noqa: F401
from . import reminder_renderers  # noqa: F401
from . import gate_renderers  # noqa: F401
