"""The Web API methods, each with Slack's rules, acting on `State`.

Handlers run with `State.lock` held and either return the success body or
raise `SlackError` with the body Slack would answer (always HTTP 200).
Error choices that needed judgement:

* posting to a deactivated person's U… id succeeds, as it does on Slack
  (slackapi/python-slack-sdk#1156); `conversations.open` with them answers
  `user_disabled`, inviting them `cant_invite`, an ephemeral to them
  `user_not_in_channel`;
* a used trigger answers `exchanged_trigger_id` (Slack's code), an unknown
  one `invalid_trigger_id`, an old one `expired_trigger_id`;
* a DM to a bot user's U… id is `channel_not_found` (`cannot_dm_bot` comes
  from conversations.open);
* channels must be given by id: a `#name` is `channel_not_found`.
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
import time
from collections.abc import Callable

from .ids import APP_ID, BOT_ID, BOT_NAME, BOT_USER, TEAM_DOMAIN, TEAM_ID, WORKSPACE_URL, short_id, view_hash
from .state import Channel, State, Trigger, ViewRecord
from .validation import check_message, check_view

Handler = Callable[[State, dict], dict]
HANDLERS: dict[str, Handler] = {}
CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
INTERACTIVE_KEYS = ("elements", "accessory", "element")


class SlackError(Exception):
    def __init__(self, error: str, **extra):
        super().__init__(error)
        self.body = {"ok": False, "error": error, **extra}

    @classmethod
    def of(cls, body: dict) -> "SlackError":
        return cls(body["error"], **{k: v for k, v in body.items() if k not in ("ok", "error")})


def method(name: str):
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn
    return register


def flag(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def id_list(value) -> list[str]:
    """`users=U1,U2` (form) or a JSON array: de-duplicated, in order."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return list(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))


# -- identity -----------------------------------------------------------------------------

@method("auth.test")
def auth_test(state: State, p: dict) -> dict:
    return {"ok": True, "url": WORKSPACE_URL, "team": "Stand-in", "user": BOT_NAME, "team_id": TEAM_ID,
            "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}


@method("apps.connections.open")
def apps_connections_open(state: State, p: dict) -> dict:
    """Socket Mode: a one-use WebSocket URL (the app token was checked by the server)."""
    return {"ok": True, "url": state.issue_socket_url()}


@method("users.info")
def users_info(state: State, p: dict) -> dict:
    user = state.users.get(p["user"])
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user.to_api()}


@method("usergroups.users.list")
def usergroups_users_list(state: State, p: dict) -> dict:
    group = state.usergroups.get(p["usergroup"])
    if group is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(group["users"])}


@method("usergroups.list")
def usergroups_list(state: State, p: dict) -> dict:
    groups = []
    for gid, group in state.usergroups.items():
        item = {"id": gid, "team_id": TEAM_ID, "is_usergroup": True, "name": group["handle"],
                "handle": group["handle"], "user_count": len(group["users"])}
        if flag(p.get("include_users")):
            item["users"] = list(group["users"])
        groups.append(item)
    return {"ok": True, "usergroups": groups}


# -- conversations ------------------------------------------------------------------------

def visible(state: State, channel_id) -> Channel:
    """A private channel the bot is not in does not exist, as far as the bot can tell."""
    channel = state.channels.get(channel_id) if isinstance(channel_id, str) else None
    if channel is None or (channel.is_private and not channel.bot_is_member):
        raise SlackError("channel_not_found")
    return channel


def joined(state: State, channel_id, *, allow_im: bool = False) -> Channel:
    channel = visible(state, channel_id)
    if channel.is_im and not allow_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.archived:
        raise SlackError("is_archived")
    if not channel.bot_is_member:
        raise SlackError("not_in_channel")
    return channel


@method("conversations.create")
def conversations_create(state: State, p: dict) -> dict:
    name = p.get("name")
    if not isinstance(name, str) or not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")
    if state.name_taken(name):
        raise SlackError("name_taken")
    channel = Channel(state.ids.new("C"), name, is_private=flag(p.get("is_private")), members={BOT_USER})
    state.channels[channel.id] = channel
    return {"ok": True, "channel": channel.to_api()}


@method("conversations.invite")
def conversations_invite(state: State, p: dict) -> dict:
    channel = joined(state, p["channel"])
    users = id_list(p["users"])
    if not users:
        raise SlackError("no_user")
    if len(users) > 1000:
        raise SlackError("too_many_users")
    if BOT_USER in users:
        raise SlackError("cant_invite_self")
    for uid in users:
        person = state.users.get(uid)
        if person is None:
            raise SlackError("user_not_found")
        if person.deleted:
            raise SlackError("cant_invite")
    new = [u for u in users if u not in channel.members]
    if not new:
        raise SlackError("already_in_channel")
    channel.members.update(new)
    return {"ok": True, "channel": channel.to_api()}


