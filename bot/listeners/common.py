"""Small helpers shared by the listeners."""
from __future__ import annotations

import json
import logging
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.blocks.launch_views import notice
from bot.blocks.text import esc
from bot.db import transaction
from bot.services.errors import FieldErrors, ServiceError

log = logging.getLogger(__name__)


def ephemeral(text: str, *, escape: bool = True) -> dict:
    """An ephemeral reply body for ack()/respond()."""
    body = esc(text) if escape else text
    return {"response_type": "ephemeral", "text": body, "blocks": [b.to_dict() for b in notice(body)]}


def problem(exc: ServiceError) -> dict:
    return ephemeral(str(exc), escape=False)


def from_home(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def tell(client, body: dict, respond, reply: dict) -> None:
    """Answer only the person who acted: via response_url, else an ephemeral in their DM with the bot."""
    user = body["user"]["id"]
    try:
        if body.get("response_url"):
            respond(**reply, replace_original=False)
        else:
            client.chat_postEphemeral(channel=user, user=user, text=reply["text"], blocks=reply["blocks"])
    except (SlackApiError, OSError) as exc:
        log.warning("could not tell %s: %s", user, exc)


def parse_date(raw: str | None) -> date | None:
    """A datepicker value, or None when empty or malformed (the service says what is missing)."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def json_object(raw: str | None) -> dict:
    """A button value or private_metadata we wrote as JSON; anything else reads as empty."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def view_state(body: dict) -> dict:
    """Flatten `view.state.values` to {block_id: value} for the parsers."""
    out: dict = {}
    for block_id, actions in body["view"]["state"]["values"].items():
        for value in actions.values():
            kind = value.get("type")
            if kind in ("plain_text_input", "url_text_input", "number_input", "email_text_input"):
                out[block_id] = value.get("value")
            elif kind == "datepicker":
                out[block_id] = value.get("selected_date")
            elif kind in ("static_select", "external_select", "radio_buttons"):
                out[block_id] = (value.get("selected_option") or {}).get("value")
            elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
                out[block_id] = [o["value"] for o in value.get("selected_options") or []]
            elif kind == "users_select":
                out[block_id] = value.get("selected_user")
            elif kind == "multi_users_select":
                out[block_id] = value.get("selected_users") or []
            elif kind in ("conversations_select", "channels_select"):
                out[block_id] = value.get("selected_conversation") or value.get("selected_channel")
            else:
                out[block_id] = value.get("value")
    return out


def run_submission(engine, ack, body: dict, run, refused) -> dict | None:
    """One modal submission, one transaction: `run(session, actor, meta, values)`.

    Field errors go back next to their inputs; any other refusal is answered with
    the ack body `refused(exc)`. Returns the view's private metadata once saved
    (and acked), None when the modal was answered with an error instead.
    """
    actor = body["user"]["id"]
    meta = json_object(body["view"].get("private_metadata"))
    values = view_state(body)
    try:
        transaction(engine, lambda session: run(session, actor, meta, values))
    except FieldErrors as exc:
        ack(response_action="errors", errors=exc.errors)
        return None
    except ServiceError as exc:
        ack(**refused(exc))
        return None
    ack()
    return meta
