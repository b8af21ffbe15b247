"""Small helpers shared by the listeners, and the middleware that hands them the runtime.

Listeners are module-level functions with Bolt's typed arguments (`ack: Ack,
body: dict, client: WebClient, respond: Respond, context: BoltContext`). The
runtime (engine, settings, clock, worker kick) is not closed over: the
`inject_runtime` middleware puts it in the request's context, and `runtime(context)`
reads it back. A listener opens its own unit of work with `rt.unit_of_work()`
(short, and never across a Slack call).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.blocks.gate_views import notice_modal
from bot.blocks.launch_views import notice
from bot.blocks.text import esc
from bot.codecs import Codec, PayloadError
from bot.services.errors import FieldErrors, ServiceError

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME = "launchgate_runtime"
STALE = "That button is out of date. Use the latest message or your Home tab and try again."
STALE_FORM = "This form is out of date. Close it and open it again from Slack."
M = TypeVar("M", bound=Codec)


def inject_runtime(rt: Runtime) -> Callable[..., Any]:
    """Bolt middleware: every listener finds the runtime in its context."""

    def middleware(context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002 (Bolt's name)
        context[RUNTIME] = rt
        return next()

    return middleware


def runtime(context: BoltContext) -> Runtime:
    return context[RUNTIME]


def ephemeral(text: str, *, escape: bool = True) -> dict:
    """An ephemeral reply body for ack()/respond()."""
    body = esc(text) if escape else text
    return {"response_type": "ephemeral", "text": body, "blocks": [b.to_dict() for b in notice(body)]}


def problem(exc: ServiceError) -> dict:
    return ephemeral(str(exc), escape=False)


def from_home(body: dict) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def tell(client, body: dict, respond, reply: dict) -> None:
    """Answer only the person who acted: via the response_url (Bolt's `respond`, or straight to
    the URL when a sub-command has no `respond`), else an ephemeral in their DM with the bot."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    try:
        if body.get("response_url"):
            if respond is not None:
                answer = respond(**reply, replace_original=False)
            else:
                answer = WebhookClient(body["response_url"]).send(**reply, replace_original=False)
            if answer.status_code != 200:
                log.warning("Slack refused the reply to %s: HTTP %s %s", user, answer.status_code, answer.body[:200])
        elif user:
            client.chat_postEphemeral(channel=user, user=user, text=reply["text"], blocks=reply["blocks"])
    except (SlackApiError, OSError) as exc:
        log.warning("could not tell %s: %s", user, exc)


SORRY = "Sorry, something went wrong on our side and nothing was changed. Please try again."


def answer_later(rt: Runtime, ack, client, body: dict, work: Callable[[], dict]) -> None:
    """Slack's "ack, then do the slow work" for a read: an empty ack at once, then `work()` — which
    returns the reply body — runs on the runtime's answer pool and its reply goes to the request's
    response_url, only to the person who asked (a refusal as its message, a bug as an apology).
    Only for reads: nothing is lost if the process stops in between; the person asks again."""
    ack()

    def answer() -> None:
        try:
            reply = work()
        except ServiceError as exc:
            reply = problem(exc)
        except Exception as exc:  # noqa: BLE001 - the safety net of a request already acked
            log.error("unhandled %s answering a slash command: %s", type(exc).__name__, str(exc)[:300])
            log.debug("traceback of the unhandled error", exc_info=exc)
            metrics.UNHANDLED_ERRORS.labels("slash_command").inc()
            reply = ephemeral(SORRY)
        tell(client, body, None, reply)

    rt.answer_later(answer)


EXPIRED_TRIGGER = "Slack took too long to open that form. Please try again."
NOT_OPENED = "Slack could not open that form just now. Please try again."
TRIGGER_ERRORS = ("expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id")


def open_modal(client, body: dict, view, respond=None) -> bool:
    """views.open with this request's trigger; False when Slack did not open it. A trigger Slack
    no longer accepts (it lives 3 s) or another Slack refusal is the person's to retry, so they
    are told so (`respond` when the listener has it) instead of the click doing nothing."""
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
        return True
    except SlackApiError as exc:
        error = exc.response.get("error")
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        if error in TRIGGER_ERRORS:
            log.warning("could not open a modal for %s: %s", user, error)
        else:  # not the person's doing: worth an operator's look
            log.error("views.open for %s failed: %s", user, error)
        tell(client, body, respond, ephemeral(EXPIRED_TRIGGER if error in TRIGGER_ERRORS else NOT_OPENED))
        return False


def parse_date(raw: str | None) -> date | None:
    """A datepicker value, or None when empty or malformed (the service says what is missing)."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


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


def run_submission(rt: Runtime, ack, body: dict, codec: type[M], run, refused) -> M | None:
    """One modal submission, one transaction: `run(session, actor, meta, values)`.

    `meta` is the view's private metadata decoded with `codec`; metadata that is not
    ours replaces the modal with a notice. Field errors go back next to their inputs;
    any other refusal is answered with the ack body `refused(exc)`. Returns the
    metadata once saved (and acked), None when the modal was answered otherwise.
    """
    actor = body["user"]["id"]
    try:
        meta = codec.decode(body["view"].get("private_metadata"))
    except PayloadError as exc:
        log.warning("modal from %s with bad metadata: %s", actor, exc)
        ack(response_action="update", view=notice_modal("Not saved", STALE_FORM).to_dict())
        return None
    try:
        values = view_state(body)
        rt.transaction(lambda session: run(session, actor, meta, values))
    except FieldErrors as exc:
        ack(response_action="errors", errors=exc.errors)
        return None
    except ServiceError as exc:
        ack(**refused(exc))
        return None
    ack()
    return meta