@method("conversations.join")
def conversations_join(state: State, p: dict) -> dict:
    channel = state.channels.get(p["channel"])
    if channel is None:
        raise SlackError("channel_not_found")
    if channel.is_im or channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.archived:
        raise SlackError("is_archived")
    body = {"ok": True, "channel": channel.to_api()}
    if channel.bot_is_member:
        body.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
    channel.members.add(BOT_USER)
    body["channel"] = channel.to_api()
    return body


def _set_text(state: State, p: dict, attr: str) -> dict:
    channel = joined(state, p["channel"])
    value = str(p[attr])
    if len(value) > 250:
        raise SlackError("too_long")
    setattr(channel, attr, value)
    return {"ok": True, attr: value, "channel": channel.to_api()}


@method("conversations.setPurpose")
def conversations_set_purpose(state: State, p: dict) -> dict:
    return _set_text(state, p, "purpose")


@method("conversations.setTopic")
def conversations_set_topic(state: State, p: dict) -> dict:
    return _set_text(state, p, "topic")


@method("conversations.info")
def conversations_info(state: State, p: dict) -> dict:
    channel = visible(state, p["channel"])
    return {"ok": True, "channel": channel.to_api(num_members=flag(p.get("include_num_members")))}


@method("conversations.members")
def conversations_members(state: State, p: dict) -> dict:
    channel = visible(state, p["channel"])
    return {"ok": True, "members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}


LIST_TYPES = ("public_channel", "private_channel", "mpim", "im")


def page_limit(value, default: int = 100, most: int = 1000) -> int:
    """`limit`: an integer from 1 to `most` (Slack: "no larger than 1000"); absent means `default`."""
    if value in (None, ""):
        return default
    try:
        limit = int(str(value))
    except ValueError:
        raise SlackError("invalid_limit") from None
    if not 1 <= limit <= most:
        raise SlackError("invalid_limit")
    return limit


def encode_cursor(channel_id: str) -> str:
    return base64.b64encode(f"channel:{channel_id}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        kind, _, channel_id = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackError("invalid_cursor") from None
    if kind != "channel" or not channel_id:
        raise SlackError("invalid_cursor")
    return channel_id


def listed_as(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


@method("conversations.list")
def conversations_list(state: State, p: dict) -> dict:
    """Pages of `limit` conversations in a stable order (by id), filtered *after* paging as
    Slack does: a page may hold fewer than `limit`, even none, while `next_cursor` says
    more follow. Private channels and DMs are listed only where the bot is a member."""
    types = [t.strip() for t in str(p.get("types") or "public_channel").split(",") if t.strip()]
    if not types or any(t not in LIST_TYPES for t in types):
        raise SlackError("invalid_types")
    limit = page_limit(p.get("limit"))
    if state.list_page_size:
        limit = min(limit, state.list_page_size)
    ordered = sorted(state.channels.values(), key=lambda c: c.id)
    start = 0
    if p.get("cursor"):
        after = decode_cursor(str(p["cursor"]))
        start = next((n for n, c in enumerate(ordered) if c.id >= after), len(ordered))
    page, rest = ordered[start:start + limit], ordered[start + limit:]
    skip_archived = flag(p.get("exclude_archived"))
    channels = [c.to_api(num_members=not c.is_im) for c in page
                if listed_as(c) in types and (c.bot_is_member or not (c.is_private or c.is_im))
                and not (skip_archived and c.archived)]
    return {"ok": True, "channels": channels,
            "response_metadata": {"next_cursor": encode_cursor(rest[0].id) if rest else ""}}


@method("conversations.archive")
def conversations_archive(state: State, p: dict) -> dict:
    channel = visible(state, p["channel"])
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.archived:
        raise SlackError("already_archived")
    if not channel.bot_is_member:
        raise SlackError("not_in_channel")
    channel.archived = True
    return {"ok": True}


@method("conversations.open")
def conversations_open(state: State, p: dict) -> dict:
    if p.get("channel"):
        channel = state.channels.get(p["channel"])
        if channel is None or not channel.is_im:
            raise SlackError("channel_not_found")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel.id}}
    users = id_list(p.get("users"))
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 8:
        raise SlackError("too_many_users")
    if len(users) > 1:
        raise SlackError("not_implemented_in_standin", detail="group DMs (mpim) are not modelled")
    person = state.users.get(users[0])
    if person is None:
        raise SlackError("user_not_found")
    if person.deleted:
        raise SlackError("user_disabled")
    if person.is_bot:
        raise SlackError("cannot_dm_bot")
    existed = any(c.is_im and c.user == person.id for c in state.channels.values())
    channel = state.ensure_dm(person.id)
    body = {"ok": True, "channel": channel.to_api() if flag(p.get("return_im")) else {"id": channel.id}}
    if existed:
        body.update(no_op=True, already_open=True)
    return body


# -- messages -----------------------------------------------------------------------------

def post_target(state: State, channel_id) -> Channel:
    """Where chat.postMessage lands: a U… id means the bot's DM with that person."""
    if isinstance(channel_id, str) and channel_id[:1] in ("U", "W"):
        person = state.users.get(channel_id)
        if person is None or person.is_bot:
            raise SlackError("channel_not_found")
        return state.ensure_dm(person.id)
    return joined(state, channel_id, allow_im=True)


def check_content(p: dict) -> None:
    problem = check_message(p)
    if problem:
        raise SlackError.of(problem)


def stored_blocks(blocks) -> list:
    """Blocks as Slack keeps them: every block and interactive element gets an id."""
    blocks = copy.deepcopy(blocks or [])
    for block in blocks:
        block.setdefault("block_id", short_id())
        for key in INTERACTIVE_KEYS:
            items = block.get(key)
            for element in items if isinstance(items, list) else [items] if isinstance(items, dict) else []:
                if element.get("type") not in ("plain_text", "mrkdwn", "image"):
                    element.setdefault("action_id", short_id())
    return blocks


def _public(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "channel"}


@method("chat.postMessage")
def chat_post_message(state: State, p: dict) -> dict:
    channel = post_target(state, p["channel"])
    check_content(p)
    message = {"type": "message", "ts": state.ids.ts(), "channel": channel.id, "user": BOT_USER,
               "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID, "text": str(p.get("text") or ""),
               "blocks": stored_blocks(p.get("blocks"))}
    if p.get("attachments"):
        message["attachments"] = copy.deepcopy(p["attachments"])
    if p.get("thread_ts"):
        message["thread_ts"] = str(p["thread_ts"])
    state.messages.setdefault(channel.id, []).append(message)
    return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": _public(message)}


def _own_message(state: State, p: dict, ts_key: str = "ts") -> tuple[Channel, dict]:
    """chat.update/delete need the real conversation id (D… for DMs, never U…)."""
    channel = visible(state, p["channel"])
    message = state.find_message(channel.id, str(p[ts_key]))
    if message is None:
        raise SlackError("message_not_found")
    return channel, message


@method("chat.update")
def chat_update(state: State, p: dict) -> dict:
    channel, message = _own_message(state, p)
    if message.get("user") != BOT_USER:
        raise SlackError("cant_update_message")
    if channel.archived:
        raise SlackError("is_archived")
    check_content(p)
    if "text" in p:
        message["text"] = str(p.get("text") or "")
    if "blocks" in p:  # left out: the old blocks stay, as on Slack
        message["blocks"] = stored_blocks(p.get("blocks"))
    if "attachments" in p:
        message["attachments"] = copy.deepcopy(p["attachments"])
    message["edited"] = {"user": BOT_USER, "ts": state.ids.ts()}
    return {"ok": True, "channel": channel.id, "ts": message["ts"], "text": message["text"],
            "message": _public(message)}


@method("chat.delete")
def chat_delete(state: State, p: dict) -> dict:
    channel, message = _own_message(state, p)
    if message.get("user") != BOT_USER:
        raise SlackError("cant_delete_message")
    state.messages[channel.id].remove(message)
    return {"ok": True, "channel": channel.id, "ts": message["ts"]}


@method("pins.add")
def pins_add(state: State, p: dict) -> dict:
    channel = joined(state, p["channel"], allow_im=True)
    message = state.find_message(channel.id, str(p.get("timestamp") or ""))
    if message is None:
        raise SlackError("message_not_found")
    if channel.id in message.setdefault("pinned_to", []):
        raise SlackError("already_pinned")
    message["pinned_to"].append(channel.id)
    return {"ok": True}


@method("chat.getPermalink")
def chat_get_permalink(state: State, p: dict) -> dict:
    channel, message = _own_message(state, p, "message_ts")
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{message['ts'].replace('.', '')}"
    return {"ok": True, "channel": channel.id, "permalink": link}


@method("chat.postEphemeral")
def chat_post_ephemeral(state: State, p: dict) -> dict:
    channel = post_target(state, p["channel"])
    person = state.users.get(p["user"])
    if person is None or person.deleted or person.id not in channel.members:
        raise SlackError("user_not_in_channel")
    check_content(p)
    ts = state.ids.ts()
    state.ephemerals.append({"channel": channel.id, "user": person.id, "ts": ts, "text": str(p.get("text") or ""),
                             "blocks": stored_blocks(p.get("blocks")), "source": "chat.postEphemeral"})
    return {"ok": True, "message_ts": ts}


# -- views --------------------------------------------------------------------------------

def take_trigger(state: State, trigger_id) -> Trigger:
    trigger = state.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if time.monotonic() - trigger.issued > state.trigger_ttl:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def require_valid_view(state: State, view, *, expect: str | None, replacing: str | None = None) -> dict:
    problems = check_view(view, expect=expect)
    if not problems and view.get("external_id"):
        for vid, record in state.views.items():
            if vid != replacing and record.open and record.view.get("external_id") == view["external_id"]:
                raise SlackError("duplicate_external_id")
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
    return view


def full_view(view: dict, view_id: str, root_id: str, previous_id: str | None = None) -> dict:
    """The view object Slack answers with and sends back in payloads."""
    out = {
        "id": view_id, "team_id": TEAM_ID, "type": view["type"], "blocks": stored_blocks(view["blocks"]),
        "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
        "state": {"values": {}}, "hash": view_hash(), "clear_on_close": flag(view.get("clear_on_close")),
        "notify_on_close": flag(view.get("notify_on_close")), "previous_view_id": previous_id,
        "root_view_id": root_id, "app_id": APP_ID, "external_id": view.get("external_id", ""),
        "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID,
    }
    for key in ("title", "submit", "close"):
        out[key] = copy.deepcopy(view.get(key))
    return out


def open_modal(state: State, user_id: str, view: dict, *, push: bool) -> dict:
    stack = state.view_stacks.setdefault(user_id, [])
    if push and len(stack) >= 3:
        raise SlackError("push_limit_reached")
    if not push:
        for vid in stack:
            state.views[vid].open = False
        stack.clear()
    view_id = state.ids.new("V")
    record = ViewRecord(full_view(view, view_id, stack[0] if stack else view_id, stack[-1] if stack else None),
                        user_id)
    state.views[view_id] = record
    stack.append(view_id)
    return copy.deepcopy(record.view)


@method("views.open")
def views_open(state: State, p: dict) -> dict:
    view = require_valid_view(state, p["view"], expect="modal")
    trigger = take_trigger(state, p["trigger_id"])
    return {"ok": True, "view": open_modal(state, trigger.user_id, view, push=False)}


@method("views.push")
def views_push(state: State, p: dict) -> dict:
    view = require_valid_view(state, p["view"], expect="modal")
    trigger = take_trigger(state, p["trigger_id"])
    return {"ok": True, "view": open_modal(state, trigger.user_id, view, push=True)}


def replace_view(record: ViewRecord, view: dict) -> dict:
    old = record.view
    record.view = full_view(view, old["id"], old["root_view_id"], old["previous_view_id"])
    return copy.deepcopy(record.view)


@method("views.update")
def views_update(state: State, p: dict) -> dict:
    if p.get("view_id"):
        record = state.views.get(p["view_id"])
    elif p.get("external_id"):
        record = next((r for r in state.views.values() if r.open and r.view["external_id"] == p["external_id"]),
                      None)
    else:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id "
                                                                             "is required"]})
    if record is None or not record.open:
        raise SlackError("not_found")
    if p.get("hash") and p["hash"] != record.view["hash"]:
        raise SlackError("hash_conflict")
    view = require_valid_view(state, p.get("view"), expect=record.view["type"], replacing=record.view["id"])
    return {"ok": True, "view": replace_view(record, view)}


@method("views.publish")
def views_publish(state: State, p: dict) -> dict:
    person = state.users.get(p["user_id"])
    if person is None or person.is_bot:
        raise SlackError("user_not_found")
    view = require_valid_view(state, p["view"], expect="home")
    view_id = state.home_views.get(person.id)
    if view_id is None:
        view_id = state.ids.new("V")
        state.home_views[person.id] = view_id
        state.views[view_id] = ViewRecord(full_view(view, view_id, view_id), person.id)
        return {"ok": True, "view": copy.deepcopy(state.views[view_id].view)}
    record = state.views[view_id]
    if p.get("hash") and p["hash"] != record.view["hash"]:
        raise SlackError("hash_conflict")
    return {"ok": True, "view": replace_view(record, view)}
