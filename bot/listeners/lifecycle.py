"""`/launch hold|resume|cancel KEY [reason]`: steer a launch at any time (owner or readiness lead).

Thin: the service checks who may, records it and queues every message.
"""
from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.services import lifecycle

from .common import ephemeral


def _key_and_reason(args: list[str]) -> tuple[str, str]:
    return (args[0] if args else ""), " ".join(args[1:])


def _told(n: int) -> str:
    return f"{n} item owner{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} told." if n else ""


def hold_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    key, reason = _key_and_reason(args)
    with rt.unit_of_work() as session:
        launch, told = lifecycle.hold(session, key, body["user_id"], reason, now=rt.ctx.now())
    ack(ephemeral(f"⏸️ {launch.key} is on hold. Prompts and reminders are paused; {_told(told)} "
                  f"`/launch resume {launch.key}` starts them again.", escape=False))
    rt.kick()


def resume_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    key, _ = _key_and_reason(args)
    with rt.unit_of_work() as session:
        launch, told = lifecycle.resume(session, key, body["user_id"], now=rt.ctx.now(), settings=rt.ctx.settings)
    ack(ephemeral(f"▶️ {launch.key} is running again: prompts restart and a held gate gets a fresh review once its "
                  f"items are answered. {_told(told)}", escape=False))
    rt.kick()


def cancel_command(rt: Runtime, ack: Ack, client: WebClient, body: dict, args: list[str]) -> None:
    key, reason = _key_and_reason(args)
    with rt.unit_of_work() as session:
        launch, told = lifecycle.cancel(session, key, body["user_id"], reason, now=rt.ctx.now())
    ack(ephemeral(f"🛑 {launch.key} is cancelled. Every prompt has stopped; {_told(told)}", escape=False))
    rt.kick()
