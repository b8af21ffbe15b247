"""What /healthz and /metrics report about the database and the delivery backlog."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.services import outbox_admin


@dataclass
class Health:
    ok: bool
    reason: str
    oldest_undelivered_seconds: float | None = None
    dead: int | None = None

    def body(self) -> dict:
        return {"status": "ok" if self.ok else self.reason, "database": "writable" if self.ok else self.reason,
                "oldest_undelivered_seconds": (None if self.oldest_undelivered_seconds is None
                                               else round(self.oldest_undelivered_seconds)),
                "dead_letters": self.dead}


def write_probe(engine: Engine) -> str | None:
    """Try a write and roll it back: None if the database takes writes, else why not.

    A no-op UPDATE of Alembic's one-row table is as cheap as a write gets and
    still needs what a real command needs (a writable file, a read-write
    transaction, the row lock); nothing is ever committed.
    """
    try:
        conn = engine.connect()
    except Exception as exc:
        return f"database unavailable: {_first_line(exc)}"
    try:
        with conn.begin() as tx:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            tx.rollback()
        return None
    except Exception as exc:  # any failure is the answer, not a crash of the probe
        return f"database refuses writes: {_first_line(exc)}"
    finally:
        conn.close()


def _first_line(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:240]


def check(engine: Engine, now: datetime) -> Health:
    problem = write_probe(engine)
    if problem:
        return Health(False, problem)
    try:
        with Session(engine) as session:
            return Health(True, "ok", outbox_admin.oldest_undelivered_age(session, now),
                          outbox_admin.dead_count(session))
    except Exception as exc:
        return Health(False, f"database unreadable: {type(exc).__name__}")
