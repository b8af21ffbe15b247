"""Decision buttons, the decision and waiver modals, and `/launch timeline|resume|waive`.

Thin: parse the payload, call bot.services.decisions / waivers / timeline,
answer. Buttons ack at once; Go records the vote, the other outcomes open a
modal after checking (and auditing) that the person may decide at all.
"""
from __future__ import annotations

import json
import logging
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.blocks import gate_views, timeline_views
from bot.blocks.ids import Action, Callback, Field
from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import decisions, gates, launches, timeline, waivers
from bot.services.errors import Conflict, FieldErrors, NotFound, ServiceError
from bot.services.recipients import user_tz
from models import Item, Launch, Outcome

from .common import ephemeral, from_home, json_object, parse_date, problem, run_submission, tell
from .home import ensure_tz, publish_home

log = logging.getLogger(__name__)
TIMELINE_DEFAULT = 30
TIMELINE_MAX = 200


def _refuse_on_home(client, body: dict, respond, exc: ServiceError) -> None:
    """From the Home tab there is no channel to answer in: show the reason in a small modal."""
    if from_home(body):
        try:
            client.views_open(trigger_id=body["trigger_id"],
                              view=gate_views.notice_modal("Not possible", str(exc)))
            return
        except SlackApiError as err:
            log.warning("could not show the refusal: %s", err.response.get("error"))
    tell(client, body, respond, problem(exc))


def open_waive_modal(rt: Runtime, client, body: dict, respond, item_id: int) -> None:
    """The waive modal for one item (review messages, escalations, Home); readiness leads only."""
    actor = body["user"]["id"]
    home = from_home(body)
    try:
        with unit_of_work(rt.ctx.engine) as session:
            item = session.get(Item, item_id)
            if item is None:
                raise NotFound("That item no longer exists.")
            launch = session.get(Launch, item.launch_id)
            waivers.check(session, launch, actor, rt.ctx.now())
            if not item.is_open:
                raise Conflict("That item is already answered or waived.")
            view = gate_views.waive_modal(launch, [], [], fixed=item, private_metadata=json.dumps(
                {"i": item.id, "h": int(home)}))
    except ServiceError as exc:
        _refuse_on_home(client, body, respond, exc)
        return
    ensure_tz(rt, client, actor)  # "waived until" is a day in the lead's time zone (one quick users.info)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _ballot(meta: dict, values: dict) -> decisions.Ballot:
    conditions = []
    for n in range(1, decisions.MAX_CONDITIONS + 1):
        text_id, owner_id, due_id = gate_views.condition_ids(n)
        conditions.append(decisions.Condition(values.get(text_id) or "", values.get(owner_id),
                                              parse_date(values.get(due_id))))
    return decisions.Ballot(outcome=str(meta.get("o")), reason=values.get(Field.REASON) or "",
                            conditions=conditions, reopen=list(values.get(Field.REOPEN) or []))


