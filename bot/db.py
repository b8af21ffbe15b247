"""Engine, migrations and the unit of work.

One user command = one `unit_of_work()` block: the state change, its audit
event and its outbox rows commit together or not at all.
"""
from __future__ import annotations

import ast
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

import models  # noqa: F401  (registers every table)

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
T = TypeVar("T")
READ_ONLY = "launchgate_read_only"  # execution option: this transaction only reads
SQLITE_BUSY_TIMEOUT_S = 30
# A whole command is retried this many times on a deadlock or serialization failure,
# after a full-jitter pause of up to RETRY_BASE_S * 2**attempt (0.05, 0.1, 0.2, 0.4… s).
RETRY_ATTEMPTS = 6
RETRY_BASE_S = 0.05
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_serialised_writes(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"options": _pg_options(url)})


def _pg_options(url: str) -> str:
    """PostgreSQL session settings: the URL's own `options`, plus JIT off. launchgate's statements
    are short OLTP reads and writes; at 10,000 launches the planner's cost estimate of the list's
    count and page passes `jit_above_cost`, and compiling them took 25–30 ms each for queries
    that run in 5 (bench/ack.py). A URL that sets `jit` itself wins (it comes last)."""
    given = make_url(url).query.get("options") or ""
    given = " ".join(given) if isinstance(given, tuple) else given
    return " ".join(part for part in ("-c jit=off", given) if part)


def _sqlite_serialised_writes(engine: Engine) -> None:
    """Make every SQLite transaction that may write take the write lock up front.

    pysqlite's lazy BEGIN lets two threads read, then both fail to upgrade to
    a write lock; BEGIN IMMEDIATE queues them instead (busy timeout 30 s).
    Transactions opened with `read_only()` (and /healthz) use a plain BEGIN:
    in WAL mode they read a snapshot and never wait behind a writer.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL's recommended level: commits append to the WAL without an fsync each (a
            # Done click no longer waits for the disk); still never corrupt, and an app crash
            # loses nothing — only a power cut or OS crash may undo the last commits.
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


_WRITE_TURNS: dict[str, threading.RLock] = {}
_WRITE_TURNS_LOCK = threading.Lock()


@contextmanager
def _writer_turn(engine: Engine) -> Iterator[None]:
    """On SQLite, writers of this process wait for their turn on a Python lock (first come,
    first served, handed over at once) before BEGIN IMMEDIATE.

    SQLite's own busy wait polls with sleeps of up to 100 ms, so with eight clicks queued
    the unlucky ones kept missing the lock: 1 in 100 Done clicks took 0.7 s. The lock is
    per database file and re-entrant; after the busy timeout a writer goes ahead anyway and
    meets SQLite's lock as before (other processes — `launchgate tick` from cron — still
    queue that way).
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITE_TURNS_LOCK:
        turn = _WRITE_TURNS.setdefault(str(engine.url), threading.RLock())
    got = turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        yield
    finally:
        if got:
            turn.release()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """Commit on success, roll back on error.

    An error marked `keeps_record` (a refused attempt) commits what was written
    before it was raised: services check permission before changing anything,
    so that is only the audit event recording the refusal.
    """
    with _writer_turn(engine):
        session = Session(engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException as exc:
            if getattr(exc, "keeps_record", False):
                session.commit()
            else:
                session.rollback()
            raise
        finally:
            session.close()


@contextmanager
def read_only(engine: Engine) -> Iterator[Session]:
    """A session for a path that only reads (lists, status, Home, modals being opened).

    On SQLite it never takes the write lock, so it never queues behind a tick
    step or a command; anything it writes by mistake is rolled back.
    """
    session = Session(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()  # gives the connection back with its transaction rolled back; loaded rows stay readable


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the database undid the whole transaction and
    running it again is safe."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in RETRYABLE_SQLSTATES


def transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Run `work(session)` as one unit of work; on a deadlock or serialization failure run
    it again from the start (bounded, with full jitter) before anyone sees an error.

    `work` must do nothing but database work: it may run more than once.
    """
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work(engine) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            pause = random.uniform(0, RETRY_BASE_S * 2 ** attempt)
            log.info("transaction retried after %s (attempt %d, pause %.3fs)", type(exc.orig).__name__,
                     attempt, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def ping(engine: Engine) -> bool:
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False  # the app's logging stays as it is (alembic.ini is the CLI's)
    return cfg


def migrate(url: str, revision: str = "head") -> bool:
    """Upgrade to `revision`; returns whether anything ran. A database already at head is only
    looked at (no Alembic run, so no Alembic log lines on every start; Alembic is not even
    imported then, ~0.1 s of every cold start)."""
    if revision == "head" and _at_head(url):
        return False
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    return True


def _at_head(url: str) -> bool:
    """Read alembic_version directly (Alembic's MigrationContext logs two INFO lines per look)."""
    from sqlalchemy import create_engine as sa_engine, inspect
    from sqlalchemy.pool import NullPool

    engine = sa_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = (set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
                       if inspect(conn).has_table("alembic_version") else set())
    finally:
        engine.dispose()
    heads = schema_heads()
    if heads is None:  # a migration file not in the plain form: Alembic reads the history itself
        from alembic.script import ScriptDirectory

        heads = frozenset(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    return current == heads


VERSIONS = ROOT / "migrations" / "versions"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def schema_heads(versions: Path = VERSIONS) -> frozenset[str] | None:
    """The head revision(s) of the migrations: every `revision` no file names as its
    `down_revision`. Read from the files' text, so the start-up check needs no Alembic import;
    None (ask Alembic) when a file is not in the plain form Alembic's template writes (literal
    `revision = '…'` and `down_revision = …` once each). tests/test_migrations.py holds it equal
    to Alembic's own heads."""
    revisions, parents = set(), set()
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith(("__", ".#")):
            continue
        found = _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        if sorted(name for name, _ in found) != ["down_revision", "revision"]:
            return None
        try:
            values = {name: ast.literal_eval(value) for name, value in found}
        except (ValueError, SyntaxError):
            return None
        revision, down = values["revision"], values["down_revision"]
        downs = (down,) if isinstance(down, str) else down if isinstance(down, tuple) else ()
        if not isinstance(revision, str) or (down is not None and not downs) \
                or not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return frozenset(revisions - parents) or None


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
