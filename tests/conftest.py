"""Shared fixtures: a real database (SQLite or PostgreSQL), the Slack stand-in,
and the bot served over HTTP exactly as in production.

Set LAUNCHGATE_TEST_DATABASE_URL to a PostgreSQL URL to run the suite there;
otherwise every test gets its own SQLite file.
"""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LAUNCHGATE_TEST_DATABASE_URL")

BOT_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"


class FakeClock:
    """A clock tests move by hand; always timezone-aware UTC."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        assert at.tzinfo is not None
        self.at = at

    def advance(self, **kw) -> datetime:
        self.at += timedelta(**kw)
        return self.at


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2 August 2027, 08:00 UTC: far enough from any holiday edge cases.
    return FakeClock(datetime(2027, 8, 2, 8, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> Path:
    from bot.db import migrate

    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _migrated_pg():
    if not PG_URL:
        return None
    from bot.db import make_engine, migrate

    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    migrate(PG_URL)
    return PG_URL


@pytest.fixture
def db_url(request, tmp_path) -> str:
    """A freshly migrated, empty database for this test."""
    if PG_URL:
        request.getfixturevalue("_migrated_pg")
        from bot.db import make_engine

        engine = make_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    template = request.getfixturevalue("_migrated_sqlite")
    path = tmp_path / "launchgate.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url):
    from bot.db import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


STAKEHOLDERS = """\
admins: [UADMIN]
roles:
  readiness_lead: [ULEAD]
  wfm: [UWFM]
  marketing: [UMKT]
  content: [UCONTENT]
  knowledge: [UKB]
  training: [UTRAIN]
  vendor_management: [UVENDOR]
markets:
  FR:
    content: [UCONTENTFR]
"""

PEOPLE = {
    "UADMIN": "Europe/London", "ULEAD": "Europe/London", "UPM": "Europe/Paris", "UWFM": "America/New_York",
    "UMKT": "Europe/Berlin", "UCONTENT": "Europe/London", "UCONTENTFR": "Europe/Paris", "UKB": "Asia/Tokyo",
    "UTRAIN": "Europe/London", "UVENDOR": "Europe/Madrid", "UOUTSIDER": "UTC", "ULEAD2": "Europe/London",
}


@pytest.fixture(scope="session")
def _standin_server():
    from tests.slack_standin import SlackStandIn

    standin = SlackStandIn(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(_standin_server):
    _standin_server.reset()
    for user_id, tz in PEOPLE.items():
        _standin_server.add_user(user_id, name=user_id.lower(), tz=tz)
    return _standin_server


@pytest.fixture
def stakeholders_file(tmp_path) -> Path:
    path = tmp_path / "stakeholders.yaml"
    path.write_text(STAKEHOLDERS)
    return path


@pytest.fixture
def settings(db_url, standin, stakeholders_file):
    from bot.config import load_settings

    return load_settings(
        database_url=db_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=standin.api_url,
        checklists_dir=str(ROOT / "checklists"),
        stakeholders_file=str(stakeholders_file),
        launches_channel=None,
        _env_file=None,
    )


@pytest.fixture
def rt(settings, clock):
    """The wired runtime with the directory synced from STAKEHOLDERS."""
    from bot.delivery.worker import VirtualClock
    from bot.runtime import build_runtime
    from bot.services.directory import sync_stakeholders

    runtime = build_runtime(settings, clock=clock, pacer_clock=VirtualClock())  # pacing costs no real seconds
    sync_stakeholders(settings, runtime.ctx.engine, runtime.slack)
    yield runtime
    runtime.clicks.shutdown(wait=True)  # clicks still being applied finish before the engine goes
    runtime.answers.shutdown(wait=True)
    runtime.ctx.engine.dispose()


@dataclass
class Bot:
    url: str
    rt: object

    def drain(self):
        """Deliver everything due now (the scheduler's job in production)."""
        return self.rt.worker.drain()


def stop_waitress(server, thread) -> None:
    """Close every socket from inside waitress's own loop (closing them from this
    thread races the loop's select() and ends in EBADF), then stop its workers."""

    def close_all():
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:  # the loop already closed its trigger (it ended on its own): nothing left to wake
        pass
    thread.join(timeout=30)
    server.task_dispatcher.shutdown()


@pytest.fixture
def bot(rt, standin):
    """The bot served by waitress on a free port, as `launchgate serve` does."""
    from waitress import create_server

    from bot.slack_app import create_app
    from bot.web import make_wsgi_app

    server = create_server(make_wsgi_app(create_app(rt), rt.ctx.engine, ctx=rt.ctx), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    standin.settle_bot = rt.settle  # Done clicks are applied just after the ack: look once they are
    yield Bot(url=f"http://127.0.0.1:{server.effective_port}", rt=rt)
    standin.settle_bot = None
    stop_waitress(server, thread)
    # Every answer the bot gave Slack was one Slack would accept (in time, valid body).
    assert list(standin.bot_response_errors) == []
