"""Item controls in prompts, nudges and the Home tab: Done, Answer…, the overflow
(Not applicable… / Blocked… / Reopen / Delegate… / Reassign… / Waive…), snooze buttons, and the modals they open."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks import answer_modals, nudges
from bot.blocks.ids import Action, Callback, Field
from bot.codecs import ItemAction, ItemModal, PayloadError, SnoozeValue
from bot.delivery.gateway import SlackGateway
from bot.runtime import Runtime
from bot.services import answers, capacity, delegates, item_forms, snooze
from bot.services.errors import ServiceError
from bot.services.policy import WorkingHours
from bot.services.recipients import user_tz

from . import clicks
from .common import STALE, ephemeral, from_home, open_modal, problem, run_submission, runtime, tell, view_state
from .gates import open_waive_modal
from .home import settled

C = TypeVar("C", ItemAction, SnoozeValue)
MODALS = {"answer": answer_modals.answer_modal, "reassign": answer_modals.reassign_modal,
          "delegate": answer_modals.delegate_modal}


def _first_input(body: dict) -> str:
    blocks = (body.get("view") or {}).get("blocks") or []
    return next((b["block_id"] for b in blocks if b.get("type") == "input"), Field.VALUE)


def _clicked(ack: Ack, body: dict, client: WebClient, respond: Respond, codec: type[C]) -> C | None:
    """The clicked control's value (a button's, or the overflow option's) decoded with `codec`;
    None — acked, and the person told it is out of date — when it is not one we sent."""
    action = body["actions"][0]
    try:
        return codec.decode(action.get("value") or (action.get("selected_option") or {}).get("value"))
    except PayloadError:
        ack()
        tell(client, body, respond, ephemeral(STALE))
        return None


def quick(rt: Runtime, ack: Ack, body: dict, client: WebClient, respond: Respond,
          change: Callable[[Session], object]) -> bool:
    """A one-transaction change made before the ack (milliseconds), so Slack's spinner
    ends when it is saved; what talks to Slack comes after the ack."""
    try:
        rt.transaction(change)
    except ServiceError as exc:
        ack()
        tell(client, body, respond, problem(exc))
        return False
    ack()
    return True


def open_item_modal(rt: Runtime, client: WebClient, body: dict, respond: Respond, ref: ItemAction) -> None:
    """Open form `ref.op` (None: the answer form) for the item, once the service allows it
    (a refusal is audited and answered instead)."""
    actor = body["user"]["id"]
    op = ref.op or "answer"
    try:
        with rt.unit_of_work() as session:
            item, launch = item_forms.check_form(session, ref.item, ref.op, actor, rt.ctx.now())
            meta = answer_modals.metadata(item.id, op=ref.op, home=1 if from_home(body) else None)
            tz = user_tz(session, actor)
            if op == "answer":       # forecast, plan and accuracy forms carry the capacity figures
                view = answer_modals.answer_modal(item, launch, tz, private_metadata=meta,
                                                  capacity=capacity.modal_context(session, item, launch,
                                                                                  rt.ctx.settings))
            elif op in MODALS:
                view = MODALS[op](item, launch, tz, private_metadata=meta)
            else:
                view = answer_modals.reason_modal(item, launch, tz, op, private_metadata=meta)
    except ServiceError as exc:
        tell(client, body, respond, problem(exc))
        return
    open_modal(client, body, view, respond)


# -- buttons and menus ---------------------------------------------------------------------

def done(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    rt = runtime(context)
    ref = _clicked(ack, body, client, respond, ItemAction)
    if ref is None:
        return
    clicks.take(rt, ack, body, client, respond, "item.done", ref.item)


def answer(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    ref = _clicked(ack, body, client, respond, ItemAction)
    if ref is None:
        return
    ack()
    open_item_modal(runtime(context), client, body, respond, ItemAction(item=ref.item))


def menu(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    rt = runtime(context)
    ref = _clicked(ack, body, client, respond, ItemAction)
    if ref is None:
        return
    if ref.op == "reopen":
        clicks.take(rt, ack, body, client, respond, "item.reopen", ref.item)
        return
    ack()
    if ref.op == "waive":  # from an escalation: the readiness lead waives an overdue item
        open_waive_modal(rt, client, body, respond, ref.item)
    elif ref.op in ("na", "blocked", "reassign", "delegate"):
        open_item_modal(rt, client, body, respond, ref)
    else:
        tell(client, body, respond, ephemeral("That option is not available any more."))


def snooze_clicked(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    rt = runtime(context)
    actor = body["user"]["id"]
    choice = _clicked(ack, body, client, respond, SnoozeValue)
    if choice is None:
        return
    said: list[str] = []

    def change(session: Session) -> None:
        result = snooze.snooze(session, choice.launch, actor=actor, choice=choice.choice, now=rt.ctx.now(),
                               hours=WorkingHours.from_settings(rt.ctx.settings))
        said.append(nudges.snoozed_text(result, user_tz(session, actor)))

    if quick(rt, ack, body, client, respond, change):
        tell(client, body, respond, ephemeral(said[0], escape=False))
        settled(rt, body["user"]["id"], from_home(body))


# -- modal submissions ---------------------------------------------------------------------

def _submission(ack: Ack, body: dict, client: WebClient, context: BoltContext, run) -> None:
    """Run `run(rt, session, actor, meta, values)`; every refusal is shown in the modal."""
    rt = runtime(context)
    meta = run_submission(rt, ack, body, ItemModal, lambda session, actor, meta, values: run(
        rt, session, actor, meta, values), lambda exc: {
        "response_action": "errors", "errors": {_first_input(body): str(exc)[:1000]}})
    if meta is not None:
        settled(rt, body["user"]["id"], bool(meta.home))


def answer_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _submission(ack, body, client, context, lambda rt, session, actor, meta, values: answers.answer(
        session, meta.item, values, actor=actor, now=rt.ctx.now(), settings=rt.ctx.settings))


def reason_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _submission(ack, body, client, context, lambda rt, session, actor, meta, values: answers.mark_with_reason(
        session, meta.item, meta.op or "", values, actor=actor, now=rt.ctx.now(), settings=rt.ctx.settings))


def _person_submission(ack: Ack, body: dict, client: WebClient, context: BoltContext, run) -> None:
    """A modal that names a person: refuse bots and deactivated accounts next to the field,
    then `run(rt, session, actor, meta, person)`."""
    person = view_state(body).get(Field.USER)
    problem_text = SlackGateway(runtime(context).ctx, client).person_problem(person)
    if problem_text:
        ack(response_action="errors", errors={Field.USER: problem_text})
        return
    _submission(ack, body, client, context, lambda rt, session, actor, meta, values: run(
        rt, session, actor, meta, person))


def reassign_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _person_submission(ack, body, client, context, lambda rt, session, actor, meta, person: answers.reassign(
        session, meta.item, person, actor=actor, now=rt.ctx.now(), settings=rt.ctx.settings))


def delegate_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Empty removes the delegate."""
    _person_submission(ack, body, client, context, lambda rt, session, actor, meta, person: delegates.set_delegate(
        session, meta.item, person, actor=actor, now=rt.ctx.now()))


def register(app: App) -> None:
    app.action(Action.ITEM_DONE)(done)
    app.action(Action.ITEM_ANSWER)(answer)
    app.action(Action.ITEM_MENU)(menu)
    app.action(re.compile(rf"^{re.escape(Action.SNOOZE)}(:.*)?$"))(snooze_clicked)
    app.view(Callback.ITEM_ANSWER)(answer_submitted)
    app.view(Callback.ITEM_REASON)(reason_submitted)
    app.view(Callback.ITEM_REASSIGN)(reassign_submitted)
    app.view(Callback.ITEM_DELEGATE)(delegate_submitted)
