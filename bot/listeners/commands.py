"""`/launch` and its sub-commands."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import launch_views
from bot.runtime import Runtime
from bot.services import directory, launches, permissions, portfolio
from bot.services.errors import Forbidden, ServiceError

from . import adhoc, capacity, gates, launch_edit, lifecycle, links, people
from .common import answer_later, ephemeral, open_modal, problem, runtime

log = logging.getLogger(__name__)


def new_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    try:
        with rt.unit_of_work() as session:
            permissions.check_may_open(session, rt.ctx.settings, body.get("user_id") or "", rt.ctx.now())
    except Forbidden as exc:
        ack(ephemeral(str(exc), escape=False))
        return
    ack()
    with rt.read_only() as session:
        leads = directory.members(session, "readiness_lead")
    view = launch_views.launch_modal(sorted(rt.ctx.templates), leads[0] if leads else None, rt.ctx.now().date(),
                                     private_metadata=body.get("channel_id", ""))
    open_modal(client, body, view)


def list_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    """Acked at once; the page follows through the response_url (common.answer_later)."""
    def page() -> dict:
        with rt.read_only() as session:  # never queues behind a writer (SQLite: no write lock)
            filters = portfolio.parse(session, args)
            found = portfolio.list_launches(session, body["user_id"], filters, now=rt.ctx.now())
            blocks = launch_views.launch_list_page(found)
        return {"response_type": "ephemeral", "text": f"{found.total} launch(es)",
                "blocks": [b.to_dict() for b in blocks]}

    answer_later(rt, ack, client, body, page)


def status_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    """Acked at once; the status follows through the response_url (common.answer_later)."""
    def status() -> dict:
        with rt.read_only() as session:
            launch = launches.get_launch(session, args[0] if args else "", viewer=body["user_id"])
            blocks = launch_views.launch_status(launches.overview(session, launch))
        return {"response_type": "ephemeral", "text": f"{launch.key} status", "blocks": [b.to_dict() for b in blocks]}

    answer_later(rt, ack, client, body, status)


def help_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    ack(response_type="ephemeral", text="launchgate help", blocks=[b.to_dict() for b in launch_views.help_blocks()])


# `/launch <word>` → handler(rt, ack, client, body, args): every sub-command, written out.
SUBCOMMANDS = {
    "": new_command, "new": new_command,
    "list": list_command, "ls": list_command,
    "status": status_command,
    "help": help_command, "?": help_command,
    "edit": launch_edit.edit_command,
    "timeline": gates.timeline_command, "history": gates.timeline_command,
    "hold": lifecycle.hold_command, "pause": lifecycle.hold_command,
    "resume": lifecycle.resume_command,
    "cancel": lifecycle.cancel_command,
    "add": adhoc.add_command,
    "remove": adhoc.remove_command, "rm": adhoc.remove_command,
    "waive": gates.waive_command,
    "unwaive": gates.unwaive_command, "revoke": gates.unwaive_command,
    "current": links.current_command,
    "capacity": capacity.capacity_command,
    "forecasts": capacity.forecasts_command,
    "away": people.away_command,
    "summary": people.summary_command,
}


def launch_command(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    words = (body.get("text") or "").split()
    name = words[0].lower() if words else ""
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        ack(ephemeral(f"I don't know `/launch {name}`. Try `/launch help`.", escape=False)
            if name.isalnum() else ephemeral("I don't know that sub-command. Try `/launch help`."))
        return
    try:
        handler(runtime(context), ack, client, body, words[1:])
    except ServiceError as exc:
        ack(problem(exc))


def register(app: App) -> None:
    app.command("/launch")(launch_command)
