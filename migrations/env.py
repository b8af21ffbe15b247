"""Alembic environment: the models' metadata, batch mode for SQLite.

`launchgate migrate` passes its URL in; the plain Alembic CLI (`alembic upgrade head`,
`alembic check`, `alembic revision --autogenerate -m ...` from the project root) reads
DATABASE_URL like the app (environment, then .env; default sqlite:///launchgate.db).
"""
from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers every table)
from models.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config import ConfigError, load_settings

    try:
        return load_settings().database_url
    except ConfigError as exc:
        raise SystemExit(f"launchgate: configuration error: {exc}") from None


if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)  # the CLI's logging (alembic.ini)


def _render_item(type_, obj, autogen_context):
    """Write plain SQLAlchemy types so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(**kw) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        **kw,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")  # a Connection, or an Engine (pytest-alembic)
    if isinstance(connection, sa.engine.Connection):
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = connection if connection is not None else sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    if connection is None:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