def register(app: App, rt: Runtime) -> None:
    settings = rt.ctx.settings

    def settled(client, user_id: str, home: bool) -> None:
        if home:
            publish_home(rt, client, user_id)
        rt.kick()

    @app.action(re.compile(rf"^{re.escape(Action.GATE_DECIDE)}:"))
    def decide(ack, body, client, respond):
        ack()
        actor = body["user"]["id"]
        action = body["actions"][0]
        outcome = action["action_id"].split(":", 1)[1]
        data = json_object(action.get("value"))
        gate_id, round_ = int(data.get("g") or 0), int(data.get("r") or 0)
        home = from_home(body)
        now = rt.ctx.now()
        if outcome == Outcome.GO:
            try:
                with unit_of_work(rt.ctx.engine) as session:
                    result = decisions.cast_vote(session, gate_id, round_, actor, decisions.Ballot(Outcome.GO),
                                                 now=now, settings=settings)
                    reply = gate_views.vote_reply(result.gate, Outcome.GO, result.decision, result.go_votes,
                                                  result.needed)
            except ServiceError as exc:
                _refuse_on_home(client, body, respond, exc)
                return
            if not home:
                tell(client, body, respond, ephemeral(reply, escape=False))
            settled(client, actor, home)
            return
        if outcome not in gate_views.MODAL_TITLES:
            tell(client, body, respond, ephemeral("That option is not available any more."))
            return
        try:
            with unit_of_work(rt.ctx.engine) as session:
                launch, gate = decisions.check(session, gate_id, round_, actor, now)
                view = gate_views.decision_modal(
                    outcome, gate, launch, round_, decisions.review_items(session, gate), today=now.date(),
                    private_metadata=json.dumps({"g": gate_id, "r": round_, "o": outcome, "h": int(home)}))
        except ServiceError as exc:
            _refuse_on_home(client, body, respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submitted(ack, body, client, run, refused: str) -> None:
        """Run `run(session, actor, meta, values)`: field errors go back into the modal; a
        refusal or a conflict replaces it with a notice titled `refused`."""
        meta = run_submission(rt.ctx.engine, ack, body, run, lambda exc: {
            "response_action": "update", "view": gate_views.notice_modal(refused, str(exc)).to_dict()})
        if meta is not None:
            settled(client, body["user"]["id"], bool(meta.get("h")))

    @app.view(Callback.GATE_DECISION)
    def decision_submitted(ack, body, client):
        submitted(ack, body, client, lambda session, actor, meta, values: decisions.cast_vote(
            session, int(meta.get("g") or 0), int(meta.get("r") or 0), actor, _ballot(meta, values),
            now=rt.ctx.now(), settings=settings), "Not recorded")

    @app.action(Action.ITEM_WAIVE)
    def waive_clicked(ack, body, client, respond):
        ack()
        open_waive_modal(rt, client, body, respond, int(body["actions"][0].get("value") or 0))

    def picked(meta: dict, values: dict, missing: str) -> int:
        item_id = meta.get("i") or values.get(Field.ITEM)
        if not item_id:
            raise FieldErrors({Field.ITEM: missing})
        return int(item_id)

    @app.view(Callback.ITEM_WAIVE)
    def waive_submitted(ack, body, client):
        submitted(ack, body, client, lambda session, actor, meta, values: waivers.waive(
            session, picked(meta, values, "Pick the item to waive."), actor, values.get(Field.REASON) or "",
            parse_date(values.get(Field.EXPIRES)), now=rt.ctx.now(), settings=settings), "Not waived")

    @app.view(Callback.ITEM_UNWAIVE)
    def unwaive_submitted(ack, body, client):
        submitted(ack, body, client, lambda session, actor, meta, values: waivers.revoke(
            session, picked(meta, values, "Pick the item whose waiver you take back."), actor,
            values.get(Field.REASON) or "", now=rt.ctx.now(), settings=settings), "Not revoked")


def timeline_command(rt: Runtime, ack, client, body, args: list[str]):
    """`/launch timeline LR-12 [how many]`: the latest events, newest first (ephemeral)."""
    limit = min(int(args[1]), TIMELINE_MAX) if len(args) > 1 and args[1].isdigit() else TIMELINE_DEFAULT
    with unit_of_work(rt.ctx.engine) as session:
        launch = launches.get_launch(session, args[0] if args else "")
        entries = timeline.entries(session, launch, limit=limit)
        blocks = timeline_views.timeline_blocks(launch, entries, user_tz(session, body["user_id"]),
                                                timeline.count(session, launch))
    ack(response_type="ephemeral", text=f"{launch.key} timeline", blocks=[b.to_dict() for b in blocks])


def resume_command(rt: Runtime, ack, client, body, args: list[str]):
    """`/launch resume LR-12`: lift a Hold (launch owner or readiness lead)."""
    with unit_of_work(rt.ctx.engine) as session:
        launch = launches.get_launch(session, args[0] if args else "")
        decisions.resume(session, launch, body["user_id"], now=rt.ctx.now(), settings=rt.ctx.settings)
    ack(ephemeral(f"{launch.key} is running again: prompts restart and the held gate gets a fresh review "
                  "once its items are answered.", escape=False))
    rt.kick()


def _item_picker(rt: Runtime, ack, client, body, args: list[str], pick, modal, nothing: str, needs_tz: bool) -> None:
    """`/launch waive|unwaive KEY`: readiness leads pick one of `pick(session, launch)` in `modal`;
    with nothing to pick, say `nothing` (formatted with the key) instead."""
    actor = body["user_id"]
    with unit_of_work(rt.ctx.engine) as session:
        launch = launches.get_launch(session, args[0] if args else "")
        waivers.check(session, launch, actor, rt.ctx.now())
        items = pick(session, launch)
        view = modal(launch, items, gates.gates_of(session, launch.id),
                     private_metadata=json.dumps({"l": launch.id})) if items else None
    if view is None:
        ack(ephemeral(nothing.format(key=launch.key), escape=False))
        return
    ack()
    if needs_tz:
        ensure_tz(rt, client, actor)  # "waived until" is a day in the lead's time zone (one quick users.info)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def waive_command(rt: Runtime, ack, client, body, args: list[str]):
    """`/launch waive LR-12`: pick an open item, give a reason and an optional end date."""
    _item_picker(rt, ack, client, body, args, waivers.waivable, gate_views.waive_modal,
                 "Every item of {key} is answered or waived; there is nothing to waive.", needs_tz=True)


def unwaive_command(rt: Runtime, ack, client, body, args: list[str]):
    """`/launch unwaive LR-12`: pick a waived item and say why the waiver is taken back."""
    _item_picker(rt, ack, client, body, args, waivers.waived_items, gate_views.unwaive_modal,
                 "No item of {key} is waived; there is nothing to take back.", needs_tz=False)
