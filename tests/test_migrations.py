"""The Alembic history builds exactly the models, up and down, on both databases."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.db import downgrade, make_engine, migrate
from tests.conftest import ROOT


def test_migrations_match_models(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; run alembic revision --autogenerate: {diff}"


def test_downgrade_then_upgrade(db_url):
    engine = make_engine(db_url)
    downgrade(db_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"launch", "gate", "item", "auditevent", "outboxmessage", "launchrole", "gatedecision", "vote"} <= tables


# -- pytest-alembic's standard tests: one head; base → head one step at a time; the models
# match what the migrations build; every step down and back up again. ------------------------
from pytest_alembic.tests import (  # noqa: E402
    test_model_definitions_match_ddl, test_single_head_revision, test_up_down_consistency, test_upgrade)

__all__ = ["test_model_definitions_match_ddl", "test_single_head_revision", "test_up_down_consistency",
           "test_upgrade"]


@pytest.fixture
def alembic_config():
    from bot.db import alembic_config as config_for

    return config_for("sqlite://")  # env.py is handed pytest-alembic's connection; the URL is unused


@pytest.fixture
def alembic_engine(db_url):
    """An empty database of the kind under test (the PostgreSQL one goes back to head afterwards)."""
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
    migrate(db_url)


# -- the plain Alembic CLI from the project root, reading DATABASE_URL ----------------------
def _alembic(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATABASE_URL": url}
    return subprocess.run([str(Path(sys.executable).with_name("alembic")), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_alembic_cli_reads_database_url_up_check_and_down(db_url):
    head = _alembic("heads", url=db_url).stdout.split()[0]
    down = _alembic("downgrade", "-1", url=db_url)
    assert down.returncode == 0 and "Running downgrade" in down.stderr, down.stderr
    assert _alembic("current", url=db_url).stdout.split()[0] != head
    assert _alembic("check", url=db_url).returncode != 0  # models ahead of the database: check says so
    up = _alembic("upgrade", "head", url=db_url)
    assert up.returncode == 0 and f"-> {head}" in up.stderr, up.stderr
    check = _alembic("check", url=db_url)
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout, check.stderr
    assert "setting up autogenerate plugin" not in check.stderr


def test_the_alembic_cli_defaults_to_the_apps_sqlite_file(tmp_path):
    """No DATABASE_URL: sqlite:///launchgate.db in the working directory, as `launchgate migrate`."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.run([str(Path(sys.executable).with_name("alembic")), "-c", str(ROOT / "alembic.ini"),
                           "upgrade", "head"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "launchgate.db").exists()
