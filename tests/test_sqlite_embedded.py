"""SQLite as the embedded default: WAL, the write lock only for writers, /healthz never queued.

A writer (a tick step, a command) holds SQLite's one write lock for its whole
transaction. Reads — /healthz, /launch list, status — must not queue behind it.
"""
from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.db import ping, read_only, unit_of_work
from models import UserProfile
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's locking")


@pytest.fixture
def writer_holding_the_lock(engine):
    """A transaction that has written and holds the write lock until the test lets go."""
    holding, release = threading.Event(), threading.Event()

    def write():
        with unit_of_work(engine) as session:
            session.add(UserProfile(user_id="UWRITER", tz="Europe/London"))
            session.flush()
            holding.set()
            release.wait(timeout=60)

    thread = threading.Thread(target=write)
    thread.start()
    assert holding.wait(timeout=30)
    yield
    release.set()
    thread.join(timeout=30)


def test_the_database_is_in_wal_mode(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # NORMAL: a commit writes the WAL without waiting for the disk (no fsync per click);
        # the file is never corrupted, a power cut may undo the last commits (docs/decisions.md)
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1


def test_reads_and_health_do_not_wait_behind_a_writer(engine, writer_holding_the_lock):
    engine.pool.dispose()  # fresh connections, as a new request would get
    assert ping(engine) is True
    with read_only(engine) as session:
        # the writer's row is not committed yet: a snapshot read sees the state before it
        assert session.exec(select(UserProfile).where(UserProfile.user_id == "UWRITER")).first() is None


def test_healthz_answers_while_a_writer_holds_the_lock(bot, writer_holding_the_lock):
    response = httpx.get(f"{bot.url}/healthz", timeout=60)
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_launch_list_answers_while_a_writer_holds_the_lock(bot, standin, writer_holding_the_lock):
    response = standin.send_slash_command(bot.url, text="list", user_id="UPM")
    # acked at once; the page follows through the response_url, also within Slack's 3 s
    assert response.status_code == 200 and standin.reply(response, timeout=3)["text"].endswith("launch(es)")
    assert standin.bot_response_errors == []


def test_writers_queue_instead_of_failing(engine):
    """Twenty read-then-write transactions at once: all commit (BEGIN IMMEDIATE + busy timeout)."""
    from tests.test_votes_concurrency import all_at_once

    def write(n: int):
        with unit_of_work(engine) as session:
            session.exec(select(UserProfile)).all()
            session.add(UserProfile(user_id=f"U{n:02d}"))
        return n

    assert all_at_once(20, write) == list(range(20))
    with read_only(engine) as session:
        assert len(session.exec(select(UserProfile)).all()) == 20
