"""Logging set-up: plain text lines, or one JSON object per line (`LOG_FORMAT=json`) for log
shippers, carrying the ids of what is being handled (a Slack request, an outbox row and its
launch) from a context variable, so every line inside a request says which one it belongs to.
"""
from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_fields: contextvars.ContextVar[dict] = contextvars.ContextVar("launchgate_log_fields", default={})


def setup(level: str, fmt: str = "text") -> None:
    """The root handler on stderr. Every tick would log three lines at INFO, so the scheduler's chatter
    is for DEBUG; Alembic only logs when a migration runs (bot.db.migrate), minus its plug-in set-up."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])  # a no-op where a host (pytest) already set a handler
    if level != "DEBUG":
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@contextmanager
def bound(**fields) -> Iterator[None]:
    """Every log line inside carries these fields (None values are left out)."""
    token = _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the bound ids, and the
    traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 **_fields.get()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ContextExecutor(ThreadPoolExecutor):
    """Bolt runs listeners on its own threads: they keep the ids the request's middleware bound."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def slack_request_middleware(body: dict, next) -> None:  # noqa: A002 (Bolt's name)
    """Bolt middleware: a request id (Slack's event id, else a fresh one) and who asked.

    Bolt runs the listener after the middleware chain has returned, so the ids are set for the
    rest of this thread's request (replacing the previous request's), not scoped to `next()`;
    the listener's thread gets a copy (ContextExecutor)."""
    body = body if isinstance(body, dict) else {}
    who = body.get("user")  # interactions: {"id": …}; slash commands: user_id
    user = body.get("user_id") or (who.get("id") if isinstance(who, dict) else None)
    fields = {"request_id": body.get("event_id") or uuid.uuid4().hex[:16], "slack_user": user,
              "command": body.get("command")}
    _fields.set({k: v for k, v in fields.items() if v is not None})
    return next()
