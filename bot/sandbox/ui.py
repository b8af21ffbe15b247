"""What the sandbox page calls: its files, one JSON snapshot per persona, and the things a person
does in Slack (type a command, click, submit or close a modal, open App Home, move the clock).

Everything a person does goes to the bot the way Slack sends it (signed HTTP to /slack/events,
through the workspace's senders); this module only translates the page's requests.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
from importlib import resources
from urllib.parse import parse_qs

from .workspace import payloads
from .workspace.ids import BOT_NAME, BOT_USER, dm_id
from .workspace.server import Reply

log = logging.getLogger(__name__)
STATIC = {"index.html": "text/html; charset=utf-8", "app.css": "text/css; charset=utf-8",
          "app.js": "text/javascript; charset=utf-8", "blockkit.js": "text/javascript; charset=utf-8",
          "mrkdwn.js": "text/javascript; charset=utf-8"}
COMMANDS = ("/launch",)
SECURITY_HEADERS = {
    # The page loads nothing from anywhere else: no fonts, images or scripts off this machine.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


class PageReply(Reply):
    def __init__(self, status: int, body, content_type: str | None = None):
        super().__init__(status, body, dict(SECURITY_HEADERS))
        self.content_type = content_type

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        return super().encode()


class SandboxUI:
    def __init__(self, sandbox):
        self.sb = sandbox            # bot.sandbox.app.Sandbox: workspace, bot_url, clock, people
        self.version = 0
        self._version_lock = threading.Lock()
        self.clock_log: list[str] = []

    def bump(self) -> None:
        with self._version_lock:
            self.version += 1

    # -- routing ------------------------------------------------------------------
    def __call__(self, method: str, path: str, query: str, headers, raw: bytes) -> Reply:
        try:
            if method in ("GET", "HEAD"):
                return self._get(path, query)
            if method == "POST" and path.startswith("/ui/"):
                if not self.sb.ready:
                    return PageReply(503, {"ok": False, "error": "the sandbox is still starting"})
                if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                    return PageReply(415, {"ok": False, "error": "send JSON"})
                body = json.loads(raw or b"{}")
                handler = POSTS.get(path[len("/ui/"):])
                if handler is None:
                    return PageReply(404, {"ok": False, "error": "unknown"})
                answer = handler(self, body)
                self.bump()
                self.sb.changed()
                return PageReply(200, {"ok": True, **answer})
        except (LookupError, ValueError) as exc:
            return PageReply(200, {"ok": False, "error": str(exc)})
        except Exception:
            log.exception("sandbox page request %s %s failed", method, path)
            return PageReply(500, {"ok": False, "error": "the sandbox failed on this request; see its log"})
        return PageReply(404, "not found")

    def _get(self, path: str, query: str) -> Reply:
        if path == "/":
            path = "/static/index.html"
        if path.startswith("/static/") and path[len("/static/"):] in STATIC:
            name = path[len("/static/"):]
            data = resources.files("bot.sandbox").joinpath("static", name).read_bytes()
            return PageReply(200, data, STATIC[name])
        if path == "/favicon.ico":
            return PageReply(204, b"", "image/x-icon")
        if path == "/healthz":
            ok = self.sb.healthy()
            return PageReply(200 if ok else 503, {"status": "ok" if ok else "database unavailable"})
        if path == "/ui/state":
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            return PageReply(200, self.snapshot(params.get("user", ""), params.get("conv", ""),
                                                int(params.get("since") or -1)))
        return PageReply(404, "not found")

    # -- what the page shows --------------------------------------------------------
    def snapshot(self, user: str, conv: str, since: int) -> dict:
        version = self.version
        if since == version:
            return {"version": version, "unchanged": True}
        state = self.sb.workspace.state
        with state.lock:
            people = [{"id": u.id, "name": u.name, "real_name": u.real_name, "tz": u.tz,
                       "title": self.sb.title(u.id), "deleted": u.deleted}
                      for u in state.users.values() if not u.is_bot]
            people.sort(key=lambda p: self.sb.order(p["id"]))
            if user not in state.users or state.users[user].is_bot:
                user = people[0]["id"]
            channels = [{"id": c.id, "name": c.name, "is_private": c.is_private, "archived": c.archived,
                         "topic": c.topic, "purpose": c.purpose, "members": len(c.members),
                         "count": len(state.messages.get(c.id, []))}
                        for c in state.channels.values()
                        if not c.is_im and (user in c.members or not c.is_private)]
            channels.sort(key=lambda c: (c["archived"], c["name"]))
            dm = dm_id(user)
            known = {c["id"] for c in channels} | {dm}
            if conv not in known and conv != "home":
                conv = dm
            shown = None
            if conv != "home":
                channel = state.channels.get(conv)
                shown = {
                    "id": conv, "kind": "im" if conv == dm else "channel",
                    "name": BOT_NAME if conv == dm else channel.name,
                    "topic": "" if conv == dm or channel is None else channel.topic,
                    "purpose": "" if conv == dm or channel is None else channel.purpose,
                    "member": conv == dm or (channel is not None and user in channel.members),
                    "archived": bool(channel and channel.archived),
                    "messages": copy.deepcopy(state.messages.get(conv, [])),
                    "ephemerals": [copy.deepcopy(e) for e in state.ephemerals
                                   if e["user"] == user and e["channel"] in (conv, None)],
                }
            home_id = state.home_views.get(user)
            home = copy.deepcopy(state.views[home_id].view) if home_id else None
            modals = [copy.deepcopy(state.views[v].view) for v in state.view_stacks.get(user, [])
                      if v in state.views and state.views[v].open]
            return {
                "version": version, "me": user, "conv": conv, "now": self.sb.clock.epoch() * 1000,
                "bot": {"id": BOT_USER, "name": BOT_NAME}, "people": people, "channels": channels,
                "dm": {"id": dm, "count": len(state.messages.get(dm, []))},
                "conversation": shown, "home": home, "modals": modals, "clock_log": self.clock_log[-12:],
            }

    # -- what a person does ---------------------------------------------------------
    def command(self, body: dict) -> dict:
        user, channel, text = body["user"], body["channel"], str(body.get("text") or "").strip()
        self._person(user)
        if not text:
            raise ValueError("type a message or /launch …")
        if not text.startswith("/"):
            return self._say(user, channel, text)
        command, _, rest = text.partition(" ")
        if command not in COMMANDS:
            self._tell(user, channel, f"{command} is not a valid command. In this sandbox you can use "
                                      f"{', '.join(COMMANDS)}.")
            return {}
        resp = self.sb.workspace.send_slash_command(self.sb.bot_url, command, rest.strip(), user, channel)
        self.sb.kick()
        return {"status": resp.status_code}

    def action(self, body: dict) -> dict:
        """A button, menu choice or date picked in a message, an ephemeral, a modal or Home."""
        user, where = body["user"], body["where"]
        ws = self.sb.workspace
        self._person(user)
        with ws.state.lock:
            kind, current = ws._locate(_target(where))
            block = next((b for b in current["blocks"] if b.get("block_id") == body["block_id"]), None)
            if block is None:
                raise LookupError("that message changed; look again")
            element = next((e for e in payloads.interactive_elements(block) if e.get("action_id") == body["action_id"]),
                           None)
            if element is None:
                raise LookupError("that control is gone; look again")
            chosen = payloads.action_for(element, block["block_id"], body.get("value"))
            current = copy.deepcopy(current)
            if kind == "view" and isinstance(body.get("values"), dict):
                current["state"] = {"values": body["values"]}
        if kind == "view":
            resp = ws._send_actions(self.sb.bot_url, user, chosen, view=current)
        elif kind == "ephemeral":
            container = {"type": "message", "message_ts": current["ts"], "channel_id": current["channel"],
                         "is_ephemeral": True}
            resp = ws._send_actions(self.sb.bot_url, user, chosen, container=container, channel_id=current["channel"],
                                    origin={"kind": "ephemeral", "channel": current["channel"], "ts": current["ts"]})
        else:
            resp = ws._send_actions(self.sb.bot_url, user, chosen, message=current)
        self.sb.kick()
        return {"status": resp.status_code}

    def submit(self, body: dict) -> dict:
        user, view_id, values = body["user"], body["view_id"], body.get("values") or {}
        self._person(user)
        resp = self.sb.workspace.send_view_submission(self.sb.bot_url, user, None, values, view_id=view_id)
        self.sb.kick()
        answer = {}
        if resp.content.strip():
            try:
                answer = resp.json()
            except ValueError:
                answer = {}
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            return {"errors": answer.get("errors") or {}}
        if resp.status_code != 200:
            return {"errors": {}, "problem": "launchgate did not answer in time; try again"}
        return {}

    def close(self, body: dict) -> dict:
        """The modal's Cancel / ×: back to the previous view, or all closed with clear_on_close."""
        user, view_id = body["user"], body["view_id"]
        state = self.sb.workspace.state
        with state.lock:
            stack = state.view_stacks.get(user, [])
            if view_id not in stack:
                return {}
            record = state.views[view_id]
            closing = list(stack) if record.view.get("clear_on_close") or body.get("all") else [view_id]
            for vid in closing:
                state.views[vid].open = False
                stack.remove(vid)
        return {}

    def home(self, body: dict) -> dict:
        user = body["user"]
        self._person(user)
        resp = self.sb.workspace.open_app_home(self.sb.bot_url, user)
        self.sb.kick()
        return {"status": resp.status_code}

    def dismiss(self, body: dict) -> dict:
        """"Dismiss" under an ephemeral, as in Slack."""
        state = self.sb.workspace.state
        with state.lock:
            state.ephemerals[:] = [e for e in state.ephemerals
                                   if not (e["user"] == body["user"] and e["ts"] == body["ts"])]
        return {}

    def clock(self, body: dict) -> dict:
        lines = self.sb.advance(body["step"], body["user"])
        self.clock_log = (self.clock_log + lines)[-50:]
        return {"lines": lines}

    # -- helpers --------------------------------------------------------------------
    def _person(self, user: str) -> None:
        person = self.sb.workspace.state.users.get(user)
        if person is None or person.is_bot:
            raise LookupError(f"nobody with id {user} in this workspace")

    def _say(self, user: str, channel: str, text: str) -> dict:
        """A plain message from the person (launchgate does not read channel messages)."""
        state = self.sb.workspace.state
        with state.lock:
            target = state.channels.get(channel)
            if target is None:
                raise LookupError("no such conversation")
            if not target.is_im and user not in target.members:
                raise ValueError("join the channel first: you are not a member")
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            state.messages.setdefault(channel, []).append(
                {"type": "message", "ts": state.ids.ts(), "channel": channel, "user": user, "text": escaped,
                 "blocks": []})
        return {}

    def _tell(self, user: str, channel: str, text: str) -> None:
        state = self.sb.workspace.state
        with state.lock:
            state.ephemerals.append({"channel": channel, "user": user, "ts": state.ids.ts(), "text": text,
                                     "blocks": [], "source": "slackbot"})


def _target(where: dict) -> dict:
    kind = where.get("kind")
    if kind == "view":
        return {"type": "modal", "id": where["view_id"]}
    if kind == "ephemeral":
        return {"source": "ephemeral", "channel": where["channel"], "ts": where["ts"]}
    return {"channel": where["channel"], "ts": where["ts"]}


POSTS = {"command": SandboxUI.command, "action": SandboxUI.action, "submit": SandboxUI.submit,
         "close": SandboxUI.close, "home": SandboxUI.home, "dismiss": SandboxUI.dismiss, "clock": SandboxUI.clock}
