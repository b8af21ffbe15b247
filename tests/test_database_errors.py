"""A database launchgate cannot use ends in one line naming DATABASE_URL, exit 2, no traceback
(unless LOG_LEVEL=DEBUG): run as a person runs it, in a real process."""
from __future__ import annotations

import os
import shutil
import stat

import pytest
from sqlalchemy.engine import make_url

from bot.config import load_settings
from tests.cli_process import one_line_error, run_cli
from tests.conftest import PG_URL

UNREACHABLE = "postgresql+psycopg://launchgate:secret@127.0.0.1:9/launchgate"  # nothing listens on port 9


@pytest.mark.parametrize("command", [["migrate"], ["tick", "--dry-run"], ["serve"]])
def test_an_unreachable_database_is_one_line_naming_database_url(command, tmp_path):
    line = one_line_error(run_cli(*command, cwd=tmp_path, DATABASE_URL=UNREACHABLE, SLACK_BOT_TOKEN="xoxb-1",
                                  SLACK_SIGNING_SECRET="s"))
    assert "cannot reach the database in DATABASE_URL" in line and "Connection refused" in line
    assert "secret" not in line  # the password is never printed


def test_log_level_debug_shows_the_traceback_too(tmp_path):
    proc = run_cli("migrate", cwd=tmp_path, DATABASE_URL=UNREACHABLE, LOG_LEVEL="DEBUG")
    assert proc.returncode == 2 and "Traceback" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("launchgate: cannot reach the database in DATABASE_URL")


def test_a_url_that_is_not_a_database_url_names_the_variable(tmp_path):
    line = one_line_error(run_cli("migrate", cwd=tmp_path, DATABASE_URL="launchgate.db"))
    assert line.startswith("launchgate: configuration error: DATABASE_URL: not a database URL")


def test_a_missing_sqlite_directory_is_one_line(tmp_path):
    line = one_line_error(run_cli("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/gone/launchgate.db"))
    assert "cannot open the SQLite file in DATABASE_URL" in line and "gone" in line


def _read_only_copy(db_url: str, tmp_path) -> str:
    """The migrated database as a file this process may not write: chmod 444, and as root (who
    writes any file) opened read-only, as on a read-only mount."""
    path = tmp_path / "readonly.db"
    shutil.copy(make_url(db_url).database, path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return f"sqlite:///file:{path}?mode=ro&uri=true" if os.geteuid() == 0 else f"sqlite:///{path}"


@pytest.mark.skipif(bool(PG_URL), reason="a SQLite file")
@pytest.mark.parametrize("command", [["tick", "--dry-run"], ["serve"], ["stakeholders", "sync"]])
def test_a_read_only_sqlite_file_is_one_line(command, db_url, standin, tmp_path):
    url = _read_only_copy(db_url, tmp_path)
    line = one_line_error(run_cli(*command, cwd=tmp_path, DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test-token",
                                  SLACK_SIGNING_SECRET="s", SLACK_API_URL=standin.api_url))
    assert "the SQLite file in DATABASE_URL" in line and "is read-only" in line


def test_postgres_scheme_urls_are_accepted():
    """Heroku, Render and most hosts hand out postgres://…; SQLAlchemy only knows postgresql+driver://."""
    for given in ("postgres://u:p@db.example:5432/lg", "postgresql://u:p@db.example:5432/lg"):
        assert load_settings(database_url=given, _env_file=None).database_url == "postgresql+psycopg://u:p@db.example:5432/lg"
    assert load_settings(database_url="sqlite:///x.db", _env_file=None).database_url == "sqlite:///x.db"


@pytest.mark.skipif(not PG_URL, reason="needs the PostgreSQL server")
def test_migrate_runs_with_a_postgres_scheme_url(db_url, tmp_path):
    url = make_url(PG_URL).set(drivername="postgres").render_as_string(hide_password=False)
    proc = run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert proc.returncode == 0, proc.stderr
    assert "already at head (postgresql+psycopg://" in proc.stdout


@pytest.mark.skipif(not PG_URL, reason="needs the PostgreSQL server")
def test_a_database_that_does_not_exist_is_one_line_saying_how_to_create_it(tmp_path):
    url = make_url(PG_URL).set(database="launchgate_no_such_db").render_as_string(hide_password=False)
    line = one_line_error(run_cli("migrate", cwd=tmp_path, DATABASE_URL=url))
    assert "the database 'launchgate_no_such_db' in DATABASE_URL" in line and "does not exist" in line
    assert "createdb launchgate_no_such_db" in line


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's session settings")
def test_postgres_sessions_run_without_jit_and_keep_the_urls_own_options():
    """JIT compiled the list's count and page for 25–30 ms each at 10,000 launches (issue 10):
    sessions turn it off, and `options` given in DATABASE_URL still apply."""
    from sqlalchemy import text

    from bot.db import make_engine

    url = make_url(PG_URL).update_query_dict({"options": "-c statement_timeout=4321"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
    finally:
        engine.dispose()
