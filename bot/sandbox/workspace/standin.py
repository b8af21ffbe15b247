"""`SlackStandIn`: the object tests hold. Set up the workspace, inspect what the
bot did, inject failures; sending to the bot comes from `SendsToBot`."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from . import ids
from .ratelimit import TokenBucket
from .server import StandInServer
from .socket_mode import SocketModeServer
from .state import Call, Channel, Injection, ResponsePost, State, User
from .to_bot import SendsToBot

SERVER_ERROR_TEXT = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class SlackStandIn(SendsToBot):
    BOT_USER = ids.BOT_USER
    BOT_ID = ids.BOT_ID
    TEAM_ID = ids.TEAM_ID

    def __init__(self, token: str = "xoxb-test-token", signing_secret: str = "test-signing-secret",
                 app_token: str = "xapp-1-A0STANDIN-1-standin", *, socket_mode: bool = True, **server_options):
        """`socket_mode=False`: no Socket Mode server (the sandbox talks signed HTTP only);
        `server_options` go to `StandInServer` (host, port, pages, after_call)."""
        self.token = token
        self.signing_secret = signing_secret
        self.app_token = app_token
        self.state = State()
        self.socket = SocketModeServer() if socket_mode else None
        if self.socket is not None:
            self.state.issue_socket_url = self.socket.issue_url
        self._server = StandInServer(self.state, token, app_token, **server_options)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> "SlackStandIn":
        self._server.start()
        if self.socket is not None:
            self.socket.start()
        return self

    def stop(self) -> None:
        if self.socket is not None:
            self.socket.stop()
        self._server.stop()

    def reset(self) -> None:
        """Forget users, channels, messages, calls and injected failures; keep serving."""
        self.state.clear()

    def __enter__(self) -> "SlackStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    @property
    def trigger_ttl(self) -> float:
        """How long a trigger_id stays valid (Slack: 3 seconds)."""
        return self.state.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.state.trigger_ttl = seconds

    @property
    def list_page_size(self) -> int | None:
        """At most this many conversations per `conversations.list` page, whatever `limit` asks
        (Slack may return fewer than `limit`); tests shrink it to exercise pagination."""
        return self.state.list_page_size

    @list_page_size.setter
    def list_page_size(self, size: int | None) -> None:
        with self.state.lock:
            self.state.list_page_size = size

    # -- the workspace --------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, tz: str = "Europe/London", is_bot: bool = False,
                 real_name: str | None = None) -> str:
        ZoneInfo(tz)  # an unknown zone is a test mistake: fail here, not in users.info
        name = name or user_id.lower()
        with self.state.lock:
            self.state.users[user_id] = User(user_id, name, real_name or name.replace(".", " ").title(), tz,
                                             is_bot=is_bot)
        return user_id

    def deactivate_user(self, user_id: str) -> None:
        """Slack keeps deactivated people: users.info says deleted, they leave every channel."""
        with self.state.lock:
            self.state.users[user_id].deleted = True
            for channel in self.state.channels.values():
                if not channel.is_im:
                    channel.members.discard(user_id)

    def add_channel(self, channel_id: str | None = None, name: str | None = None, is_private: bool = False,
                    members: Iterable[str] = (), bot_member: bool = True, archived: bool = False,
                    creator: str = "UADMIN") -> str:
        """A channel that already exists; the bot is in it (as if invited) unless bot_member=False.

        `creator=SlackStandIn.BOT_USER` makes it one the bot created itself (e.g. just before a crash)."""
        with self.state.lock:
            channel_id = channel_id or self.state.ids.new("G" if is_private else "C")
            name = name or channel_id.lower()
            if self.state.name_taken(name):
                raise ValueError(f"a channel is already named {name!r}")
            channel = Channel(channel_id, name, is_private=is_private, members=set(members), archived=archived,
                              creator=creator)
            if bot_member:
                channel.members.add(ids.BOT_USER)
            self.state.channels[channel_id] = channel
        return channel_id

    def archive_channel(self, channel_id: str) -> None:
        with self.state.lock:
            self.state.channels[channel_id].archived = True

    def add_members(self, channel_id: str, *user_ids: str) -> None:
        with self.state.lock:
            self.state.channels[channel_id].members.update(user_ids)

    def remove_bot(self, channel_id: str) -> None:
        """As if someone removed the bot from the channel."""
        with self.state.lock:
            self.state.channels[channel_id].members.discard(ids.BOT_USER)

    def add_usergroup(self, group_id: str, handle: str, users: Iterable[str]) -> str:
        with self.state.lock:
            self.state.usergroups[group_id] = {"handle": handle, "users": list(users)}
        return group_id

    def dm_channel_for(self, user_id: str) -> str:
        """The bot's DM with this person (stable `D…` id, the same across resets)."""
        return ids.dm_id(user_id)

    # -- what happened --------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self.state.lock:
            return list(self.state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls_to(method) if c.ok]

    def messages(self, channel_id: str) -> list[dict]:
        """The messages in a channel now, oldest first (updates applied, deletions gone)."""
        with self.state.lock:
            return copy.deepcopy(self.state.messages.get(channel_id, []))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        with self.state.lock:
            return [copy.deepcopy(e) for e in self.state.ephemerals
                    if channel in (None, e["channel"]) and user in (None, e["user"])]

    @property
    def responses(self) -> list[ResponsePost]:
        with self.state.lock:
            return list(self.state.responses)

    @property
    def bot_response_errors(self) -> list[str]:
        """Answers to Slack's requests that Slack would have refused (see to_bot.py)."""
        with self.state.lock:
            return list(self.state.bot_response_errors)

    def channel(self, channel_id: str) -> dict:
        """The channel as conversations.info would show it, plus its `members`."""
        with self.state.lock:
            channel = self.state.channels[channel_id]
            return {**channel.to_api(num_members=True), "members": sorted(channel.members)}

    def views(self, user_id: str | None = None) -> list[dict]:
        """Open modals (root first) for one person or everyone."""
        with self.state.lock:
            stacks = [self.state.view_stacks.get(user_id, [])] if user_id else self.state.view_stacks.values()
            return [copy.deepcopy(self.state.views[v].view) for stack in stacks for v in stack]

    def view(self, view_id: str) -> dict:
        with self.state.lock:
            return copy.deepcopy(self.state.views[view_id].view)

    def home_view(self, user_id: str) -> dict | None:
        with self.state.lock:
            view_id = self.state.home_views.get(user_id)
            return copy.deepcopy(self.state.views[view_id].view) if view_id else None

    def wait_for(self, condition, timeout: float = 3.0, interval: float = 0.01):
        """Poll `condition()` until truthy (Bolt runs event listeners after acking)."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                if not value:
                    raise TimeoutError(f"condition not met within {timeout}s")
                return value
            time.sleep(interval)

    # -- failures -------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500, method: str | None = None) -> None:
        """The next n matching Web API requests get this HTTP status and change nothing."""
        body = SERVER_ERROR_TEXT.get(status) or {"ok": False, "error": "internal_error" if status >= 500
                                                  else f"http_{status}"}
        self._inject(Injection(n, method, status, body))

    def rate_limit_next(self, n: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        self._inject(Injection(n, method, 429, {"ok": False, "error": "ratelimited"},
                               {"Retry-After": str(retry_after)}))

    def rate_limit(self, method: str, per_minute: float | None, burst: int | None = None,
                   clock: Callable[[], float] = time.monotonic) -> None:
        """Limit `method` for as long as it is set, as Slack's tiers do: `per_minute` sustained,
        `burst` at once (default: 5 seconds' worth); beyond it HTTP 429 with Retry-After.
        `clock` (seconds) lets a bench run the limit on a virtual clock. None lifts the limit."""
        with self.state.lock:
            if per_minute is None:
                self.state.rate_limits.pop(method, None)
            else:
                burst = burst if burst is not None else max(1, round(per_minute / 12))
                self.state.rate_limits[method] = TokenBucket(per_minute, burst, clock)

    def fail_with(self, error: str, n: int = 1, method: str | None = None) -> None:
        """The next n matching requests answer HTTP 200 `{"ok": false, "error": error}`."""
        self._inject(Injection(n, method, 200, {"ok": False, "error": error}))

    def recover(self) -> None:
        """End an outage: drop every injected failure not used up yet."""
        with self.state.lock:
            self.state.injections.clear()

    def _inject(self, rule: Injection) -> None:
        if rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self.state.lock:
            self.state.injections.append(rule)
