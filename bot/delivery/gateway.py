"""The one place that asks Slack about people: `users.info` and user-group members.

Profiles (time zone, name) are cached in `UserProfile`; the worker refreshes them
at most once a `PROFILE_TTL` when it DMs someone, a PROFILE row forces a fetch,
and listeners ask only when nothing is cached yet. Everything else reads the cache
(`bot.services.recipients.user_tz`).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import unit_of_work
from bot.services.context import AppContext
from bot.services.directory import DirectoryError
from bot.services.recipients import user_tz
from models import UserProfile

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(days=7)


class SlackGateway:
    def __init__(self, ctx: AppContext, client: WebClient):
        self.ctx = ctx
        self.client = client

    # -- users.info ------------------------------------------------------------------------
    def _remember(self, user_id: str, info: dict) -> None:
        with unit_of_work(self.ctx.engine) as session:
            profile = session.get(UserProfile, user_id) or UserProfile(user_id=user_id)
            profile.tz = info.get("tz")
            profile.real_name = info.get("real_name") or info.get("name")
            profile.fetched_at = self.ctx.now()
            session.add(profile)

    def user_info(self, user_id: str) -> dict:
        """users.info, fresh (Slack errors propagate); the profile cache is updated on the way."""
        info = self.client.users_info(user=user_id)["user"]
        self._remember(user_id, info)
        return info

    def cache_profile(self, user_id: str, force: bool = False) -> None:
        """Remember the person's time zone; a failure here never blocks the message.

        `force` (a PROFILE row, queued when a reminder needs the zone) always asks
        Slack; a 5xx or 429 then retries the row, and a person Slack does not know
        is stored without a zone, which reminders read as UTC.
        """
        with unit_of_work(self.ctx.engine) as session:
            profile = session.get(UserProfile, user_id)
            if not force and profile and self.ctx.now() - profile.fetched_at < PROFILE_TTL:
                return
        try:
            info = self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.info("users.info %s failed: %s", user_id, exc.response.get("error"))
            if not force:
                return
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise
            info = {}
        except (URLError, OSError):
            if force:
                raise
            return
        self._remember(user_id, info)

    def ensure_tz(self, user_id: str) -> str | None:
        """The person's time zone, asking Slack once if no DM has cached it yet."""
        with unit_of_work(self.ctx.engine) as session:
            tz = user_tz(session, user_id)
        if tz:
            return tz
        try:
            return self.user_info(user_id).get("tz")
        except SlackApiError as exc:
            log.info("users.info %s failed: %s", user_id, exc.response.get("error"))
        except OSError as exc:
            log.info("users.info %s failed: %s", user_id, exc)
        return None

    def person_problem(self, user_id: str | None) -> str | None:
        """A bot or a deactivated account cannot own or answer an item (Slack knows; the services cannot)."""
        if not user_id:
            return None
        try:
            info = self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            return "Slack does not know that person." if exc.response.get("error") == "user_not_found" else None
        except OSError:
            return None
        if info.get("is_bot") or user_id == "USLACKBOT":
            return "Pick a person, not a bot."
        if info.get("deleted"):
            return "That account is deactivated. Pick someone active."
        return None

    # -- user groups (the stakeholder directory) ---------------------------------------------
    def usergroup_members(self, group: str) -> list[str]:
        try:
            return list(self.client.usergroups_users_list(usergroup=group)["users"])
        except SlackApiError as exc:
            raise DirectoryError([f"user group {group}: {exc.response.get('error')}"]) from None
        except OSError as exc:  # URLError and timeouts: Slack unreachable
            raise DirectoryError([f"user group {group}: Slack unreachable ({exc})"]) from None
