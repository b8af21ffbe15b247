"""`/launch` and its sub-commands."""
from __future__ import annotations

import logging

from slack_bolt import App

from bot.blocks import launch_views
from bot.db import unit_of_work
from bot.runtime import Runtime
from bot.services import directory, launches
from bot.services.errors import ServiceError

from . import gates, launch_edit
from .common import ephemeral, problem

log = logging.getLogger(__name__)


def new_command(rt: Runtime, ack, client, body, args: list[str]):
    ack()
    with unit_of_work(rt.ctx.engine) as session:
        leads = directory.members(session, "readiness_lead")
    view = launch_views.launch_modal(sorted(rt.ctx.templates), leads[0] if leads else None, rt.ctx.now().date(),
                                     private_metadata=body.get("channel_id", ""))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def list_command(rt: Runtime, ack, client, body, args):
    with unit_of_work(rt.ctx.engine) as session:
        blocks = launch_views.launch_list(launches.list_open(session))
    ack(response_type="ephemeral", text="Open launches", blocks=[b.to_dict() for b in blocks])


def status_command(rt: Runtime, ack, client, body, args):
    with unit_of_work(rt.ctx.engine) as session:
        launch = launches.get_launch(session, args[0] if args else "")
        blocks = launch_views.launch_status(launches.overview(session, launch))
    ack(response_type="ephemeral", text=f"{launch.key} status", blocks=[b.to_dict() for b in blocks])


def help_command(rt: Runtime, ack, client, body, args):
    ack(response_type="ephemeral", text="launchgate help", blocks=[b.to_dict() for b in launch_views.help_blocks()])


# `/launch <word>` → handler(rt, ack, client, body, args): every sub-command, written out.
SUBCOMMANDS = {
    "": new_command, "new": new_command,
    "list": list_command, "ls": list_command,
    "status": status_command,
    "help": help_command, "?": help_command,
    "edit": launch_edit.edit_command,
    "timeline": gates.timeline_command, "history": gates.timeline_command,
    "resume": gates.resume_command,
    "waive": gates.waive_command,
    "unwaive": gates.unwaive_command, "revoke": gates.unwaive_command,
}


def register(app: App, rt: Runtime) -> None:
    @app.command("/launch")
    def launch_command(ack, body, client):
        words = (body.get("text") or "").split()
        name = words[0].lower() if words else ""
        handler = SUBCOMMANDS.get(name)
        if handler is None:
            ack(ephemeral(f"I don't know `/launch {name}`. Try `/launch help`.", escape=False)
                if name.isalnum() else ephemeral("I don't know that sub-command. Try `/launch help`."))
            return
        try:
            handler(rt, ack, client, body, words[1:])
        except ServiceError as exc:
            ack(problem(exc))
