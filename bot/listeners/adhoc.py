"""`/launch add KEY` and `/launch remove KEY`: the ad-hoc item modals (owner or readiness lead)."""
from __future__ import annotations

import json

from slack_bolt import App

from bot.blocks import adhoc_views, gate_views
from bot.blocks.ids import Action, Callback, Field
from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import adhoc, gates, stakeholders
from bot.services.errors import FieldErrors, ServiceError

from .common import ephemeral, json_object, parse_date, problem, run_submission, tell

FIELD_BLOCKS = {"question": Field.QUESTION, "owner_role": Field.OWNER_ROLE, "gate": Field.GATE, "due": Field.DUE,
                "answer_kind": Field.ANSWER_KIND, "reason": Field.REASON}


def add_command(rt: Runtime, ack, client, body, args: list[str]):
    actor = body["user_id"]
    with unit_of_work(rt.ctx.engine) as session:  # a refusal raises, is audited, and is shown by commands.py
        launch = adhoc.check(session, args[0] if args else "", actor, rt.ctx.now())
        open_gates = adhoc.open_gates(session, launch)
        view = adhoc_views.add_item_modal(launch, open_gates, adhoc.roles_of(session, launch),
                                          current=open_gates[0] if open_gates else None,
                                          private_metadata=json.dumps({"l": launch.id}))
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def remove_command(rt: Runtime, ack, client, body, args: list[str]):
    actor = body["user_id"]
    with unit_of_work(rt.ctx.engine) as session:
        launch = adhoc.check(session, args[0] if args else "", actor, rt.ctx.now(), action="remove")
        items = adhoc.removable(session, launch)
        view = adhoc_views.remove_item_modal(launch, items, gates.gates_of(session, launch.id),
                                             private_metadata=json.dumps({"l": launch.id})) if items else None
    if view is None:
        ack(ephemeral(f"{launch.key} has no open items to remove.", escape=False))
        return
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _form(values: dict) -> adhoc.ItemForm:
    gate = values.get(Field.GATE)
    return adhoc.ItemForm(
        question=values.get(Field.QUESTION) or "", owner_role=values.get(Field.OWNER_ROLE),
        owner_id=values.get(Field.OWNER), gate_id=int(gate) if gate and str(gate).isdigit() else None,
        due=parse_date(values.get(Field.DUE)), required=adhoc_views.REQUIRED in (values.get(Field.REQUIRED) or []),
        answer_kind=values.get(Field.ANSWER_KIND) or "confirm")


def register(app: App, rt: Runtime) -> None:
    @app.action(Action.ROSTER_ADD)
    def roster_clicked(ack, body, client, respond):
        ack()
        actor = body["user"]["id"]
        launch_id = int(body["actions"][0].get("value") or 0) if str(body["actions"][0].get("value") or "").isdigit() \
            else 0
        try:
            with unit_of_work(rt.ctx.engine) as session:
                launch = adhoc.check(session, f"LR-{launch_id}", actor, rt.ctx.now(), action="change who is on")
                roles = sorted({r for r, _ in stakeholders.roster(session, launch.id)}
                               | stakeholders.item_roles(session, launch))
                view = adhoc_views.roster_modal(launch, roles, private_metadata=json.dumps({"l": launch.id}))
        except ServiceError as exc:
            tell(client, body, respond, problem(exc))
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(Callback.ROSTER_ADD)
    def roster_submitted(ack, body):
        if run_submission(rt.ctx.engine, ack, body, lambda session, actor, meta, values: stakeholders.add_member(
                session, int(meta.get("l") or 0), values.get(Field.ROLE), values.get(Field.USER), actor=actor,
                now=rt.ctx.now()), lambda exc: {"response_action": "update", "view": gate_views.notice_modal(
                    "Not added", str(exc)).to_dict()}) is not None:
            rt.kick()

    def refused(exc):
        return {"response_action": "update", "view": gate_views.notice_modal("Not saved", str(exc)).to_dict()}

    def with_blocks(run):
        """Field errors keyed by the service's names go next to the modal's inputs."""
        def wrapped(session, actor, meta, values):
            try:
                run(session, actor, meta, values)
            except FieldErrors as exc:
                raise FieldErrors({FIELD_BLOCKS.get(k, k): v for k, v in exc.errors.items()}) from None
        return wrapped

    @app.view(Callback.ITEM_ADD)
    def add_submitted(ack, body):
        if run_submission(rt.ctx.engine, ack, body, with_blocks(lambda session, actor, meta, values: adhoc.add_item(
                session, int(json_object(body["view"].get("private_metadata")).get("l") or 0), _form(values),
                actor=actor, now=rt.ctx.now(), settings=rt.ctx.settings)), refused) is not None:
            rt.kick()

    @app.view(Callback.ITEM_REMOVE)
    def remove_submitted(ack, body):
        def run(session, actor, meta, values):
            item = values.get(Field.ITEM)
            if not item:
                raise FieldErrors({Field.ITEM: "Pick the item to remove."})
            adhoc.remove_item(session, int(item), values.get(Field.REASON), actor=actor, now=rt.ctx.now())

        if run_submission(rt.ctx.engine, ack, body, with_blocks(run), refused) is not None:
            rt.kick()

