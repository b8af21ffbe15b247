"""Playing Slack's side towards the bot: signed slash commands, interactions, events.

Each sender returns the bot's `httpx.Response` and then does what Slack does
with the answer: a slash command's ack body is shown to the person (recorded
in `ephemerals()` with source "ack"), a view submission's `response_action`
updates/pushes/closes the modal. Anything Slack would refuse — an answer
slower than 3 seconds, a non-200 status, an invalid view or message in the
answer, `errors` naming a block that is not an input — is appended to
`bot_response_errors`, because on real Slack the person would see an error.
"""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from . import payloads, spec
from .ids import VERIFICATION_TOKEN, dm_id, short_id
from .ids import trigger_id as new_trigger_id
from .payloads import ActionMatcher
from .responses import apply_reply, issue_url
from .signing import signed_headers
from .socket_mode import SOCKET_MODE, SocketModeServer
from .state import State, Trigger
from .validation import check_view
from .webapi import open_modal, replace_view

ACK_DEADLINE = 3.0
FORM = "application/x-www-form-urlencoded"


class SendsToBot:
    """Mixed into `SlackStandIn`; needs `state`, `signing_secret`, `socket` and `base_url`."""

    state: State
    socket: SocketModeServer
    signing_secret: str
    base_url: str
    http_timeout: float = 15.0
    # Called after each request the bot answered, before the caller looks at the result: the bot
    # makes some changes just after its ack (a Done click), and a person sees them a moment later.
    settle_bot: Callable[[], object] | None = None

    # -- raw --------------------------------------------------------------------------
    def signed_post(self, bot_url: str, body: str, content_type: str, secret: str | None = None,
                    timestamp: int | None = None) -> httpx.Response:
        """POST `body` to the bot's /slack/events signed like Slack (or forged/stale, for tests)."""
        headers = signed_headers(self.signing_secret if secret is None else secret, body, content_type, timestamp)
        return httpx.post(_events_url(bot_url), content=body.encode("utf-8"), headers=headers,
                          timeout=self.http_timeout)

    def trigger_id(self, user_id: str | None = None) -> str:
        """A fresh trigger: one use, valid for `state.trigger_ttl` (3) seconds."""
        with self.state.lock:
            trigger = Trigger(new_trigger_id(), time.monotonic(), user_id)
            self.state.triggers[trigger.id] = trigger
            return trigger.id

    # -- slash commands ---------------------------------------------------------------
    def send_slash_command(self, bot_url: str, command: str = "/launch", text: str = "", user_id: str = "UPM",
                           channel_id: str = "C0GENERAL") -> httpx.Response:
        with self.state.lock:
            url = issue_url(self.state, self.base_url, channel_id=channel_id, user_id=user_id)
            form = payloads.slash_command(self.state, command=command, text=text, user_id=user_id,
                                          channel_id=channel_id, response_url=url,
                                          trigger_id=self.trigger_id(user_id))
        resp, elapsed = self._post(bot_url, urlencode(form), FORM)
        what = f"slash command {command} {text!r}".strip()
        if self._acked(what, resp, elapsed) and resp.content.strip():
            body = _json_or_text(resp)
            with self.state.lock:
                status, answer = apply_reply(self.state, body, channel_id=channel_id, user_id=user_id,
                                             origin=None, source="ack")
            if status != 200:
                self._problem(f"{what}: Slack rejects the ack body: {answer}")
        resp.response_url = url  # where an app that acks first posts its answer (see `reply`)
        return resp

    def reply(self, resp: httpx.Response, timeout: float = 10.0) -> Any:
        """What the person sees for a slash command sent with `send_slash_command`: the ack's body,
        or, when the app acked empty and answers after the ack (Slack's "ack, then do the slow
        work"), the body of the first post to that command's response_url (TimeoutError if none
        arrives within `timeout` seconds; a post Slack refuses is in `bot_response_errors`)."""
        if resp.content.strip():
            return _json_or_text(resp)
        url_id = resp.response_url.rsplit("/", 1)[-1]
        deadline = time.monotonic() + timeout
        while True:
            with self.state.lock:
                post = next((r for r in self.state.responses if r.url_id == url_id), None)
            if post is not None:
                return post.body
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {resp.response_url} within {timeout}s")
            time.sleep(0.005)

    # -- modals -------------------------------------------------------------------------
    def send_view_submission(self, bot_url: str, user_id: str, callback_id: str | None, values: dict,
                             private_metadata: str | None = None, view_id: str | None = None,
                             hash: str | None = None) -> httpx.Response:
        """Submit a modal. Without `view_id`, the latest modal the bot opened for this
        person with this callback_id is submitted (or a blank one if there is none)."""
        with self.state.lock:
            record = self._modal(user_id, callback_id, view_id)
            view = copy.deepcopy(record.view) if record else payloads.blank_modal(self.state.ids.new("V"),
                                                                                   callback_id or "")
            view["state"] = {"values": copy.deepcopy(values)}
            for key, override in (("callback_id", callback_id), ("private_metadata", private_metadata),
                                  ("hash", hash)):
                if override is not None:
                    view[key] = override
            payload = payloads.view_submission(self.state, user_id=user_id, view=view,
                                               trigger_id=self.trigger_id(user_id))
        resp, elapsed = self._post(bot_url, urlencode({"payload": json.dumps(payload)}), FORM)
        if self._acked(f"view_submission {view['callback_id']}", resp, elapsed):
            self._settle_submission(user_id, view, resp)
        return resp

    def _modal(self, user_id: str, callback_id: str | None, view_id: str | None):
        if view_id is not None:
            record = self.state.views.get(view_id)
            if record is None or not record.open or record.view["type"] != "modal":
                raise LookupError(f"no open modal {view_id}")
            if record.user_id != user_id:
                raise LookupError(f"modal {view_id} is open for {record.user_id}, not {user_id}")
            return record
        for vid in reversed(self.state.view_stacks.get(user_id, [])):
            record = self.state.views[vid]
            if record.open and (callback_id is None or record.view["callback_id"] == callback_id):
                return record
        return None

    def _settle_submission(self, user_id: str, view: dict, resp: httpx.Response) -> None:
        """What Slack does with the submission's answer."""
        body = _json_or_text(resp) if resp.content.strip() else {}
        action = body.get("response_action") if isinstance(body, dict) else "?"
        where = f"view_submission {view['callback_id']}"
        with self.state.lock:
            record = self.state.views.get(view["id"])
            stack = self.state.view_stacks.get(user_id, [])
            if action == "errors":
                inputs = {b.get("block_id") for b in view["blocks"] if b.get("type") == "input"}
                errors = body.get("errors")
                if not isinstance(errors, dict) or not errors:
                    self._problem(f"{where}: response_action errors needs an errors object")
                elif view["blocks"] and set(errors) - inputs:
                    self._problem(f"{where}: errors name blocks that are not inputs: {sorted(set(errors) - inputs)}")
            elif action in ("update", "push"):
                problems = check_view(body.get("view"), expect="modal")
                if problems:
                    self._problem(f"{where}: invalid view in response_action {action}: {problems}")
                elif action == "update" and record is not None:
                    replace_view(record, body["view"])
                elif action == "push" and len(stack) >= 3:
                    self._problem(f"{where}: push_limit_reached")
                else:
                    open_modal(self.state, user_id, body["view"], push=True)
            elif action in ("clear", None):
                closing = list(stack) if action == "clear" else [view["id"]]
                for vid in closing:
                    if vid in self.state.views:
                        self.state.views[vid].open = False
                    if vid in stack:
                        stack.remove(vid)
            else:
                self._problem(f"{where}: unknown response_action {action!r}")

    # -- block actions ------------------------------------------------------------------
    def send_block_action(self, bot_url: str, user_id: str, action_id: str, value: Any = None, *,
                          block_id: str | None = None, container: dict | None = None,
                          message: dict | None = None, view: dict | None = None,
                          selected_option: dict | None = None, selected_user: str | None = None,
                          channel_id: str | None = None, action_type: str = "button") -> httpx.Response:
        action = {"type": action_type, "action_id": action_id, "block_id": block_id or short_id(),
                  "action_ts": f"{time.time():.6f}"}
        for key, given in (("value", value), ("selected_option", selected_option),
                           ("selected_user", selected_user)):
            if given is not None:
                action[key] = given
        return self._send_actions(bot_url, user_id, action, container=container, message=message, view=view,
                                  channel_id=channel_id)

    def click(self, bot_url: str, user_id: str, message_or_view: dict, action: ActionMatcher,
              value: Any = None) -> httpx.Response:
        """Use a button/select/overflow the bot really sent: in a message from `messages()`,
        an ephemeral from `ephemerals()`, or a view from `views()`/`home_view()`."""
        with self.state.lock:
            kind, current = self._locate(message_or_view)
            block, element = payloads.find_element(current["blocks"], action, value)
            chosen = payloads.action_for(element, block["block_id"], value)
            current = copy.deepcopy(current)
        if kind == "view":
            return self._send_actions(bot_url, user_id, chosen, view=current)
        if kind == "ephemeral":
            container = {"type": "message", "message_ts": current["ts"], "channel_id": current["channel"],
                         "is_ephemeral": True}
            return self._send_actions(bot_url, user_id, chosen, container=container, channel_id=current["channel"],
                                      origin={"kind": "ephemeral", "channel": current["channel"],
                                              "ts": current["ts"]})
        return self._send_actions(bot_url, user_id, chosen, message=current)

    def _locate(self, target: dict) -> tuple[str, dict]:
        if target.get("type") in ("modal", "home") and "id" in target:
            record = self.state.views.get(target["id"])
            if record is None or not record.open:
                raise LookupError(f"view {target['id']} is not open any more")
            return "view", record.view
        if target.get("source"):
            for ephemeral in self.state.ephemerals:
                if ephemeral["channel"] == target["channel"] and ephemeral["ts"] == target["ts"]:
                    return "ephemeral", ephemeral
            raise LookupError("that ephemeral message is gone")
        message = self.state.find_message(target.get("channel"), target.get("ts"))
        if message is None:
            raise LookupError(f"message {target.get('ts')} is not in {target.get('channel')} any more")
        return "message", message

    def _send_actions(self, bot_url: str, user_id: str, action: dict, *, container: dict | None = None,
                      message: dict | None = None, view: dict | None = None, channel_id: str | None = None,
                      origin: dict | None = None) -> httpx.Response:
        if message is not None:
            channel_id = channel_id or message.get("channel")
            container = container or {"type": "message", "message_ts": message["ts"], "channel_id": channel_id,
                                      "is_ephemeral": False}
            origin = origin or {"kind": "message", "channel": channel_id, "ts": message["ts"]}
        elif view is not None:
            container = container or {"type": "view", "view_id": view["id"]}
        container = container or {"type": "message", "channel_id": channel_id, "is_ephemeral": False}
        with self.state.lock:
            url = None
            if container.get("type") == "message":
                url = issue_url(self.state, self.base_url, channel_id=channel_id, user_id=user_id, origin=origin)
            payload = payloads.block_actions(self.state, user_id=user_id, actions=[action],
                                             trigger_id=self.trigger_id(user_id), container=container,
                                             message=message, view=view, channel_id=channel_id, response_url=url)
        resp, elapsed = self._post(bot_url, urlencode({"payload": json.dumps(payload)}), FORM)
        self._acked(f"block_actions {action['action_id']}", resp, elapsed)
        return resp

    # -- events -------------------------------------------------------------------------
    def send_event(self, bot_url: str, event: dict) -> httpx.Response:
        if "type" not in event:
            raise ValueError("an event needs a type")
        envelope = payloads.event_envelope(event, self.state.ids.new("Ev"))
        problems = payloads.schema_problems(envelope, spec.event_wrapper_schema())
        assert not problems, f"stand-in built an invalid event envelope: {problems}"
        resp, elapsed = self._post(bot_url, json.dumps(envelope), "application/json")
        self._acked(f"event {event['type']}", resp, elapsed)
        return resp

    def open_app_home(self, bot_url: str, user_id: str) -> httpx.Response:
        event = {"type": "app_home_opened", "user": user_id, "channel": dm_id(user_id), "tab": "home"}
        with self.state.lock:
            home = self.state.home_views.get(user_id)
            if home:
                event["view"] = copy.deepcopy(self.state.views[home].view)
        return self.send_event(bot_url, event)

    def send_url_verification(self, bot_url: str, challenge: str = "standin-challenge") -> httpx.Response:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self._post(bot_url, json.dumps(body), "application/json")[0]

    # -- plumbing -------------------------------------------------------------------------
    def _post(self, bot_url: str, body: str, content_type: str) -> tuple[httpx.Response, float]:
        """Over HTTP (signed) or, when `bot_url` is `SOCKET_MODE`, as a Socket Mode envelope."""
        started = time.perf_counter()
        if bot_url == SOCKET_MODE:
            resp = self.socket.deliver(body, content_type)
        else:
            resp = self.signed_post(bot_url, body, content_type)
        elapsed = time.perf_counter() - started
        if self.settle_bot is not None:
            self.settle_bot()
        return resp, elapsed

    def _acked(self, what: str, resp: httpx.Response, elapsed: float) -> bool:
        ok = True
        if elapsed > ACK_DEADLINE:
            self._problem(f"{what}: answered after {elapsed:.1f}s; Slack gives up after {ACK_DEADLINE:.0f}s")
            ok = False
        if resp.status_code != 200:
            self._problem(f"{what}: HTTP {resp.status_code}; Slack shows the person an error")
            ok = False
        return ok

    def _problem(self, text: str) -> None:
        with self.state.lock:
            self.state.bot_response_errors.append(text)


def _events_url(bot_url: str) -> str:
    return bot_url.rstrip("/") + "/slack/events"


def _json_or_text(resp: httpx.Response):
    try:
        return resp.json()
    except ValueError:
        return {"text": resp.text}
