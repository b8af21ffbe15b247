"""Settings from the environment (and `.env`).

The variable names are fixed: deployments and other tools depend on them.
"""
from __future__ import annotations

import re
from datetime import time
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A one-line, human-readable configuration problem."""


def database_url(url: str) -> str:
    """DATABASE_URL as SQLAlchemy needs it: `postgres://` (Heroku, Render, many hosts) and a bare
    `postgresql://` mean PostgreSQL through psycopg 3, the driver launchgate ships with."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    # The app's and workspace's ids (A…, T…), optional: the daily reminder's button then opens the Home tab.
    slack_app_id: str | None = None
    slack_team_id: str | None = None
    database_url: str = "sqlite:///launchgate.db"
    port: int = Field(3000, ge=1, le=65535)
    checklists_dir: str = "checklists"
    stakeholders_file: str = "stakeholders.yaml"
    launches_channel: str | None = None
    portfolio_channel: str | None = None  # the weekly portfolio digest goes here; unset: a DM to each readiness lead
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"   # json: one object per line, with request/launch ids

    # Reminder policy defaults (a template may override the day counts).
    reminder_first_nudge_days: int = Field(3, ge=0, le=30)
    reminder_escalate_after_days: int = Field(2, ge=0, le=30)
    reminder_escalate_owner_after_days: int = Field(4, ge=0, le=60)
    workday_start: time = time(9, 0)
    workday_end: time = time(17, 30)
    tick_seconds: int = Field(60, ge=5, le=3600)
    # A scheduled pass starts no new batch after this many seconds; what is left runs in the next
    # pass, started at once (bot/ticks.py). Keeps every pass, and every lock it holds, short.
    tick_budget_seconds: float = Field(1.0, gt=0, le=600)
    # Capacity (issue 13): queues file, and the shortfall (% of required FTE) that marks a plan "gap".
    capacity_file: str = "capacity.yaml"
    capacity_gap_tolerance_percent: float = Field(5, ge=0, le=100)
    # Optional pull of actual contacts from a reporting endpoint (JSON), once a day by the tick.
    actuals_url: str | None = None
    actuals_auth_header: str | None = None          # e.g. "Authorization: Bearer …"
    actuals_timeout_seconds: float = Field(10, gt=0, le=120)
    actuals_retries: int = Field(3, ge=1, le=10)

    # Delivery: transient Slack failures are retried for a time budget, not a count.
    outbox_retry_hours: float = Field(24.0, gt=0, le=24 * 30)
    outbox_backoff_max_seconds: int = Field(300, ge=10, le=3600)

    # Who may open launches, and who may be named a launch's readiness lead: `everyone`, or a
    # comma-separated list of directory roles (admin, readiness_lead, product_manager, wfm…;
    # a role can list Slack user groups in STAKEHOLDERS_FILE) and user ids.
    launch_openers: str = "everyone"
    readiness_lead_from: str = "readiness_lead"

    # Evidence link checks (docs/integrations.md). Header values are secrets: never logged.
    linkcheck_allow_hosts: list[str] = []          # non-public hosts/CIDRs the check may fetch
    linkcheck_host_headers: dict[str, dict[str, str]] = Field(default_factory=dict, repr=False)
    linkcheck_login_urls: list[str] = []           # a final URL starting with one is a login page
    linkcheck_timeout_seconds: float = Field(5.0, gt=0, le=60)
    linkcheck_max_redirects: int = Field(5, ge=0, le=20)
    linkcheck_max_bytes: int = Field(65_536, ge=0, le=10_000_000)
    linkcheck_interval_hours: int = Field(24, ge=1, le=24 * 14)
    market_languages: dict[str, str] = {}          # {lang} in URL patterns; overrides built-in defaults
    # Outgoing webhooks (docs/integrations.md).
    webhooks_file: str = "webhooks.yaml"
    webhook_pause_after: int = Field(5, ge=1, le=100)      # failed attempts in a row before an endpoint pauses
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    integration_requests_per_minute: int = Field(60, ge=1, le=10_000)  # answering API, per token

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        v = database_url(v)
        try:
            make_url(v)
        except ArgumentError:
            raise ValueError("not a database URL; e.g. sqlite:///launchgate.db or "
                             "postgresql://user:password@host:5432/launchgate") from None
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("launch_openers", "readiness_lead_from")
    @classmethod
    def _who(cls, v: str) -> str:
        from bot.services.templates import ROLES

        entries = [e.strip() for e in v.split(",") if e.strip()]
        if not entries:
            raise ValueError("name `everyone`, directory roles or user ids")
        for entry in entries:
            if entry != "everyone" and entry not in (*ROLES, "admin") and not re.fullmatch(r"[UW][A-Z0-9]{2,}", entry):
                raise ValueError(f"'{entry}' is not `everyone`, a role ({', '.join(('admin', *ROLES))}) or a user id")
        return ",".join(entries)

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, v):
        return (v.strip().lower() or "text") if isinstance(v, str) else v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return v

    @field_validator("actuals_url", "actuals_auth_header")
    @classmethod
    def _blank_is_none_too(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @field_validator("launches_channel", "portfolio_channel", "slack_app_token", "slack_bot_token",
                     "slack_signing_secret", "slack_app_id", "slack_team_id")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def missing_slack_credentials(self) -> list[str]:
        need = ["SLACK_BOT_TOKEN"] + ([] if self.socket_mode else ["SLACK_SIGNING_SECRET"])
        return [name for name in need if not getattr(self, name.lower())]


def load_settings(**overrides) -> Settings:
    """Build settings or raise ConfigError naming the offending variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        raise ConfigError(f"{name}: {err['msg'].removeprefix('Value error, ')}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
