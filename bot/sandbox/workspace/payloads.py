"""The payloads Slack sends to an app, shaped like the real ones.

Pure functions: they read `State` (callers hold the lock) but change nothing.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from .ids import APP_ID, BOT_ID, BOT_USER, TEAM_DOMAIN, TEAM_ID, VERIFICATION_TOKEN, view_hash
from .state import State

ActionMatcher = str | Callable[[dict], bool]
TEAM = {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def user_ref(state: State, user_id: str) -> dict:
    person = state.users.get(user_id)
    name = person.name if person else user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def channel_name(state: State, channel_id: str) -> str:
    channel = state.channels.get(channel_id)
    if channel is not None:
        return "directmessage" if channel.is_im else channel.name
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


def slash_command(state: State, *, command: str, text: str, user_id: str, channel_id: str,
                  response_url: str, trigger_id: str) -> dict:
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id, "channel_name": channel_name(state, channel_id),
        "user_id": user_id, "user_name": user_ref(state, user_id)["username"],
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    }


def blank_modal(view_id: str, callback_id: str) -> dict:
    """A modal the bot never opened (tests that submit a form directly)."""
    return {
        "id": view_id, "team_id": TEAM_ID, "type": "modal", "blocks": [], "private_metadata": "",
        "callback_id": callback_id, "state": {"values": {}}, "hash": view_hash(),
        "title": {"type": "plain_text", "text": "Form"}, "clear_on_close": False, "notify_on_close": False,
        "close": None, "submit": {"type": "plain_text", "text": "Submit"}, "previous_view_id": None,
        "root_view_id": view_id, "app_id": APP_ID, "external_id": "", "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }


def view_submission(state: State, *, user_id: str, view: dict, trigger_id: str) -> dict:
    return {
        "type": "view_submission", "team": TEAM, "user": user_ref(state, user_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": trigger_id, "view": view, "response_urls": [],
        "is_enterprise_install": False, "enterprise": None,
    }


def block_actions(state: State, *, user_id: str, actions: list[dict], trigger_id: str, container: dict,
                  message: dict | None = None, view: dict | None = None, channel_id: str | None = None,
                  response_url: str | None = None) -> dict:
    payload: dict = {
        "type": "block_actions", "user": user_ref(state, user_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "container": container, "trigger_id": trigger_id, "team": TEAM,
        "enterprise": None, "is_enterprise_install": False, "state": {"values": {}}, "actions": actions,
    }
    if channel_id:
        payload["channel"] = {"id": channel_id, "name": channel_name(state, channel_id)}
    if message is not None:
        payload["message"] = {k: v for k, v in message.items() if k not in ("channel", "source")}
    if view is not None:
        payload["view"] = view
        payload["state"] = copy.deepcopy(view.get("state") or {"values": {}})
    if response_url:
        payload["response_url"] = response_url
    return payload


def event_envelope(event: dict, event_id: str) -> dict:
    now = time.time()
    event = {"event_ts": f"{now:.6f}", **event}
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(now), "authed_users": [BOT_USER],
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-{event_id}",
    }


def schema_problems(value: Any, schema: dict, path: str = "$") -> list[str]:
    """The subset of JSON Schema the event wrapper uses: type, required, properties, items."""
    types = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool}
    kind = schema.get("type")
    if kind and (not isinstance(value, types[kind]) or (kind == "integer" and isinstance(value, bool))):
        return [f"{path}: expected {kind}"]
    problems = [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
    for key, sub in schema.get("properties", {}).items():
        if isinstance(value, dict) and key in value:
            problems += schema_problems(value[key], sub, f"{path}.{key}")
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path}: needs at least {schema['minItems']} items")
        if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
            problems.append(f"{path}: items must be unique")
        for i, item in enumerate(value):
            problems += schema_problems(item, schema.get("items", {}), f"{path}[{i}]")
    return problems


# -- finding what to click ----------------------------------------------------------------

def interactive_elements(block: dict) -> list[dict]:
    if block.get("type") == "actions":
        return [e for e in block.get("elements", []) if isinstance(e, dict)]
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict) and block[key].get("action_id"):
            return [block[key]]
    return []


def all_options(element: dict) -> list[dict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options", [])
    return options


def find_element(blocks: list[dict], action: ActionMatcher, value: Any = None) -> tuple[dict, dict]:
    """The (block, element) a person would click: by action_id or a predicate over the element."""
    matches = [(block, element) for block in blocks for element in interactive_elements(block)
               if (action(element) if callable(action) else element.get("action_id") == action)]
    if len(matches) > 1 and value is not None:
        matches = [(b, e) for b, e in matches
                   if e.get("value") == value or any(o.get("value") == value for o in all_options(e))]
    if not matches:
        known = [e.get("action_id") for b in blocks for e in interactive_elements(b)]
        raise LookupError(f"nothing matching {action!r} to click; action_ids here: {known}")
    if len(matches) > 1:
        raise LookupError(f"{len(matches)} elements match {action!r}; pass a value or a predicate to pick one")
    return matches[0]


def action_for(element: dict, block_id: str, value: Any = None) -> dict:
    """The `actions[0]` Slack sends when a person uses this element (choosing `value`)."""
    kind = element["type"]
    action = {"type": kind, "action_id": element["action_id"], "block_id": block_id,
              "action_ts": f"{time.time():.6f}"}
    if kind == "button":
        if value is not None and element.get("value") != value:
            raise ValueError(f"button {element['action_id']!r} carries {element.get('value')!r}, not {value!r}")
        action["text"] = element["text"]
        for key in ("value", "style"):
            if key in element:
                action[key] = element[key]
        return action
    if kind in ("overflow", "static_select", "radio_buttons"):
        action["selected_option"] = _option(element, value)
    elif kind == "external_select":
        action["selected_option"] = {"text": {"type": "plain_text", "text": str(value)}, "value": value}
    elif kind in ("multi_static_select", "checkboxes"):
        values = value if isinstance(value, (list, tuple)) else [value]
        action["selected_options"] = [_option(element, v) for v in values]
    else:
        key = SELECTED_KEYS.get(kind, "value")
        if value is None:
            raise ValueError(f"say what to choose in {kind} {element['action_id']!r}")
        action[key] = list(value) if key.endswith("s") and key != "value" else value
    return action


SELECTED_KEYS = {
    "users_select": "selected_user", "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation", "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel", "multi_channels_select": "selected_channels",
    "datepicker": "selected_date", "timepicker": "selected_time", "datetimepicker": "selected_date_time",
}


def _option(element: dict, value: Any) -> dict:
    for option in all_options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    choices = [o.get("value") for o in all_options(element)]
    raise ValueError(f"{element['action_id']!r} has no option {value!r}; options: {choices}")
