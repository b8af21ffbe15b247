"""Messages the bot sends back through a response_url or a slash command's ack.

Both carry `{text, blocks, response_type, replace_original, delete_original}`
and are validated like chat.postMessage. Nothing replaces the original
message unless `replace_original` is true, and replies are ephemeral unless
`response_type` is `in_channel`. A response_url works 5 times within 30
minutes, as Slack's do. A post Slack refuses (an invalid message, a used or expired URL)
is recorded in `bot_response_errors`, like a refused ack body.
"""
from __future__ import annotations

import time

from .ids import APP_ID, BOT_ID, BOT_USER, TEAM_ID
from .mentions import mentions_broadcast
from .state import ResponsePost, ResponseUrl, State
from .validation import check_message
from .webapi import flag, stored_blocks

URL_USES = 5
URL_LIFETIME = 30 * 60


def issue_url(state: State, base_url: str, *, channel_id: str | None, user_id: str,
              origin: dict | None = None) -> str:
    url = ResponseUrl(state.ids.new("R"), channel_id, user_id, origin, time.time())
    state.response_urls[url.id] = url
    return f"{base_url}response/{url.id}"


def post_to_url(state: State, url_id: str, body) -> tuple[int, dict]:
    """POST /response/<id>: apply the reply and record it in `state.responses`."""
    url = state.response_urls.get(url_id)
    if url is None or time.time() - url.issued > URL_LIFETIME:
        status, answer = 404, {"ok": False, "error": "expired_url"}
    elif url.uses >= URL_USES:
        status, answer = 404, {"ok": False, "error": "used_url"}
    else:
        url.uses += 1
        status, answer = apply_reply(state, body, channel_id=url.channel_id, user_id=url.user_id,
                                     origin=url.origin, source="response_url")
    state.responses.append(ResponsePost(url_id, body if isinstance(body, dict) else {"_raw": body}, status, answer,
                                        time.time(), mentions_broadcast(body)))
    if status != 200:  # the person would not see the answer
        state.bot_response_errors.append(f"response_url post: Slack refuses it (HTTP {status}): {answer}")
    return status, answer


def apply_reply(state: State, body, *, channel_id: str | None, user_id: str, origin: dict | None,
                source: str) -> tuple[int, dict]:
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    if flag(body.get("delete_original")):
        return _delete_original(state, origin)
    problem = check_message(body)
    if problem:
        return 400, problem
    if flag(body.get("replace_original")):
        return _replace_original(state, origin, body)
    if body.get("response_type") == "in_channel" and channel_id:
        message = {"type": "message", "ts": state.ids.ts(), "channel": channel_id, "user": BOT_USER,
                   "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID, "text": str(body.get("text") or ""),
                   "blocks": stored_blocks(body.get("blocks"))}
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
        state.messages.setdefault(channel_id, []).append(message)
    else:
        state.ephemerals.append({"channel": channel_id, "user": user_id, "ts": state.ids.ts(),
                                 "text": str(body.get("text") or ""), "blocks": stored_blocks(body.get("blocks")),
                                 "source": source})
    return 200, {"ok": True}


def _original(state: State, origin: dict | None) -> dict | None:
    if origin is None:
        return None
    if origin["kind"] == "message":
        return state.find_message(origin["channel"], origin["ts"])
    return next((e for e in state.ephemerals if e["channel"] == origin["channel"] and e["ts"] == origin["ts"]), None)


def _delete_original(state: State, origin: dict | None) -> tuple[int, dict]:
    original = _original(state, origin)
    if original is None:
        return 404, {"ok": False, "error": "message_not_found"}
    if origin["kind"] == "message":
        state.messages[origin["channel"]].remove(original)
    else:
        state.ephemerals.remove(original)
    return 200, {"ok": True}


def _replace_original(state: State, origin: dict | None, body: dict) -> tuple[int, dict]:
    original = _original(state, origin)
    if original is None:
        return 404, {"ok": False, "error": "message_not_found"}
    original["text"] = str(body.get("text") or "")
    original["blocks"] = stored_blocks(body.get("blocks"))
    if origin["kind"] == "message":
        original["edited"] = {"user": BOT_USER, "ts": state.ids.ts()}
    return 200, {"ok": True}
