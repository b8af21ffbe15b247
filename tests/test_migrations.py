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


# -- the start-up check reads the head from the files (bot.db.schema_heads), not from Alembic --
def test_the_head_read_from_the_migration_files_is_alembics():
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config, schema_heads

    assert schema_heads() == frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _versions(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(f'"""{name}"""\nfrom alembic import op\n\n{text}\n')
    return tmp_path


def test_heads_are_the_revisions_no_file_builds_on(tmp_path):
    from bot.db import schema_heads

    chain = _versions(tmp_path, a="revision = 'a'\ndown_revision = None",
                      b='revision: str = "b"\ndown_revision: str | None = "a"')
    assert schema_heads(chain) == {"b"}
    _versions(tmp_path, c="revision = 'c'\ndown_revision = 'a'")  # a branch: two heads
    assert schema_heads(chain) == {"b", "c"}
    _versions(tmp_path, d="revision = 'd'\ndown_revision = ('b', 'c')")  # merged again
    assert schema_heads(chain) == {"d"}
    (tmp_path / "__init__.py").write_text("")
    assert schema_heads(chain) == {"d"}


@pytest.mark.parametrize("text", [
    "revision = make_id()\ndown_revision = 'a'",           # not a literal
    "revision = 'x'",                                       # no down_revision
    "revision = 'x'\ndown_revision = 'a'\nrevision = 'y'",  # twice
    "revision = 'x'\ndown_revision = 7",                    # not a revision id
])
def test_a_migration_file_not_in_the_plain_form_leaves_the_head_to_alembic(tmp_path, text):
    from bot.db import schema_heads

    assert schema_heads(_versions(tmp_path, a="revision = 'a'\ndown_revision = None", x=text)) is None


def test_a_database_at_head_is_checked_without_importing_alembic(db_url):
    """`serve` against an up-to-date database never loads Alembic (~0.1 s of every cold start)."""
    code = ("import sys; from bot.db import migrate; ran = migrate(sys.argv[1]); "
            "print(ran, 'alembic' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, db_url], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
