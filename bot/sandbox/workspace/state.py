"""Everything the fake workspace remembers, behind one lock.

The HTTP server is threaded and tests read state while the bot writes it,
so every read or write of `State` happens under `State.lock` (re-entrant).
`clear()` forgets everything but keeps the lock and the running server, so a
reset between tests costs microseconds.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .ids import BOT_ID, BOT_NAME, BOT_USER, TEAM_ID, IdMaker, dm_id
from .ratelimit import TokenBucket

TZ_LABELS = {
    "GMT": "Greenwich Mean Time", "BST": "British Summer Time", "IST": "Irish Standard Time",
    "WET": "Western European Time", "WEST": "Western European Summer Time",
    "CET": "Central European Time", "CEST": "Central European Summer Time",
    "EET": "Eastern European Time", "EEST": "Eastern European Summer Time",
    "EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time", "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time", "KST": "Korea Standard Time",
    "AEST": "Australian Eastern Standard Time", "AEDT": "Australian Eastern Daylight Time",
    "UTC": "Coordinated Universal Time",
}


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool = False
    deleted: bool = False

    def tz_fields(self) -> dict:
        """`tz_label` and `tz_offset` as Slack computes them: for the current moment."""
        now = datetime.now(ZoneInfo(self.tz))
        abbr = now.tzname() or ""
        offset = int(now.utcoffset().total_seconds())
        if self.tz == "Europe/Dublin" and abbr == "IST":
            label = "Irish Standard Time"
        elif abbr in TZ_LABELS:
            label = TZ_LABELS[abbr]
        else:
            sign = "+" if offset >= 0 else "-"
            label = f"UTC{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
        return {"tz": self.tz, "tz_label": label, "tz_offset": offset}

    def to_api(self) -> dict:
        profile = {"real_name": self.real_name, "real_name_normalized": self.real_name,
                   "display_name": self.name, "display_name_normalized": self.name, "team": TEAM_ID}
        if self.is_bot:
            profile.update(bot_id=BOT_ID if self.id == BOT_USER else "B" + self.id[1:], always_active=True)
        return {
            "id": self.id, "team_id": TEAM_ID, "name": self.name, "deleted": self.deleted, "color": "9f69e7",
            "real_name": self.real_name, **self.tz_fields(), "profile": profile,
            "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": self.is_bot, "is_app_user": False,
            "updated": 1_700_000_000, "is_email_confirmed": not self.is_bot,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    user: str | None = None          # the person, for a DM
    archived: bool = False
    creator: str = BOT_USER
    created: int = field(default_factory=lambda: int(time.time()))
    purpose: str = ""
    topic: str = ""

    @property
    def bot_is_member(self) -> bool:
        return BOT_USER in self.members

    def to_api(self, *, num_members: bool = False) -> dict:
        if self.is_im:
            return {"id": self.id, "created": self.created, "is_im": True, "is_org_shared": False,
                    "user": self.user, "is_user_deleted": False, "priority": 0, "is_archived": False}
        out = {
            "id": self.id, "name": self.name, "is_channel": not self.is_private, "is_group": self.is_private,
            "is_im": False, "is_mpim": False, "is_private": self.is_private, "created": self.created,
            "is_archived": self.archived, "is_general": False, "unlinked": 0, "name_normalized": self.name,
            "is_shared": False, "is_org_shared": False, "is_ext_shared": False, "is_pending_ext_shared": False,
            "context_team_id": TEAM_ID, "creator": self.creator, "is_member": self.bot_is_member,
            "topic": {"value": self.topic, "creator": self.creator if self.topic else "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator if self.purpose else "", "last_set": 0},
            "previous_names": [],
        }
        if num_members:
            out["num_members"] = len(self.members)
        return out


@dataclass
class Trigger:
    id: str
    issued: float                     # time.monotonic()
    user_id: str | None
    used: bool = False


@dataclass
class ViewRecord:
    view: dict                        # the view object as views.open answers it
    user_id: str
    open: bool = True


@dataclass
class ResponseUrl:
    """A response_url handed to the bot: where it came from and how often it was used."""

    id: str
    channel_id: str | None
    user_id: str
    origin: dict | None               # {"kind": "message"|"ephemeral", "channel": …, "ts": …}
    issued: float                     # time.time()
    uses: int = 0


@dataclass
class Call:
    """One Web API request the bot made, as the stand-in saw and answered it."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float                         # time.time() when it arrived
    mentions_broadcast: bool = False
    injected: bool = False            # answered by fail_next/rate_limit_next/fail_with

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else self.response.get("error")


@dataclass
class ResponsePost:
    """One POST to a response_url. `post["text"]` reads the posted body."""

    url_id: str
    body: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float
    mentions_broadcast: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    def __getitem__(self, key):
        return self.body[key]

    def get(self, key, default=None):
        return self.body.get(key, default)


@dataclass
class Injection:
    """A canned answer for the next `remaining` matching requests."""

    remaining: int
    method: str | None
    status: int
    body: dict | str
    headers: dict[str, str] = field(default_factory=dict)


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.ids = IdMaker()
        self.trigger_ttl = 3.0        # seconds; Slack's trigger_id lifetime
        self.issue_socket_url = None  # set by SlackStandIn: () -> a Socket Mode WebSocket URL
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.ids.reset()
            self.users: dict[str, User] = {BOT_USER: User(BOT_USER, BOT_NAME, BOT_NAME, "UTC", is_bot=True)}
            self.channels: dict[str, Channel] = {}
            self.usergroups: dict[str, dict] = {}
            self.messages: dict[str, list[dict]] = {}
            self.ephemerals: list[dict] = []
            self.views: dict[str, ViewRecord] = {}
            self.view_stacks: dict[str, list[str]] = {}   # user → open modal ids, root first
            self.home_views: dict[str, str] = {}           # user → home view id
            self.triggers: dict[str, Trigger] = {}
            self.response_urls: dict[str, ResponseUrl] = {}
            self.calls: list[Call] = []
            self.responses: list[ResponsePost] = []
            self.injections: list[Injection] = []
            self.rate_limits: dict[str, TokenBucket] = {}   # method → sustained limit (SlackStandIn.rate_limit)
            self.bot_response_errors: list[str] = []
            self.list_page_size: int | None = None     # cap list pages below `limit`, as Slack may

    # -- lookups ----------------------------------------------------------------
    def ensure_dm(self, user_id: str) -> Channel:
        """The bot's DM with a person, created on first use like Slack's app DM."""
        cid = dm_id(user_id)
        channel = self.channels.get(cid)
        if channel is None:
            channel = Channel(cid, "", is_private=True, members={user_id, BOT_USER}, is_im=True, user=user_id)
            self.channels[cid] = channel
        return channel

    def name_taken(self, name: str) -> bool:
        return any(c.name == name for c in self.channels.values() if not c.is_im)

    def find_message(self, channel_id: str, ts: str) -> dict | None:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        return None

    def take_injection(self, method: str) -> Injection | None:
        for rule in self.injections:
            if rule.remaining > 0 and rule.method in (None, method):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.injections.remove(rule)
                return rule
        return None
