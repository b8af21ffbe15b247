"""Item controls in prompts, nudges and the Home tab: Done, Answer…, the overflow
(Not applicable… / Blocked… / Reopen / Delegate… / Reassign…), snooze buttons, and the modals they open."""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.blocks import answer_modals, nudges
from bot.blocks.ids import Action, Callback, Field
from bot.db import unit_of_work
from bot.delivery.gateway import SlackGateway
from bot.runtime import Runtime
from bot.services import answers, delegates, snooze
from bot.services.errors import ServiceError
from bot.services.policy import WorkingHours
from bot.services.recipients import user_tz

from .common import ephemeral, from_home, json_object, problem, run_submission, tell, view_state
from .gates import open_waive_modal
from .home import publish_home

log = logging.getLogger(__name__)


def settled(rt: Runtime, client, body: dict, home: bool | None = None) -> None:
    """After a change: re-render the Home tab when the action came from it, and deliver now."""
    if from_home(body) if home is None else home:
        publish_home(rt, client, body["user"]["id"])
    rt.kick()


def _first_input(body: dict) -> str:
    blocks = (body.get("view") or {}).get("blocks") or []
    return next((b["block_id"] for b in blocks if b.get("type") == "input"), Field.VALUE)


def _open(rt: Runtime, client, body: dict, respond, build) -> None:
    """Open the modal `build(session, item, launch, tz, extra_metadata, op)` returns; `build`
    checks permission first, so a refusal is audited and answered instead."""
    actor = body["user"]["id"]
    action = body["actions"][0]
    raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    data = json_object(raw) if raw.startswith("{") else {"i": raw}
    try:
        with unit_of_work(rt.ctx.engine) as session:
            item, launch = answers.load(session, data.get("i"))
            view = build(session, item, launch, user_tz(session, actor),
                         {"home": 1} if from_home(body) else {}, data.get("op"))
    except ServiceError as exc:
        tell(client, body, respond, problem(exc))
        return
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:  # e.g. the trigger expired: say so rather than fail silently
        log.warning("could not open a modal for %s: %s", actor, exc.response.get("error"))
        tell(client, body, respond, ephemeral("Slack took too long to open that form. Please click again."))


