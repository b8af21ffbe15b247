"""The shape of every request Slack sends, checked at the HTTP edge (bot/web.py) before
Bolt builds its request from it (Bolt itself indexes `team`, `user`, `actions[0]`…).

Listeners read payloads the way Slack documents them (`body["user"]["id"]`,
`view.state.values` → block → action → element state). A request that is signed
but not shaped like that — a broken client, a replayed and edited payload —
would otherwise fail inside Bolt or deep inside a listener. Here it gets a plain
200 with nothing done (401 when unsigned), and one INFO line. Socket Mode
envelopes come from Slack over an authenticated socket and skip this check.
Everything is bounded: ids are Slack ids, strings are no longer than Slack
allows, lists are short. What the values *mean*
(ids in our columns' range, numbers, dates) is parsed by the listeners' codecs
and the services, which answer the person.
"""
from __future__ import annotations

import re
from typing import Any

USER = re.compile(r"^[UW][A-Z0-9]{1,31}$")
SHORT = 255          # action_id, block_id, callback_id, view id, ts, channel ids…
VALUE = 3000         # button values (2000), private_metadata (3000), option values (150)
TEXT = 4000          # slash command text, a plain-text input (3000 max in Slack)
MAX_ITEMS = 100      # actions, inputs, selected options

INPUT_KEYS = {
    "value": str, "selected_date": str, "selected_time": str, "selected_user": str, "selected_conversation": str,
    "selected_channel": str, "selected_option": dict, "selected_options": list, "selected_users": list,
    "selected_conversations": list, "selected_channels": list, "type": str,
}


class Malformed(ValueError):
    pass


def _str(value: Any, limit: int = SHORT, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > limit:
        raise Malformed("string")


def _dict(value: Any, *, optional: bool = False) -> dict:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise Malformed("object")
    return value


def _option(value: Any) -> None:
    option = _dict(value)
    _str(option.get("value"), VALUE)


def _element_state(state: Any) -> None:
    state = _dict(state)
    for key, kind in INPUT_KEYS.items():
        got = state.get(key)
        if got is None:
            continue
        if not isinstance(got, kind):
            raise Malformed(key)
        if kind is str:
            _str(got, TEXT)
        elif key == "selected_option":
            _option(got)
        elif kind is list:
            if len(got) > MAX_ITEMS:
                raise Malformed(key)
            for entry in got:
                _option(entry) if key == "selected_options" else _str(entry)


def _view(view: Any, *, submitted: bool) -> None:
    view = _dict(view)
    _str(view.get("id"))
    for key in ("app_installed_team_id", "team_id", "hash", "root_view_id", "previous_view_id"):
        _str(view.get(key), optional=True)
    _str(view.get("callback_id"), optional=not submitted)
    _str(view.get("private_metadata"), VALUE, optional=True)
    _str(view.get("type"), optional=True)
    state = _dict(view.get("state"), optional=not submitted)
    values = _dict(state.get("values"), optional=not submitted)
    if len(values) > MAX_ITEMS:
        raise Malformed("inputs")
    for block_id, actions in values.items():
        _str(block_id)
        actions = _dict(actions)
        if len(actions) > 5:
            raise Malformed("input")
        for action_id, element in actions.items():
            _str(action_id)
            _element_state(element)


def _actions(actions: Any) -> None:
    if not isinstance(actions, list) or not 1 <= len(actions) <= MAX_ITEMS:
        raise Malformed("actions")
    for action in actions:
        action = _dict(action)
        _str(action.get("action_id"))
        _str(action.get("block_id"), optional=True)
        _str(action.get("type"), optional=True)
        _element_state(action)


def _ref(value: Any) -> None:
    """`team`, `enterprise`, `channel`: Slack sends an id string, an object with one, or null."""
    if value is None or (isinstance(value, str) and len(value) <= SHORT):
        return
    if not isinstance(value, dict):
        raise Malformed("reference")
    _str(value.get("id"), optional=True)
    for key in ("enterprise_id", "team_id"):
        _str(value.get(key), optional=True)


def check(body: Any) -> None:
    """Raise Malformed unless `body` has the shape Slack gives this kind of request."""
    body = _dict(body)
    for key in ("team", "enterprise", "channel"):
        _ref(body.get(key))
    for key in ("team_id", "enterprise_id", "api_app_id", "type", "response_url", "trigger_id", "token"):
        _str(body.get(key), VALUE, optional=True)
    auths = body.get("authorizations")
    if auths is not None:
        if not isinstance(auths, list) or len(auths) > MAX_ITEMS:
            raise Malformed("authorizations")
        for auth in auths:
            _dict(auth)
    if "response_urls" in body:  # Bolt takes len() of it even when null, reads [0] and fails on more than one
        urls = body["response_urls"]
        if not isinstance(urls, list) or len(urls) > 1:
            raise Malformed("response_urls")
        for url in urls:
            _str(_dict(url).get("response_url"), VALUE, optional=True)
    if "command" in body:  # slash command (form fields)
        _str(body.get("command"))
        _str(body.get("text"), TEXT, optional=True)
        if not USER.match(str(body.get("user_id") or "")):
            raise Malformed("user_id")
        _str(body.get("channel_id"), optional=True)
        _str(body.get("trigger_id"))  # listeners open modals with it
        return
    kind = body.get("type")
    if kind in ("url_verification", "app_rate_limited"):
        return
    if kind == "event_callback":
        event = _dict(body.get("event"))
        _str(event.get("type"))
        for key in ("user", "channel", "tab", "team", "user_team", "channel_type", "subtype"):
            _str(event.get(key), optional=True)
        for key in ("view", "message", "previous_message"):
            _dict(event.get(key), optional=True)
        return
    if kind not in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action",
                    "block_suggestion"):
        raise Malformed("type")
    user = _dict(body.get("user"))
    if not isinstance(user.get("id"), str) or not USER.match(user["id"]):
        raise Malformed("user")
    _str(user.get("team_id"), optional=True)
    _dict(body.get("container"), optional=True)
    message = _dict(body.get("message"), optional=True)
    if message:
        _str(message.get("ts"), optional=True)
    if kind == "block_actions":
        _str(body.get("trigger_id"))  # listeners open modals with it
        _actions(body.get("actions"))
        if body.get("view") is not None:
            _view(body["view"], submitted=False)
    elif kind in ("view_submission", "view_closed"):
        _view(body.get("view"), submitted=kind == "view_submission")
