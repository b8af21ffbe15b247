"""`/launch edit KEY`: the Change launch date modal (launch owner or readiness lead)."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import answer_modals
from bot.blocks.ids import Callback, Field
from bot.codecs import LaunchModal
from bot.runtime import Runtime
from bot.services import launch_edit

from .common import ephemeral, parse_date, run_submission, runtime, open_modal

log = logging.getLogger(__name__)


def edit_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    if not args:
        ack(ephemeral("Which launch? Try `/launch edit LR-12` (`/launch list` shows the keys).", escape=False))
        return
    with rt.unit_of_work() as session:  # a refusal raises here, is audited, and is shown by commands.py
        launch = launch_edit.open_for_edit(session, args[0], actor=body["user_id"], now=rt.ctx.now())
    ack()
    view = answer_modals.launch_edit_modal(launch, private_metadata=LaunchModal(launch=launch.id).encode())
    open_modal(client, body, view)


def submitted(ack: Ack, body: dict, context: BoltContext) -> None:
    rt = runtime(context)
    changes: list[launch_edit.DateChange] = []

    def run(session, actor: str, meta: LaunchModal, values: dict) -> None:
        changes.append(launch_edit.change_date(
            session, meta.launch, parse_date(values.get(Field.LAUNCH_DATE)), actor=actor,
            now=rt.ctx.now(), settings=rt.ctx.settings, reason=values.get(Field.REASON)))

    if run_submission(rt, ack, body, LaunchModal, run, lambda exc: {
            "response_action": "errors", "errors": {Field.LAUNCH_DATE: str(exc)[:1000]}}) is None:
        return
    change = changes[0]
    log.info("%s moved to %s by %s (%d due dates)", change.launch.key, change.new_date, body["user"]["id"],
             change.moved_count)
    rt.kick()


def register(app: App) -> None:
    app.view(Callback.LAUNCH_EDIT)(submitted)
