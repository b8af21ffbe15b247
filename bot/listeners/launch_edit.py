"""`/launch edit KEY`: the Change launch date modal (launch owner or readiness lead)."""
from __future__ import annotations

import json
import logging

from slack_bolt import App

from bot.blocks import answer_modals
from bot.blocks.ids import Callback, Field
from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import launch_edit

from .common import ephemeral, parse_date, run_submission

log = logging.getLogger(__name__)


def edit_command(rt: Runtime, ack, client, body, args: list[str]):
    if not args:
        ack(ephemeral("Which launch? Try `/launch edit LR-12` (`/launch list` shows the keys).", escape=False))
        return
    with unit_of_work(rt.ctx.engine) as session:  # a refusal raises here, is audited, and is shown by commands.py
        launch = launch_edit.open_for_edit(session, args[0], actor=body["user_id"], now=rt.ctx.now())
    ack()
    view = answer_modals.launch_edit_modal(launch, private_metadata=json.dumps({"l": launch.id}))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: App, rt: Runtime) -> None:
    @app.view(Callback.LAUNCH_EDIT)
    def submitted(ack, body):
        changes: list[launch_edit.DateChange] = []

        def run(session, actor, meta, values):
            changes.append(launch_edit.change_date(
                session, int(meta.get("l") or 0), parse_date(values.get(Field.LAUNCH_DATE)), actor=actor,
                now=rt.ctx.now(), settings=rt.ctx.settings, reason=values.get(Field.REASON)))

        if run_submission(rt.ctx.engine, ack, body, run, lambda exc: {
                "response_action": "errors", "errors": {Field.LAUNCH_DATE: str(exc)[:1000]}}) is None:
            return
        change = changes[0]
        log.info("%s moved to %s by %s (%d due dates)", change.launch.key, change.new_date, body["user"]["id"],
                 change.moved_count)
        rt.kick()
