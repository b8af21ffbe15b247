"""`/launch add KEY`, `/launch remove KEY` and "Someone's missing…": ad-hoc items and the stakeholder list.

Thin: the services (bot/services/adhoc.py, stakeholders.py) check who may, record it and
queue every message; field problems go back next to the modal's inputs.
"""
from __future__ import annotations


from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import adhoc_views, gate_views
from bot.blocks.ids import Action, Callback, Field
from bot.codecs import LaunchModal
from bot.runtime import Runtime
from bot.services import adhoc, gates, stakeholders
from bot.services.errors import FieldErrors, ServiceError

from .common import ephemeral, parse_date, problem, run_submission, runtime, tell, open_modal


FIELD_BLOCKS = {"question": Field.QUESTION, "owner_role": Field.OWNER_ROLE, "gate": Field.GATE, "due": Field.DUE,
                "answer_kind": Field.ANSWER_KIND, "reason": Field.REASON, "role": Field.ROLE, "user": Field.USER}


def add_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    actor = body["user_id"]
    with rt.unit_of_work() as session:  # a refusal raises, is audited, and is shown by commands.py
        launch = adhoc.check(session, args[0] if args else "", actor, rt.ctx.now())
        open_gates = adhoc.open_gates(session, launch)
        view = adhoc_views.add_item_modal(launch, open_gates, adhoc.roles_of(session, launch),
                                          current=open_gates[0] if open_gates else None,
                                          private_metadata=LaunchModal(launch=launch.id).encode())
    ack()
    open_modal(client, body, view)


def remove_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    actor = body["user_id"]
    with rt.unit_of_work() as session:
        launch = adhoc.check(session, args[0] if args else "", actor, rt.ctx.now(), action="remove")
        items = adhoc.removable(session, launch)
        view = adhoc_views.remove_item_modal(launch, items, gates.gates_of(session, launch.id),
                                             private_metadata=LaunchModal(launch=launch.id).encode()) if items else None
    if view is None:
        ack(ephemeral(f"{launch.key} has no open items to remove.", escape=False))
        return
    ack()
    open_modal(client, body, view)


def _form(values: dict) -> adhoc.ItemForm:
    gate = values.get(Field.GATE)
    return adhoc.ItemForm(
        question=values.get(Field.QUESTION) or "", owner_role=values.get(Field.OWNER_ROLE),
        owner_id=values.get(Field.OWNER), gate_id=int(gate) if gate and str(gate).isdigit() else None,
        due=parse_date(values.get(Field.DUE)), required=adhoc_views.REQUIRED in (values.get(Field.REQUIRED) or []),
        answer_kind=values.get(Field.ANSWER_KIND) or "confirm")


def _in_blocks(run):
    """Field errors keyed by the service's names go next to the modal's inputs."""
    def wrapped(session, actor: str, meta: LaunchModal, values: dict) -> None:
        try:
            run(session, actor, meta, values)
        except FieldErrors as exc:
            raise FieldErrors({FIELD_BLOCKS.get(k, k): v for k, v in exc.errors.items()}) from None
    return wrapped


def _refused(title: str):
    return lambda exc: {"response_action": "update", "view": gate_views.notice_modal(title, str(exc)).to_dict()}


def add_submitted(ack: Ack, body: dict, context: BoltContext) -> None:
    rt = runtime(context)
    if run_submission(rt, ack, body, LaunchModal, _in_blocks(lambda session, actor, meta, values: adhoc.add_item(
            session, meta.launch, _form(values), actor=actor, now=rt.ctx.now(), settings=rt.ctx.settings)),
            _refused("Not saved")) is not None:
        rt.kick()


def remove_submitted(ack: Ack, body: dict, context: BoltContext) -> None:
    rt = runtime(context)

    def run(session, actor: str, meta: LaunchModal, values: dict) -> None:
        item = str(values.get(Field.ITEM) or "")
        adhoc.remove_item(session, int(item) if item.isdigit() else None, values.get(Field.REASON), actor=actor,
                          now=rt.ctx.now())

    if run_submission(rt, ack, body, LaunchModal, _in_blocks(run), _refused("Not removed")) is not None:
        rt.kick()


def roster_clicked(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    rt = runtime(context)
    actor = body["user"]["id"]
    raw = str(body["actions"][0].get("value") or "")
    try:
        with rt.unit_of_work() as session:
            launch = adhoc.check(session, f"LR-{raw}" if raw.isdigit() else "", actor, rt.ctx.now(),
                                 action="change who is on")
            roles = sorted({r for r, _ in stakeholders.roster(session, launch.id)}
                           | stakeholders.item_roles(session, launch))
            view = adhoc_views.roster_modal(launch, roles, private_metadata=LaunchModal(launch=launch.id).encode())
    except ServiceError as exc:
        tell(client, body, respond, problem(exc))
        return
    open_modal(client, body, view, respond)


def roster_submitted(ack: Ack, body: dict, context: BoltContext) -> None:
    rt = runtime(context)
    if run_submission(rt, ack, body, LaunchModal, _in_blocks(lambda session, actor, meta, values: stakeholders.add_member(
            session, meta.launch, values.get(Field.ROLE), values.get(Field.USER), actor=actor, now=rt.ctx.now())),
            _refused("Not added")) is not None:
        rt.kick()


def register(app: App) -> None:
    app.view(Callback.ITEM_ADD)(add_submitted)
    app.view(Callback.ITEM_REMOVE)(remove_submitted)
    app.action(Action.ROSTER_ADD)(roster_clicked)
    app.view(Callback.ROSTER_ADD)(roster_submitted)
