"""The fake workspace's fixed identities and how new ids and timestamps look."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time

BOT_USER = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "launchgate"
TEAM_ID = "T0TEST"
TEAM_DOMAIN = "standin"
APP_ID = "A0STANDIN"
VERIFICATION_TOKEN = "standin-verification-token"  # the legacy token Slack puts in payloads
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"


class IdMaker:
    """Slack-looking ids (`C…`, `V…`) and message timestamps that only go up.

    Timestamps are deterministic (`1700000000.000100`, `…000200`, …) so test
    output is stable; they restart on `reset()` along with every message.
    """

    TS_START = 1_700_000_000_000_000  # microseconds

    def __init__(self):
        self._lock = threading.Lock()
        self.clock = None  # the sandbox sets a callable returning epoch seconds: ts follow its virtual time
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._next = 1
            self._ts = self.TS_START

    def new(self, prefix: str) -> str:
        with self._lock:
            value, self._next = self._next, self._next + 1
            return f"{prefix}{value:08X}"

    def ts(self) -> str:
        with self._lock:
            self._ts += 100
            if self.clock is not None:
                self._ts = max(self._ts, int(self.clock() * 1_000_000))
            return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def dump(self) -> dict:
        with self._lock:
            return {"next": self._next, "ts": self._ts}

    def load(self, saved: dict) -> None:
        with self._lock:
            self._next, self._ts = int(saved["next"]), int(saved["ts"])


def dm_id(user_id: str) -> str:
    """The bot's DM with a person: derived from the user id, so stable across resets."""
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()


def trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def short_id(n: int = 5) -> str:
    """Slack's generated block_id / action_id style."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))
