"""What /healthz and /metrics report about the database and the delivery backlog."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.db import READ_ONLY, SQLITE_BUSY_TIMEOUT_S, read_only
from bot.services import outbox_admin


# A probe of the running process beyond the database: (fields for the body, problem or None).
# serve adds Slack delivery (paused on a refused token) and, in Socket Mode, the socket's state.
Probe = Callable[[], tuple[dict, str | None]]


@dataclass
class Health:
    ok: bool
    reason: str
    oldest_undelivered_seconds: float | None = None
    dead: int | None = None
    database: str = "writable"
    extra: dict = field(default_factory=dict)

    def body(self) -> dict:
        return {"status": "ok" if self.ok else self.reason, "database": self.database,
                "oldest_undelivered_seconds": (None if self.oldest_undelivered_seconds is None
                                               else round(self.oldest_undelivered_seconds)),
                "dead_letters": self.dead, **self.extra}


def write_probe(engine: Engine) -> str | None:
    """Try a write and roll it back: None if the database takes writes, else why not.

    A no-op UPDATE of Alembic's one-row table is as cheap as a write gets and
    still needs what a real command needs (a writable file, a read-write
    transaction, the row lock); nothing is ever committed.
    """
    sqlite = engine.dialect.name == "sqlite"
    try:
        # SQLite: a plain BEGIN (not the writers' BEGIN IMMEDIATE) and no busy wait, so the
        # probe never queues behind a writer (bot/db.py); "locked" means someone is writing.
        conn = engine.execution_options(**{READ_ONLY: True}).connect() if sqlite else engine.connect()
    except Exception as exc:
        return f"database unavailable: {_first_line(exc)}"
    try:
        with conn.begin() as tx:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            tx.rollback()
        return None
    except Exception as exc:  # any failure is the answer, not a crash of the probe
        if sqlite and "database is locked" in str(exc):
            return None  # another transaction holds the write lock: the database takes writes
        return f"database refuses writes: {_first_line(exc)}"
    finally:
        if sqlite:  # the pooled connection goes back to waiting like every other writer
            conn.connection.driver_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        conn.close()


def _first_line(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:240]


def check(engine: Engine, now: datetime, probes: Iterable[Probe] = ()) -> Health:
    problem = write_probe(engine)
    if problem:
        return Health(False, problem, database=problem)
    try:
        with read_only(engine) as session:
            health = Health(True, "ok", outbox_admin.oldest_undelivered_age(session, now),
                            outbox_admin.dead_count(session))
    except Exception as exc:
        reason = f"database unreadable: {type(exc).__name__}"
        return Health(False, reason, database=reason)
    for probe in probes:
        fields, problem = probe()
        health.extra.update(fields)
        if problem and health.ok:
            health.ok, health.reason = False, problem
    return health
