"""Slack refused the bot token while running: pause delivery instead of dead-lettering.

A revoked or wrong token makes every message fail the same way, so dead-lettering them
would lose a day's nudges to one operator mistake. Instead the worker stops sending,
the rows stay queued, /healthz reports the pause, and `auth.test` is asked again every
`RECHECK`; once Slack accepts the token, delivery resumes where it stopped.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
RECHECK = timedelta(seconds=60)


class AuthPause:
    """Whether delivery is paused on a refused token (thread-safe; one per worker)."""

    def __init__(self) -> None:
        self.announce = True  # log the pause (`launchgate tick` reports it itself)
        self.error: str | None = None
        self.since: datetime | None = None
        self._next_check: datetime | None = None
        self._lock = threading.Lock()

    @property
    def paused(self) -> bool:
        return self.error is not None

    def pause(self, error: str, now: datetime) -> None:
        with self._lock:
            if self.error is None:
                self.since = now
                if self.announce:
                    log.error("Slack refused SLACK_BOT_TOKEN (%s): delivery paused, messages stay queued; "
                              "fix the token, delivery resumes by itself", error)
            self.error, self._next_check = error, now + RECHECK

    def blocked(self, now: datetime, client: WebClient) -> bool:
        """True while paused; every RECHECK asks `auth.test` whether the token works again."""
        with self._lock:
            if self.error is None:
                return False
            if now < self._next_check:
                return True
            self._next_check = now + RECHECK
        try:
            client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in AUTH_ERRORS:
                self.error = error
            return True
        except (URLError, OSError):
            return True
        with self._lock:
            log.warning("Slack accepts SLACK_BOT_TOKEN again: delivery resumed (paused since %s)",
                        self.since.isoformat(timespec="seconds") if self.since else "?")
            self.error = self.since = None
        return False

    def problem(self) -> str | None:
        """What /healthz says while paused."""
        if self.error is None:
            return None
        return (f"delivery paused: Slack refused SLACK_BOT_TOKEN ({self.error}) since "
                f"{self.since.isoformat(timespec='seconds')}; messages stay queued")

    def probe(self) -> tuple[dict, str | None]:
        """/healthz: `slack_delivery` is `ok` or `paused`, and a pause makes the answer 503."""
        return {"slack_delivery": "paused" if self.paused else "ok"}, self.problem()
