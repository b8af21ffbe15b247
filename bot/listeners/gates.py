"""Decision buttons, the decision and waiver modals, and `/launch timeline|waive|unwaive`.

Thin: parse the payload, call bot.services.decisions / waivers / timeline,
answer. Buttons ack at once; Go records the vote, the other outcomes open a
modal after checking (and auditing) that the person may decide at all.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import gate_views, timeline_views
from bot.blocks.ids import Action, Callback, Field
from bot.codecs import DecisionModal, ItemAction, PayloadError, VoteValue, WaiveModal
from bot.delivery.gateway import SlackGateway
from bot.runtime import Runtime
from bot.services import decisions, gates, item_forms, launches, timeline, waivers
from bot.services.errors import ServiceError
from bot.services.recipients import user_tz
from models import Outcome

from .common import STALE, ephemeral, from_home, parse_date, problem, run_submission, runtime, tell, open_modal
from .home import settled

log = logging.getLogger(__name__)
TIMELINE_DEFAULT = 30
TIMELINE_MAX = 200


def _refuse_on_home(client: WebClient, body: dict, respond: Respond, exc: ServiceError | str) -> None:
    """From the Home tab there is no channel to answer in: show the reason in a small modal."""
    if from_home(body):
        try:
            client.views_open(trigger_id=body["trigger_id"],
                              view=gate_views.notice_modal("Not possible", str(exc)))
            return
        except SlackApiError as err:
            log.warning("could not show the refusal: %s", err.response.get("error"))
    tell(client, body, respond, problem(exc) if isinstance(exc, ServiceError) else ephemeral(exc))


def open_waive_modal(rt: Runtime, client: WebClient, body: dict, respond: Respond, item_id: int) -> None:
    """The waive modal for one item (review messages, escalations, Home); readiness leads only."""
    actor = body["user"]["id"]
    try:
        with rt.unit_of_work() as session:
            item, launch = item_forms.check_form(session, item_id, "waive", actor, rt.ctx.now())
            view = gate_views.waive_modal(launch, [], [], fixed=item, private_metadata=WaiveModal(
                item=item.id, home=int(from_home(body))).encode())
    except ServiceError as exc:
        _refuse_on_home(client, body, respond, exc)
        return
    SlackGateway(rt.ctx, client).ensure_tz(actor)  # "waived until" is a day in the lead's time zone
    open_modal(client, body, view)


def _ballot(meta: DecisionModal, values: dict) -> decisions.Ballot:
    conditions = []
    for n in range(1, decisions.MAX_CONDITIONS + 1):
        text_id, owner_id, due_id = gate_views.condition_ids(n)
        conditions.append(decisions.Condition(values.get(text_id) or "", values.get(owner_id),
                                              parse_date(values.get(due_id))))
    return decisions.Ballot(outcome=meta.outcome, reason=values.get(Field.REASON) or "",
                            conditions=conditions, reopen=list(values.get(Field.REOPEN) or []))


# -- buttons -------------------------------------------------------------------------------

def decide(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    rt = runtime(context)
    actor = body["user"]["id"]
    action = body["actions"][0]
    outcome = action["action_id"].split(":", 1)[1]
    try:
        vote = VoteValue.decode(action.get("value"))
    except PayloadError:
        _refuse_on_home(client, body, respond, STALE)
        return
    home = from_home(body)
    now = rt.ctx.now()
    if outcome == Outcome.GO:
        try:
            def go(session):
                result = decisions.cast_vote(session, vote.gate, vote.round, actor, decisions.Ballot(Outcome.GO),
                                             now=now, settings=rt.ctx.settings)
                return gate_views.vote_reply(result.gate, Outcome.GO, result.decision, result.go_votes,
                                             result.needed)

            reply = rt.transaction(go)
        except ServiceError as exc:
            _refuse_on_home(client, body, respond, exc)
            return
        if not home:
            tell(client, body, respond, ephemeral(reply, escape=False))
        settled(rt, actor, home)
        return
    if outcome not in gate_views.MODAL_TITLES:
        tell(client, body, respond, ephemeral("That option is not available any more."))
        return
    try:
        with rt.unit_of_work() as session:
            launch, gate = decisions.check(session, vote.gate, vote.round, actor, now)
            view = gate_views.decision_modal(
                outcome, gate, launch, vote.round, decisions.review_items(session, gate), today=now.date(),
                private_metadata=DecisionModal(gate=vote.gate, round=vote.round, outcome=outcome,
                                               home=int(home)).encode())
    except ServiceError as exc:
        _refuse_on_home(client, body, respond, exc)
        return
    open_modal(client, body, view)


def waive_clicked(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    try:
        ref = ItemAction.decode(body["actions"][0].get("value"))
    except PayloadError:
        _refuse_on_home(client, body, respond, STALE)
        return
    open_waive_modal(runtime(context), client, body, respond, ref.item)


# -- modal submissions ---------------------------------------------------------------------

def _submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext, codec, run, refused: str) -> None:
    """Run `run(rt, session, actor, meta, values)`: field errors go back into the modal; a
    refusal or a conflict replaces it with a notice titled `refused`."""
    rt = runtime(context)
    meta = run_submission(rt, ack, body, codec, lambda session, actor, meta, values: run(
        rt, session, actor, meta, values), lambda exc: {
        "response_action": "update", "view": gate_views.notice_modal(refused, str(exc)).to_dict()})
    if meta is not None:
        settled(rt, body["user"]["id"], bool(meta.home))


def decision_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _submitted(ack, body, client, context, DecisionModal, lambda rt, session, actor, meta, values: decisions.cast_vote(
        session, meta.gate, meta.round, actor, _ballot(meta, values), now=rt.ctx.now(),
        settings=rt.ctx.settings), "Not recorded")


def _picked(meta: WaiveModal, values: dict) -> int | None:
    """The fixed item, or the one picked in the modal (an option value we wrote); None: none picked."""
    if meta.item:
        return meta.item
    try:
        return ItemAction.decode(values[Field.ITEM]).item if values.get(Field.ITEM) else None
    except PayloadError:
        return None


def waive_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _submitted(ack, body, client, context, WaiveModal, lambda rt, session, actor, meta, values: waivers.waive(
        session, _picked(meta, values), actor, values.get(Field.REASON) or "",
        parse_date(values.get(Field.EXPIRES)), now=rt.ctx.now(), settings=rt.ctx.settings), "Not waived")


def unwaive_submitted(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    _submitted(ack, body, client, context, WaiveModal, lambda rt, session, actor, meta, values: waivers.revoke(
        session, _picked(meta, values), actor,
        values.get(Field.REASON) or "", now=rt.ctx.now(), settings=rt.ctx.settings), "Not revoked")


def register(app: App) -> None:
    app.action(re.compile(rf"^{re.escape(Action.GATE_DECIDE)}:"))(decide)
    app.action(Action.ITEM_WAIVE)(waive_clicked)
    app.view(Callback.GATE_DECISION)(decision_submitted)
    app.view(Callback.ITEM_WAIVE)(waive_submitted)
    app.view(Callback.ITEM_UNWAIVE)(unwaive_submitted)


# -- /launch sub-commands (listed in commands.SUBCOMMANDS) ---------------------------------

def timeline_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    """`/launch timeline LR-12 [how many]`: the latest events, newest first (ephemeral)."""
    limit = min(int(args[1]), TIMELINE_MAX) if len(args) > 1 and args[1].isdigit() else TIMELINE_DEFAULT
    with rt.read_only() as session:
        launch = launches.get_launch(session, args[0] if args else "", viewer=body["user_id"])
        entries = timeline.entries(session, launch, limit=limit)
        blocks = timeline_views.timeline_blocks(launch, entries, user_tz(session, body["user_id"]),
                                                timeline.count(session, launch))
    ack(response_type="ephemeral", text=f"{launch.key} timeline", blocks=[b.to_dict() for b in blocks])


def _item_picker(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str], pick, modal, nothing: str,
                 needs_tz: bool) -> None:
    """`/launch waive|unwaive KEY`: readiness leads pick one of `pick(session, launch)` in `modal`;
    with nothing to pick, say `nothing` (formatted with the key) instead."""
    actor = body["user_id"]
    with rt.unit_of_work() as session:
        launch = launches.get_launch(session, args[0] if args else "", viewer=actor)
        waivers.check(session, launch, actor, rt.ctx.now())
        items = pick(session, launch)
        view = modal(launch, items, gates.gates_of(session, launch.id),
                     private_metadata=WaiveModal(launch=launch.id).encode()) if items else None
    if view is None:
        ack(ephemeral(nothing.format(key=launch.key), escape=False))
        return
    ack()
    if needs_tz:
        SlackGateway(rt.ctx, client).ensure_tz(actor)  # "waived until" is a day in the lead's time zone
    open_modal(client, body, view)


def waive_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    """`/launch waive LR-12`: pick an open item, give a reason and an optional end date."""
    _item_picker(rt, ack, client, body, args, waivers.waivable, gate_views.waive_modal,
                 "Every item of {key} is answered or waived; there is nothing to waive.", needs_tz=True)


def unwaive_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    """`/launch unwaive LR-12`: pick a waived item and say why the waiver is taken back."""
    _item_picker(rt, ack, client, body, args, waivers.waived_items, gate_views.unwaive_modal,
                 "No item of {key} is waived; there is nothing to take back.", needs_tz=False)
