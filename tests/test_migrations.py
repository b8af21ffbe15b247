"""The Alembic history builds exactly the models, up and down, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.db import downgrade, make_engine, migrate


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