def register(app: App, rt: Runtime) -> None:
    settings = rt.ctx.settings

    def check(session, item, launch, actor, op=None):
        if op == "reassign":
            answers.check_can_reassign(session, item, launch, actor, rt.ctx.now())
        elif op == "delegate":
            delegates.check_can_delegate(session, item, launch, actor, rt.ctx.now())
        else:
            answers.check_can_answer(session, item, launch, actor, rt.ctx.now())

    def quick(ack, body, client, respond, change) -> bool:
        """A one-transaction change made before the ack (milliseconds), so Slack's
        spinner ends when it is saved; what talks to Slack comes after the ack."""
        try:
            with unit_of_work(rt.ctx.engine) as session:
                change(session)
        except ServiceError as exc:
            ack()
            tell(client, body, respond, problem(exc))
            return False
        ack()
        return True

    @app.action(Action.ITEM_DONE)
    def done(ack, body, client, respond):
        if quick(ack, body, client, respond, lambda session: answers.mark_done(
                session, body["actions"][0]["value"], actor=body["user"]["id"], now=rt.ctx.now(),
                settings=settings)):
            settled(rt, client, body)

    @app.action(Action.ITEM_ANSWER)
    def answer(ack, body, client, respond):
        ack()
        actor = body["user"]["id"]

        def build(session, item, launch, tz, extra, op):
            check(session, item, launch, actor)
            return answer_modals.answer_modal(item, launch, tz,
                                              private_metadata=answer_modals.metadata(item.id, **extra))

        _open(rt, client, body, respond, build)

    @app.action(Action.ITEM_MENU)
    def menu(ack, body, client, respond):
        actor = body["user"]["id"]
        raw = (body["actions"][0].get("selected_option") or {}).get("value") or "{}"
        op = json_object(raw).get("op")
        if op == "reopen":
            if quick(ack, body, client, respond, lambda session: answers.reopen(
                    session, json_object(raw).get("i"), actor=actor, now=rt.ctx.now(),
                    settings=settings)):
                settled(rt, client, body)
            return
        ack()

        def build(session, item, launch, tz, extra, op):
            check(session, item, launch, actor, op)
            meta = answer_modals.metadata(item.id, op=op, **extra)
            if op == "reassign":
                return answer_modals.reassign_modal(item, launch, tz, private_metadata=meta)
            if op == "delegate":
                return answer_modals.delegate_modal(item, launch, tz, private_metadata=meta)
            return answer_modals.reason_modal(item, launch, tz, op, private_metadata=meta)

        if op == "waive":  # from an escalation: the readiness lead waives an overdue item
            open_waive_modal(rt, client, body, respond, int(json_object(raw).get("i") or 0))
            return
        if op not in ("na", "blocked", "reassign", "delegate"):
            tell(client, body, respond, ephemeral("That option is not available any more."))
            return
        _open(rt, client, body, respond, build)

    @app.action(re.compile(rf"^{re.escape(Action.SNOOZE)}(:.*)?$"))
    def snooze_clicked(ack, body, client, respond):
        actor = body["user"]["id"]
        data = json_object(body["actions"][0].get("value"))
        said: list[str] = []

        def change(session):
            result = snooze.snooze(session, int(data.get("l") or 0), actor=actor, choice=str(data.get("s")),
                                   now=rt.ctx.now(), hours=WorkingHours.from_settings(settings))
            said.append(nudges.snoozed_text(result, user_tz(session, actor)))

        if quick(ack, body, client, respond, change):
            tell(client, body, respond, ephemeral(said[0], escape=False))
            settled(rt, client, body)

    def submission(ack, body, client, run):
        """Run `run(session, actor, meta, values)`; every refusal is shown in the modal."""
        meta = run_submission(rt.ctx.engine, ack, body, run, lambda exc: {
            "response_action": "errors", "errors": {_first_input(body): str(exc)[:1000]}})
        if meta is not None:
            settled(rt, client, body, home=bool(meta.get("home")))

    @app.view(Callback.ITEM_ANSWER)
    def answer_submitted(ack, body, client):
        submission(ack, body, client, lambda session, actor, meta, values: answers.answer(
            session, meta.get("i"), values, actor=actor, now=rt.ctx.now(), settings=settings))

    @app.view(Callback.ITEM_REASON)
    def reason_submitted(ack, body, client):
        submission(ack, body, client, lambda session, actor, meta, values: answers.mark_with_reason(
            session, meta.get("i"), meta.get("op"), values, actor=actor, now=rt.ctx.now(), settings=settings))

    def person_submission(ack, body, client, run):
        """A modal that names a person: refuse bots and deactivated accounts next to the field,
        then `run(session, actor, meta, person)`."""
        person = view_state(body).get(Field.USER)
        problem_text = SlackGateway(rt.ctx, client).person_problem(person)
        if problem_text:
            ack(response_action="errors", errors={Field.USER: problem_text})
            return
        submission(ack, body, client, lambda session, actor, meta, values: run(session, actor, meta, person))

    @app.view(Callback.ITEM_REASSIGN)
    def reassign_submitted(ack, body, client):
        person_submission(ack, body, client, lambda session, actor, meta, person: answers.reassign(
            session, meta.get("i"), person, actor=actor, now=rt.ctx.now(), settings=settings))

    @app.view(Callback.ITEM_DELEGATE)
    def delegate_submitted(ack, body, client):
        """Empty removes the delegate."""
        person_submission(ack, body, client, lambda session, actor, meta, person: delegates.set_delegate(
            session, meta.get("i"), person, actor=actor, now=rt.ctx.now()))
